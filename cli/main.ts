/**
 * The `threatlens` command line. Each command validates its options, calls the engine, and prints
 * JSON (or CSV) on stdout; progress and messages go to stderr so that stdout can be piped.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { basename } from 'node:path';
import { DEFAULT_PORT, prepareStore, serveUntilSignalled } from '../api/server.ts';
import { ingestFile, type IngestOptions } from '../datasets/ingest.ts';
import { BUILTIN_INDICATORS } from '../datasets/reference/indicators.ts';
import { ratePlans } from '../engine/ingest/rates.ts';
import { deriveStoredRates } from '../engine/store/rates.ts';
import { writeDemoFiles } from '../datasets/demo/generate.ts';
import { DEFAULT_FETCH_TIMEOUT_MS, fetchAndIngest, fetchSource, findSource } from '../datasets/fetch.ts';
import { FETCH_SOURCES } from '../datasets/sources.ts';
import { buildQualityReport } from '../engine/quality/report.ts';
import { formatQualityText } from '../engine/quality/text.ts';
import { loadQualityInput } from '../engine/store/quality.ts';
import { formatIssue, ThreatLensError } from '../engine/errors.ts';
import { BUILTIN_FRAMEWORKS, loadFramework } from '../datasets/frameworks/index.ts';
import { frameworkNodeIds, scoreFrameworkYear } from '../engine/scoring/framework-scores.ts';
import { createAssessment, frameworkScoreTable, type AssessmentResult } from '../engine/scoring/assessment-run.ts';
import { refreshRiskScores } from '../engine/scoring/refresh.ts';
import { SIMPLE_COMPOSITE_METHOD } from '../engine/scoring/simple-composite.ts';
import { listIndicators, registerIndicators, seedReferenceData } from '../engine/store/catalogue.ts';
import { openStore, storeOptionsFromEnv, type Store } from '../engine/store/database.ts';
import { getRiskScores, scoredYears } from '../engine/store/risk-scores.ts';
import { CRIME_AREAS, SHARING_LEVELS, type CrimeArea, type SharingLevel } from '../engine/types.ts';
import { registerReportCommands } from '../reports/cli.ts';
import { registerModelCommands } from './models.ts';
import { isRole, ROLES, type Role } from '../engine/access/roles.ts';
import { apiRoleGrantStatements, auditEntries, verifyAuditChain } from '../engine/store/audit.ts';
import { sql } from 'kysely';
import { createAgency, createApiKey, DEFAULT_KEY_DAYS, listAgencies, listApiKeys, revokeApiKey } from '../engine/store/keys.ts';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const program = new Command()
  .name('threatlens')
  .description('ThreatLens: crime indicators in, risk scores out, for the 57 OSCE participating states.\n' +
    'Store: PGlite in ./.threatlens (THREATLENS_DATA_DIR), or PostgreSQL when DATABASE_URL=postgres://... is set.')
  .showHelpAfterError();

const stderr = (line: string) => process.stderr.write(`${line}\n`);

async function withStore<T>(work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(storeOptionsFromEnv());
  try {
    await seedReferenceData(store.db);
    return await work(store);
  } finally {
    await store.close();
  }
}

function integer(name: string) {
  return (text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
    return n;
  };
}

program
  .command('serve')
  .description('migrate the store, load the demo data if it is empty, compute scores and serve the API')
  .option('-p, --port <port>', 'port (or PORT)', integer('port'), Number(process.env.PORT ?? DEFAULT_PORT))
  .option('--host <host>', 'interface to listen on (or HOST)', process.env.HOST ?? '127.0.0.1')
  .option('--no-demo', 'do not load the synthetic demo data into an empty store')
  .option('--demo-access [role]', `serve requests without a credential as this role of agency "demo" (default analyst; npm start uses it; logs a warning): never on a server others can reach`)
  .action(async (opts: { port: number; host: string; demo: boolean; demoAccess?: boolean | string }) => {
    const demoAccessRole = opts.demoAccess === undefined ? undefined : opts.demoAccess === true ? 'analyst' : opts.demoAccess;
    if (demoAccessRole !== undefined && !isRole(demoAccessRole)) throw new ThreatLensError('TL_BAD_OPTION', `--demo-access: "${demoAccessRole}" is not one of ${ROLES.join(', ')}`);
    await serveUntilSignalled({ port: opts.port, host: opts.host, demoIfEmpty: opts.demo, ...(demoAccessRole ? { demoAccessRole } : {}), log: stderr });
  });

program
  .command('ingest')
  .description('ingest a CSV file (long: entity,period,indicator,value[,unit,source]; wide: entity,period,<indicator>...)')
  .argument('<file>', 'CSV file')
  .addOption(new Option('--format <format>', 'table layout (goci: a GI-TOC Global Organized Crime Index table; owid: an Our World in Data grapher CSV; wgi: World Bank governance indicators; eurostat: a Eurostat bulk TSV; unodc-cts: a UNODC data-portal CSV; wdi: a World Bank WDI download or population table; mps-borough: the London MPS monthly borough file; unodc-glotip, unodc-seizures: the UNODC trafficking-in-persons and drug-seizure workbooks; goci also reads the GI-TOC .xlsx workbook)').choices(['auto', 'long', 'wide', 'goci', 'owid', 'wgi', 'eurostat', 'unodc-cts', 'wdi', 'mps-borough', 'unodc-glotip', 'unodc-seizures']).default('auto'))
  .option('--period <period>', 'period of every value, for files of one period (a GOCI edition year)')
  .option('--source <name>', 'publisher or dataset name (default: the file name)')
  .option('--owner <agency>', 'owner agency code', 'public')
  .addOption(new Option('--sharing <level>', 'who may read it').choices([...SHARING_LEVELS]).default('public'))
  .option('--shared-with <agencies>', 'comma-separated agencies a restricted batch is shared with')
  .option('--grade <code>', 'grade of source and information: Admiralty (B2) or Europol 4x4 (europol:A1); default: the connector\'s (A1 World Bank and Eurostat, A2 UNODC, B2 GI-TOC and OWID, F6 generic files)')
  .option('--no-derive-rates', 'do not derive rates per 100,000 from stored counts and population afterwards')
  .option('--skip-invalid', 'store the valid rows and write the rejected ones, with reasons, to a report')
  .option('--reject-report <path>', 'where --skip-invalid writes rejected rows (default FILE.rejected.csv)')
  .option('--no-rescore', 'do not recompute risk scores afterwards')
  .action(async (file: string, opts: {
    format: 'auto' | 'long' | 'wide' | 'goci' | 'owid' | 'wgi' | 'eurostat' | 'unodc-cts' | 'wdi' | 'mps-borough' | 'unodc-glotip' | 'unodc-seizures'; period?: string; source?: string; owner: string; sharing: SharingLevel; sharedWith?: string;
    grade?: string; skipInvalid?: boolean; rejectReport?: string; rescore: boolean; deriveRates: boolean;
  }) => {
    const summary = await withStore(async (store) => {
      const bar = process.stderr.isTTY ? new SingleBar({ format: 'ingest {bar} {percentage}% | {value}/{total} MB', stream: process.stderr }, Presets.shades_classic) : undefined;
      let started = false;
      const options: IngestOptions = {
        format: opts.format,
        owner: opts.owner,
        sharing: opts.sharing,
        ...(opts.grade ? { grade: opts.grade } : {}),
        actor: `cli:${process.env.USER ?? 'unknown'}`,
        ...(opts.source ? { source: opts.source } : {}),
        ...(opts.period ? { period: opts.period } : {}),
        ...(opts.sharedWith ? { sharedWith: opts.sharedWith.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
        ...(opts.skipInvalid ? { skipInvalid: true, rejectReportPath: opts.rejectReport ?? `${basename(file)}.rejected.csv` } : {}),
        ...(bar
          ? {
              onProgress: (bytes: number, total: number) => {
                const mb = (n: number) => Math.round((n / 1e6) * 10) / 10;
                if (!started) {
                  bar.start(mb(total), 0);
                  started = true;
                }
                bar.update(mb(bytes));
              },
            }
          : {}),
      };
      try {
        const result = await ingestFile(store, file, options);
        // A new count or population batch may allow rates the sources did not publish (a batch of its own).
        const derivedRates = opts.deriveRates && !result.skippedAsDuplicate
          ? await deriveStoredRates(store, ratePlans(BUILTIN_INDICATORS), { actor: options.actor! })
          : undefined;
        if (opts.rescore && !result.skippedAsDuplicate) await refreshRiskScores(store.db);
        return derivedRates ? { ...result, derivedRates } : result;
      } finally {
        bar?.stop();
      }
    });
    const { issues, ...rest } = summary;
    console.log(JSON.stringify({ ...rest, issuesShown: issues.length }, null, 2));
    if (issues.length > 0) stderr(`rejected rows (first ${Math.min(issues.length, 20)}):\n  ${issues.slice(0, 20).map(formatIssue).join('\n  ')}`);
  });

program
  .command('score')
  .description('print risk scores for a year: the simple composite, or a framework (--framework)')
  .option('--framework <id|path>', `a built-in framework (${BUILTIN_FRAMEWORKS.join(', ')}) or a framework JSON file`)
  .option('--year <year>', 'year (default: latest scored; required with --framework)', integer('year'))
  .option('--node <node>', 'simple composite only: `overall` or a crime area', 'overall')
  .option('--all-entities', 'with --framework: score every entity with data (GI-TOC has 193 countries), not only the 57 participating states')
  .addOption(new Option('--format <format>', 'output format').choices(['json', 'csv']).default('json'))
  .action(async (opts: { framework?: string; year?: number; node: string; allEntities?: boolean; format: 'json' | 'csv' }) => {
    await withStore(async (store) => {
      if (opts.framework) {
        if (opts.year === undefined) throw new ThreatLensError('TL_BAD_OPTION', '--year is required with --framework');
        const known = new Set((await listIndicators(store.db)).map((i) => i.code));
        const framework = await loadFramework(opts.framework, known);
        const nodes = frameworkNodeIds(framework);
        // The 57 participating states, as the API and assessments compare them; or every entity with data.
        const rows = opts.allEntities
          ? (await scoreFrameworkYear(store.db, framework, opts.year)).map((r) => ({ entity: r.entity, scores: Object.fromEntries(r.scores) }))
          : (await frameworkScoreTable(store.db, framework, opts.year)).rows.filter((r) => Object.values(r.scores).some((v) => v !== null)).sort((a, b) => a.entity.localeCompare(b.entity));
        if (rows.length === 0) throw new ThreatLensError('TL_NO_SCORES', `No data for framework ${framework.id} in ${opts.year}; ingest its indicators first.`);
        if (opts.format === 'csv') {
          console.log(['entity', ...nodes].join(','));
          for (const r of rows) console.log([r.entity, ...nodes.map((n) => (r.scores[n] ?? null)?.toFixed(4) ?? '')].join(','));
        } else {
          const scores = rows.map((r) => ({ entity: r.entity, ...Object.fromEntries(nodes.map((n) => [n, r.scores[n] ?? null])) }));
          console.log(JSON.stringify({ framework: framework.id, version: framework.version, year: opts.year, units: opts.allEntities ? 'all entities with data' : 'OSCE participating states', scores }, null, 2));
        }
        return;
      }
      let years = await scoredYears(store.db, SIMPLE_COMPOSITE_METHOD);
      if (years.length === 0) {
        await refreshRiskScores(store.db);
        years = await scoredYears(store.db, SIMPLE_COMPOSITE_METHOD);
      }
      const year = opts.year ?? years[years.length - 1];
      if (year === undefined || !years.includes(year)) {
        throw new ThreatLensError('TL_NO_SCORES', `No risk scores for ${opts.year ?? 'any year'}; ingest data first.`);
      }
      const rows = await getRiskScores(store.db, SIMPLE_COMPOSITE_METHOD, year, opts.node);
      if (opts.format === 'csv') {
        console.log('entity,name,score,rank');
        for (const r of rows) console.log([r.entity_code, JSON.stringify(r.name), r.score?.toFixed(3) ?? '', r.rank ?? ''].join(','));
      } else {
        console.log(JSON.stringify({ method: SIMPLE_COMPOSITE_METHOD, year, node: opts.node, scores: rows }, null, 2));
      }
    });
  });

program
  .command('assess')
  .description('a threat assessment of one participating state (or all 57): scores, band, rank with its Monte Carlo interval, confidence, trend, drivers, threat matrix, narrative; stored with its provenance')
  .requiredOption('--framework <id|path>', `a built-in framework (${BUILTIN_FRAMEWORKS.join(', ')}) or a framework JSON file`)
  .requiredOption('--year <year>', 'the year assessed', integer('year'))
  .option('--entity <iso3>', 'ISO3 code of a participating state (default: all 57)')
  .option('--seed <n>', 'seed of the Monte Carlo (default 20261122)', integer('seed'))
  .option('--runs <n>', 'Monte Carlo runs (default 1000)', integer('runs'))
  .option('--purpose <text>', 'why the assessment is made (recorded in the audit log)')
  .addOption(new Option('--format <format>', 'json: the stored assessment; text: the narrative and the threat matrix').choices(['json', 'text']).default('json'))
  .action(async (opts: { framework: string; year: number; entity?: string; seed?: number; runs?: number; purpose?: string; format: 'json' | 'text' }) => {
    const stored = await withStore(async (store) => {
      const known = new Set((await listIndicators(store.db)).map((i) => i.code));
      const framework = await loadFramework(opts.framework, known);
      return createAssessment(store.db, framework, {
        year: opts.year,
        ...(opts.entity ? { entity: opts.entity.toUpperCase() } : {}),
        ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
        ...(opts.runs !== undefined ? { runs: opts.runs } : {}),
        requestedBy: `cli:${process.env.USER ?? 'unknown'}`,
        purpose: opts.purpose ?? null,
      });
    });
    if (opts.format === 'json') {
      console.log(JSON.stringify(stored, null, 2));
      return;
    }
    const result = stored.result as AssessmentResult;
    console.log(`Assessment ${stored.id}: ${result.framework.title} v${result.framework.version}, ${result.year}; data ${stored.dataVersion}, code ${stored.codeVersion}, seed ${stored.seed}`);
    for (const e of result.entities) {
      console.log(`\n${e.name} (${e.entity})\n${e.narrative}`);
      console.log('  crime area            scale  trend           harm  priority');
      for (const c of e.threatMatrix.cells) {
        console.log(`  ${c.crimeArea.padEnd(22)}${(c.scale?.toFixed(1) ?? '-').padStart(5)}  ${c.trend.padEnd(15)} ${String(c.harm).padStart(4)}  ${c.priority === null ? '-' : `${c.priority}. ${c.priorityClass} (${c.priorityScore!.toFixed(1)})`}`);
      }
    }
  });

program
  .command('quality')
  .description('the data-quality report: coverage of the 57 participating states, missingness, latest years, out-of-range values, duplicates, level shifts, grades')
  .option('--batch <id>', 'only this batch (duplicates still compare it with the others)', integer('batch'))
  .option('--indicator <code>', 'only this indicator')
  .option('--from <year>', 'first year of the window', integer('from'))
  .option('--to <year>', 'last year of the window and reference year for recency', integer('to'))
  .addOption(new Option('--format <format>', 'text: tables for a terminal; json: the API\'s GET /v1/quality answer').choices(['text', 'json']).default('text'))
  .action(async (opts: { batch?: number; indicator?: string; from?: number; to?: number; format: 'text' | 'json' }) => {
    if (opts.from !== undefined && opts.to !== undefined && opts.from > opts.to) throw new ThreatLensError('TL_BAD_OPTION', `--from (${opts.from}) is after --to (${opts.to})`);
    const report = await withStore(async (store) =>
      buildQualityReport(
        await loadQualityInput(store.db, {
          ...(opts.batch !== undefined ? { batch: opts.batch } : {}),
          ...(opts.indicator ? { indicator: opts.indicator } : {}),
          ...(opts.from !== undefined ? { fromYear: opts.from } : {}),
          ...(opts.to !== undefined ? { toYear: opts.to } : {}),
        }),
      ),
    );
    process.stdout.write(opts.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatQualityText(report));
  });

program
  .command('fetch')
  .description(`download a publisher's current file (${FETCH_SOURCES.map((s) => s.id).join(', ')}); THREATLENS_FETCH_MIRROR or THREATLENS_FETCH_BASE_<SOURCE> point it elsewhere`)
  .argument('<source>', 'the source to download')
  .option('--out <dir>', 'directory to save into', '.')
  .option('--ingest', 'ingest the downloaded file as one batch')
  .option('--grade <code>', 'with --ingest: Admiralty grade of source and information, e.g. B2', 'C3')
  .option('--timeout <seconds>', 'give up after this many seconds per request', integer('timeout'), DEFAULT_FETCH_TIMEOUT_MS / 1000)
  .option('--no-rescore', 'with --ingest: do not recompute risk scores afterwards')
  .action(async (id: string, opts: { out: string; ingest?: boolean; grade: string; timeout: number; rescore: boolean }) => {
    findSource(id);
    const fetchOptions = { outDir: opts.out, timeoutMs: opts.timeout * 1000 };
    if (!opts.ingest) {
      const fetched = await fetchSource(id, fetchOptions);
      stderr(`saved ${fetched.file} (${fetched.bytes} bytes, sha256 ${fetched.sha256})`);
      console.log(JSON.stringify(fetched, null, 2));
      return;
    }
    const result = await withStore(async (store) => {
      const done = await fetchAndIngest(store, id, { ...fetchOptions, ingest: { grade: opts.grade, actor: `cli:${process.env.USER ?? 'unknown'}` } });
      if (opts.rescore && !done.ingested.skippedAsDuplicate) await refreshRiskScores(store.db);
      return done;
    });
    stderr(`saved ${result.fetched.file} (${result.fetched.bytes} bytes, sha256 ${result.fetched.sha256})`);
    const { issues, ...ingested } = result.ingested;
    console.log(JSON.stringify({ ...result.fetched, ingested: { ...ingested, issuesShown: issues.length } }, null, 2));
  });

program
  .command('demo')
  .description('write the SYNTHETIC demo panel and its ground truth (planted anomalies, breaks) to a directory')
  .option('--dir <dir>', 'output directory', 'demo-data')
  .option('--seed <seed>', 'random seed', integer('seed'))
  .action(async (opts: { dir: string; seed?: number }) => {
    const result = await writeDemoFiles(opts.dir, opts.seed === undefined ? {} : { seed: opts.seed });
    console.log(JSON.stringify(result, null, 2));
  });

program
  .command('migrate')
  .description('create or update the store schema and reference data, and load the demo data if the store is empty')
  .option('--no-demo', 'do not load the demo data')
  .action(async (opts: { demo: boolean }) => {
    const store = await prepareStore(storeOptionsFromEnv(), opts.demo, stderr);
    await store.close();
  });

const indicators = program.command('indicators').description('the indicator catalogue');
indicators
  .command('list')
  .description('list the catalogue as JSON')
  .action(async () => {
    await withStore(async (store) => console.log(JSON.stringify(await listIndicators(store.db), null, 2)));
  });
indicators
  .command('add')
  .description('register (or update) an indicator')
  .requiredOption('--code <code>', 'stable code, e.g. homicide_rate')
  .requiredOption('--name <name>', 'human-readable name')
  .requiredOption('--unit <unit>', 'unit, e.g. "per 100,000 population"')
  .addOption(new Option('--crime-area <area>', 'crime area').choices([...CRIME_AREAS]).makeOptionMandatory())
  .addOption(new Option('--polarity <polarity>', 'whether higher means worse').choices(['higher_worse', 'higher_better']).makeOptionMandatory())
  .option('--description <text>', 'definition')
  .action(async (opts: { code: string; name: string; unit: string; crimeArea: CrimeArea; polarity: 'higher_worse' | 'higher_better'; description?: string }) => {
    await withStore(async (store) => {
      await registerIndicators(store.db, [
        { code: opts.code, name: opts.name, unit: opts.unit, crimeArea: opts.crimeArea, polarity: opts.polarity, ...(opts.description ? { description: opts.description } : {}) },
      ]);
      console.log(JSON.stringify({ registered: opts.code }));
    });
  });

/** Changes made from the command line are audited as the operating-system user. */
const cliActor = () => ({ actor: `cli:${process.env.USER ?? 'unknown'}`, role: 'operator' });

