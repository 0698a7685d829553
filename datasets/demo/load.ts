/**
 * Loading the synthetic demo panel into an empty store, through the same ingestion path as any
 * other file, so that its provenance (file hash, batch) is recorded like real data's.
 */
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Store } from '../../engine/store/database.ts';
import type { Database } from '../../engine/store/schema.ts';
import { ingestFile, type IngestSummary } from '../ingest.ts';
import { writeDemoFiles } from './generate.ts';

export const DEMO_SOURCE = 'SYNTHETIC demo panel (ThreatLens generator)';

export async function storeIsEmpty(db: Kysely<Database>): Promise<boolean> {
  const row = await db.selectFrom('ingestion_batches').select('id').limit(1).executeTakeFirst();
  return row === undefined;
}

/** Writes the demo files into `dir` and ingests the panel; returns the ingestion summary. */
export async function loadDemoData(store: Store, dir: string, seed?: number): Promise<IngestSummary & { truthPath: string }> {
  const { csvPath, truthPath } = await writeDemoFiles(dir, seed === undefined ? {} : { seed });
  const summary = await ingestFile(store, csvPath, {
    format: 'long',
    source: DEMO_SOURCE,
    synthetic: true,
    actor: 'demo-loader',
  });
  return { ...summary, truthPath: join(truthPath) };
}
