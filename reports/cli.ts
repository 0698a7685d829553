/**
 * The report commands of the `threatlens` command line (registered by cli/main.ts):
 *   report --entity ISO3|--region R --framework ID --year Y [--format html|pdf] [--out FILE] [--draft]
 *   reports list|search|show|render|compare
 * The command line is the operator: it reads every batch (engine/access ALL_DATA); a report built
 * from restricted batches is marked and stored as restricted all the same.
 */
import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { BUILTIN_FRAMEWORKS, loadFramework } from '../datasets/frameworks/index.ts';
import { OSCE_SUBREGIONS } from '../datasets/reference/osce.ts';
import { listIndicators } from '../engine/store/catalogue.ts';
import type { Store } from '../engine/store/database.ts';
import { getReportDocument, listReports, sha256Hex, type HandlingLevel, type ReportQuery } from '../engine/store/reports.ts';
import { PdfRenderer } from './pdf.ts';
import { compareReport, draftReport, findReport, publishReport, rerenderReport } from './publish.ts';

type WithStore = <T>(work: (store: Store) => Promise<T>) => Promise<T>;

const stderr = (line: string) => process.stderr.write(`${line}\n`);
const actor = () => `cli:${process.env.USER ?? 'unknown'}`;

function integer(name: string) {
  return (text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
    return n;
  };
}

interface FilterOptions {
  entity?: string;
  region?: string;
  crimeArea?: string;
  year?: number;
  from?: number;
  to?: number;
  framework?: string;
  handling?: HandlingLevel;
  limit: number;
}

function withFilters(command: Command): Command {
  return command
    .option('--entity <iso3>', 'a state the report covers')
    .option('--region <name>', `a region (${OSCE_SUBREGIONS.join(', ')})`)
    .option('--crime-area <area>', 'a crime area the report ranks as a priority')
    .option('--year <year>', 'the year assessed', integer('year'))
    .option('--from <year>', 'first year', integer('from'))
    .option('--to <year>', 'last year', integer('to'))
    .option('--framework <id>', 'framework id')
    .addOption(new Option('--handling <level>', 'handling level').choices(['public', 'restricted', 'owner']))
    .option('--limit <n>', 'at most this many (1-200)', integer('limit'), 50);
}

function query(opts: FilterOptions, text?: string): ReportQuery {
  return {
    ...(opts.entity ? { entity: opts.entity.toUpperCase() } : {}),
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.crimeArea ? { crimeArea: opts.crimeArea } : {}),
    ...(opts.year !== undefined ? { year: opts.year } : {}),
    ...(opts.from !== undefined ? { fromYear: opts.from } : {}),
    ...(opts.to !== undefined ? { toYear: opts.to } : {}),
    ...(opts.framework ? { framework: opts.framework } : {}),
    ...(opts.handling ? { handling: opts.handling } : {}),
    ...(text !== undefined ? { text } : {}),
    limit: opts.limit,
  };
}

async function withPdf<T>(wanted: boolean, work: (pdf: PdfRenderer | null) => Promise<T>): Promise<T> {
  const pdf = wanted ? new PdfRenderer() : null;
  try {
    return await work(pdf);
  } finally {
    await pdf?.close();
  }
}

