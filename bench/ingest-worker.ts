/**
 * Ingests one file into the store at DATABASE_URL-like argv[2] in its own process, so that the
 * peak memory (maxRSS) measured is the ingestion's alone. Prints one JSON line.
 */
import { ingestFile } from '../datasets/ingest.ts';
import { registerIndicators, seedReferenceData } from '../engine/store/catalogue.ts';
import { openStore } from '../engine/store/database.ts';
import { benchIndicators } from './data.ts';

const [url, file, rowsText] = process.argv.slice(2);
if (!url || !file || !rowsText) throw new Error('usage: ingest-worker URL|pglite:DIR FILE ROWS');
const store = await openStore(url.startsWith('pglite:') ? { dataDir: url.slice('pglite:'.length) } : { databaseUrl: url });
await seedReferenceData(store.db);
// ROWS = 0: a real file whose indicators the catalogue already has.
if (Number(rowsText) > 0) await registerIndicators(store.db, benchIndicators(Number(rowsText)));
const started = performance.now();
const summary = await ingestFile(store, file, { source: 'benchmark' });
const seconds = (performance.now() - started) / 1000;
await store.close();
console.log(JSON.stringify({ rows: summary.accepted, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