const agencies = program.command('agencies').description('agencies: who owns and shares data, and whom keys belong to');
agencies
  .command('list')
  .description('list agencies as JSON')
  .action(async () => {
    await withStore(async (store) => console.log(JSON.stringify(await listAgencies(store.db), null, 2)));
  });
agencies
  .command('add')
  .description('create an agency (audited)')
  .requiredOption('--code <code>', 'lower-case code, e.g. nl-police')
  .requiredOption('--name <name>', 'name')
  .action(async (opts: { code: string; name: string }) => {
    await withStore(async (store) => console.log(JSON.stringify(await createAgency(store.db, opts.code, opts.name, cliActor()), null, 2)));
  });

const keys = program.command('keys').description('API keys: stored hashed, shown once, revocable, with an expiry');
keys
  .command('create')
  .description('create an API key and print it (once: only its hash is stored); audited')
  .requiredOption('--agency <code>', 'the agency it acts for (threatlens agencies add)')
  .addOption(new Option('--role <role>', 'what it may do').choices([...ROLES]).makeOptionMandatory())
  .requiredOption('--name <name>', 'who or what uses it')
  .option('--expires-in-days <days>', `days until it expires (default ${DEFAULT_KEY_DAYS})`, integer('expires-in-days'))
  .action(async (opts: { agency: string; role: Role; name: string; expiresInDays?: number }) => {
    const created = await withStore((store) =>
      createApiKey(store.db, { name: opts.name, agency: opts.agency, role: opts.role, ...(opts.expiresInDays !== undefined ? { expiresInDays: opts.expiresInDays } : {}) }, cliActor()),
    );
    stderr(`API key ${created.id} (${created.role} of ${created.agency}, expires ${created.expiresAt}). Store it now: it is not shown again.`);
    console.log(JSON.stringify(created, null, 2));
  });