export function registerReportCommands(program: Command, withStore: WithStore): void {
  program
    .command('report')
    .description('publish a threat assessment report about one participating state or one region (HTML and PDF, stored immutably in the library); --draft renders it without publishing')
    .requiredOption('--framework <id|path>', `a built-in framework (${BUILTIN_FRAMEWORKS.join(', ')}) or a framework JSON file`)
    .requiredOption('--year <year>', 'the year assessed', integer('year'))
    .option('--entity <iso3>', 'ISO3 code of a participating state')
    .option('--region <name>', `a region: ${OSCE_SUBREGIONS.join(', ')}`)
    .option('--seed <n>', 'seed of the Monte Carlo (default 20261122)', integer('seed'))
    .option('--runs <n>', 'Monte Carlo runs (default 1000)', integer('runs'))
    .addOption(new Option('--format <format>', 'the document written to --out').choices(['html', 'pdf']).default('html'))
    .option('--out <file>', 'where to write the document (default: <reference>.<format>)')
    .option('--purpose <text>', 'why the report is made (recorded in the audit log)')
    .option('--draft', 'render without storing the report in the library')
    .option('--no-pdf', 'publish without a PDF (no Chromium needed; --format html only)')
    .action(async (opts: { framework: string; year: number; entity?: string; region?: string; seed?: number; runs?: number; format: 'html' | 'pdf'; out?: string; purpose?: string; draft?: boolean; pdf: boolean }) => {
      const printPdf = opts.format === 'pdf' || (opts.pdf && !opts.draft);
      const result = await withStore((store) =>
        withPdf(printPdf, async (pdf) => {
          const framework = await loadFramework(opts.framework, new Set((await listIndicators(store.db)).map((i) => i.code)));
          const spec = {
            year: opts.year,
            ...(opts.entity ? { entity: opts.entity.toUpperCase() } : {}),
            ...(opts.region ? { region: opts.region } : {}),
            ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
            ...(opts.runs !== undefined ? { runs: opts.runs } : {}),
          };
          const publisher = { by: actor(), role: 'operator', purpose: opts.purpose ?? null };
          if (opts.draft) {
            const draft = await draftReport(store.db, framework, spec, publisher, { pdf });
            return { reference: draft.inputs.report.reference, id: null, title: draft.inputs.report.title, handling: draft.inputs.report.handling, html: draft.html, pdf: draft.pdf, published: false };
          }
          const report = await publishReport(store.db, framework, spec, publisher, { pdf });
          const html = (await getReportDocument(store.db, report.id, 'html'))!.content as string;
          const stored = opts.format === 'pdf' ? await getReportDocument(store.db, report.id, 'pdf') : undefined;
          return { reference: report.reference, id: report.id, title: report.title, handling: report.handling, html, pdf: (stored?.content as Uint8Array | undefined) ?? null, published: true };
        }),
      );
      const content = opts.format === 'pdf' ? result.pdf! : result.html;
      const file = opts.out ?? `${result.reference}.${opts.format}`;
      await writeFile(file, content);
      if (result.handling.level !== 'public') stderr(`${result.reference} is ${result.handling.level.toUpperCase()}: releasable to ${result.handling.allowedAgencies.join(', ') || 'no agency'}`);
      console.log(JSON.stringify({ id: result.id, reference: result.reference, title: result.title, published: result.published, handling: result.handling, file, format: opts.format, bytes: content.length, sha256: sha256Hex(content) }, null, 2));
    });

  const reports = program.command('reports').description('the library of published reports');
  withFilters(reports.command('list').description('list published reports (newest first) as JSON')).action(async (opts: FilterOptions) => {
    const result = await withStore((store) => listReports(store.db, query(opts)));
    console.log(JSON.stringify(result, null, 2));
  });
  withFilters(
    reports
      .command('search')
      .description('full-text search of published reports (title, executive summary, text; English stemming; web-search syntax: words, "a phrase", -excluded, or)')
      .argument('<text>', 'what to look for'),
  ).action(async (text: string, opts: FilterOptions) => {
    const result = await withStore((store) => listReports(store.db, query(opts, text)));
    console.log(JSON.stringify(result, null, 2));
  });
  reports
    .command('show')
    .description('a published report: metadata, handling, input batches and provenance, as JSON')
    .argument('<ref>', 'report id or reference (TLR-...)')
    .action(async (ref: string) => {
      console.log(JSON.stringify(await withStore((store) => findReport(store.db, ref)), null, 2));
    });
  reports
    .command('render')
    .description('render a published report again from its stored inputs and say whether it is byte for byte the published document')
    .argument('<ref>', 'report id or reference (TLR-...)')
    .addOption(new Option('--format <format>', 'document').choices(['html', 'pdf']).default('html'))
    .option('--out <file>', 'where to write it (default: <reference>.rerendered.<format>)')
    .action(async (ref: string, opts: { format: 'html' | 'pdf'; out?: string }) => {
      const result = await withStore((store) => withPdf(opts.format === 'pdf', (pdf) => rerenderReport(store.db, ref, opts.format, { pdf })));
      const file = opts.out ?? `${result.reference}.rerendered.${opts.format}`;
      await writeFile(file, result.content);
      if (!result.identical) stderr(`warning: the re-rendered ${opts.format} differs from the published one (renderer ${result.publishedRendererVersion} then, ${result.rendererVersion} now); the published document is kept as it was`);
      const { content: _content, ...rest } = result;
      console.log(JSON.stringify({ ...rest, file }, null, 2));
    });
  reports
    .command('compare')
    .description('what changed since a report was published: the same framework, year, seed and runs on the current data')
    .argument('<ref>', 'report id or reference (TLR-...)')
    .addOption(new Option('--format <format>', 'json, or text: one line per change').choices(['json', 'text']).default('json'))
    .option('--framework <id|path>', 'the framework to compare with (default: the report\'s, which must then be built in)')
    .action(async (ref: string, opts: { format: 'json' | 'text'; framework?: string }) => {
      const comparison = await withStore(async (store) => {
        const report = await findReport(store.db, ref);
        const framework = await loadFramework(opts.framework ?? report.framework.id, new Set((await listIndicators(store.db)).map((i) => i.code)));
        return compareReport(store.db, report.id, framework);
      });
      console.log(opts.format === 'json' ? JSON.stringify(comparison, null, 2) : comparison.summary.join('\n'));
    });
}