keys
  .command('list')
  .description('list API keys as JSON (never the keys themselves)')
  .option('--all', 'include revoked and expired keys')
  .action(async (opts: { all?: boolean }) => {
    await withStore(async (store) => console.log(JSON.stringify(await listApiKeys(store.db, { includeInactive: opts.all === true }), null, 2)));
  });
keys
  .command('revoke')
  .description('revoke an API key (a running server stops accepting it within THREATLENS_KEY_CACHE_SECONDS, 10 s by default); audited')
  .argument('<id>', 'the key id (12 hex characters, from keys list)')
  .action(async (id: string) => {
    await withStore(async (store) => console.log(JSON.stringify(await revokeApiKey(store.db, id, cliActor()), null, 2)));
  });

const audit = program.command('audit').description('the hash-chained audit trail');
audit
  .command('verify')
  .description('recompute the hash chain: report entries altered, removed or reordered (exit code 1 if any)')
  .option('--anchor <hash>', 'a head hash noted earlier: check it is still in the chain (detects removal at the end)')
  .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
  .action(async (opts: { anchor?: string; format: 'text' | 'json' }) => {
    if (opts.anchor !== undefined && !/^[0-9a-f]{64}$/.test(opts.anchor)) throw new ThreatLensError('TL_BAD_OPTION', '--anchor must be a 64-character hex hash (the head printed by an earlier verify)');
    const result = await withStore((store) => verifyAuditChain(store.db, opts.anchor !== undefined ? { anchor: opts.anchor } : {}));
    if (opts.format === 'json') {
      console.log(JSON.stringify(result, null, 2));
    } else {
      console.log(`${result.ok ? 'OK' : 'TAMPERED'}: ${result.entries} entries${result.firstId !== null ? ` (ids ${result.firstId}-${result.lastId})` : ''}, head ${result.head ?? '-'}`);
      if (result.anchor) console.log(`anchor ${result.anchor.hash}: ${result.anchor.foundAt === null ? 'NOT FOUND' : `entry ${result.anchor.foundAt}`}`);
      for (const p of result.problems) console.log(`  ${p.kind.padEnd(14)} ${p.id ?? '-'}  ${p.message}`);
      if (result.truncated) console.log('  ... more problems not listed');
    }
    if (!result.ok) process.exitCode = 1;
  });
audit
  .command('export')
  .description('write the whole audit trail: JSON lines (with hashes, for independent verification) or CSV')
  .addOption(new Option('--format <format>', 'jsonl or csv').choices(['jsonl', 'csv']).default('jsonl'))
  .option('--out <file>', 'file to write (default stdout)')
  .action(async (opts: { format: 'jsonl' | 'csv'; out?: string }) => {
    await withStore(async (store) => {
      const out = opts.out ? createWriteStream(opts.out) : process.stdout;
      const write = async (text: string) => {
        if (!out.write(text)) await once(out, 'drain');
      };
      const columns = ['id', 'at', 'actor', 'agency', 'role', 'action', 'details', 'purpose', 'outcome', 'prevHash', 'hash'] as const;
      const cell = (v: unknown) => {
        const text = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
        return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
      };
      if (opts.format === 'csv') await write(`${columns.join(',')}\n`);
      for await (const e of auditEntries(store.db)) await write(opts.format === 'jsonl' ? `${JSON.stringify(e)}\n` : `${columns.map((c) => cell(e[c])).join(',')}\n`);
      if (opts.out) {
        (out as ReturnType<typeof createWriteStream>).end();
        await once(out, 'finish');
      }
    });
  });

audit
  .command('grant-api-role')
  .description('PostgreSQL: grant a role what the API needs, with SELECT and INSERT only on the audit log (run as the owner, after migrate)')
  .argument('<role>', 'an existing PostgreSQL role (the user in the API\'s DATABASE_URL)')
  .action(async (role: string) => {
    await withStore(async (store) => {
      if (store.kind !== 'postgres') throw new ThreatLensError('TL_BAD_OPTION', 'grant-api-role is for PostgreSQL (DATABASE_URL): PGlite has no roles; its audit log is protected by the append-only trigger');
      const statements = apiRoleGrantStatements(role);
      await store.db.transaction().execute(async (trx) => {
        for (const statement of statements) await sql.raw(statement).execute(trx);
      });
      console.log(JSON.stringify({ role, granted: statements }, null, 2));
    });
  });

program
  .command('token')
  .description('sign a JWT for the API with THREATLENS_JWT_SECRET (for tests and single-host setups; an identity provider signs them otherwise)')
  .requiredOption('--subject <sub>', 'who it is for')
  .requiredOption('--agency <code>', 'agency code')
  .addOption(new Option('--role <role>', 'role').choices([...ROLES]).makeOptionMandatory())
  .option('--expires-in <seconds>', 'lifetime in seconds (default 3600)', integer('expires-in'), 3600)
  .action(async (opts: { subject: string; agency: string; role: Role; expiresIn: number }) => {
    const secret = process.env.THREATLENS_JWT_SECRET;
    if (!secret || secret.length < 32) throw new ThreatLensError('TL_BAD_OPTION', 'set THREATLENS_JWT_SECRET (at least 32 characters) in the environment: the server verifies tokens with it');
    if (opts.expiresIn <= 0 || opts.expiresIn > 86400 * 30) throw new ThreatLensError('TL_BAD_OPTION', '--expires-in must be 1 to 2592000 seconds (30 days)');
    const { signJwt } = await import('../api/auth/tokens.ts');
    console.log(signJwt({ sub: opts.subject, agency: opts.agency, role: opts.role }, secret, opts.expiresIn));
  });

registerReportCommands(program, withStore);
registerModelCommands(program, withStore, integer);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ThreatLensError) {
    stderr(`error ${error.code}: ${error.message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
