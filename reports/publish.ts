/**
 * The report library's operations: publish (build the inputs, render HTML and PDF, store all of it
 * immutably), render a draft without storing it, re-render a published report from its stored
 * inputs (and say whether the result is byte-identical to what was published), and compare a
 * published report with what the current data gives.
 */
import type { Kysely } from 'kysely';
import { ALL_DATA, type DataScope } from '../engine/access/roles.ts';
import { ThreatLensError } from '../engine/errors.ts';
import { assess, type AssessmentResult } from '../engine/scoring/assessment.ts';
import { frameworkParamsHash, loadAssessmentContext } from '../engine/scoring/assessment-run.ts';
import { runAssistancePriorities } from '../engine/scoring/assistance-run.ts';
import type { Framework } from '../engine/scoring/framework.ts';
import { dataVersion } from '../engine/store/observations.ts';
import { getReport, getReportDocument, getReportInputs, insertReport, resolveReportId, sha256Hex, type ReportInputBatch, type StoredReport } from '../engine/store/reports.ts';
import type { Database } from '../engine/store/schema.ts';
import { codeVersion } from '../engine/version.ts';
import { buildReportInputs, type Publisher, type ReportSpec } from './build.ts';
import { sentencesText } from './executive-summary.ts';
import { REPORT_RENDERER_VERSION, type ReportInputs } from './model.ts';
import type { PdfRenderer } from './pdf.ts';
import { renderReportHtml } from './render-html.ts';

const humanise = (code: string) => code.replace(/_/g, ' ');

/** Text the full-text search indexes besides title and summary: names, areas, narratives, indicators. */
function searchTextOf(inputs: ReportInputs): string {
  const codes = new Set(inputs.report.entities);
  const entities = inputs.api.assessment.result.entities.filter((e) => codes.has(e.entity));
  return [
    inputs.subject.region ?? '',
    ...inputs.subject.states.map((s) => `${s.name} ${s.code}`),
    ...inputs.report.crimeAreas.map(humanise),
    ...entities.map((e) => e.narrative),
    ...entities.flatMap((e) => e.threatMatrix.cells.map((c) => `${humanise(c.crimeArea)} ${humanise(c.trend)}`)),
    ...Object.values(inputs.labels.indicators),
    inputs.api.assessment.result.framework.title,
  ].join('\n');
}

export interface RenderedDocuments {
  readonly inputs: ReportInputs;
  readonly html: string;
  readonly pdf: Uint8Array | null;
  readonly summary: string;
}

/** Builds and renders a report without storing it (the assessment it rests on is stored, as every assessment is). */
export async function draftReport(
  db: Kysely<Database>,
  framework: Framework,
  spec: ReportSpec,
  publisher: Publisher,
  options: { scope?: DataScope; pdf?: PdfRenderer | null; publishedAt?: Date } = {},
): Promise<RenderedDocuments> {
  const inputs = await buildReportInputs(db, framework, spec, publisher, options.scope ?? ALL_DATA, options.publishedAt ?? new Date());
  const rendered = await renderReportHtml(inputs);
  const pdf = options.pdf ? await options.pdf.render(rendered.html, inputs.report.publishedAt) : null;
  return { inputs, html: rendered.html, pdf, summary: sentencesText(inputs, rendered.summary) };
}

/** Publishes a report: builds, renders (HTML, and PDF when a renderer is given) and stores it. */
export async function publishReport(
  db: Kysely<Database>,
  framework: Framework,
  spec: ReportSpec,
  publisher: Publisher,
  options: { scope?: DataScope; pdf?: PdfRenderer | null; publishedAt?: Date } = {},
): Promise<StoredReport> {
  const { inputs, html, pdf, summary } = await draftReport(db, framework, spec, publisher, options);
  const r = inputs.report;
  return insertReport(db, {
    reference: r.reference,
    kind: r.kind,
    title: r.title,
    entity: r.entity,
    region: r.region,
    entities: r.entities,
    frameworkId: r.framework.id,
    frameworkVersion: r.framework.version,
    paramsHash: r.paramsHash,
    year: r.year,
    crimeAreas: r.crimeAreas,
    handlingLevel: r.handling.level,
    allowedAgencies: r.handling.allowedAgencies,
    inputBatches: r.inputBatches,
    assessmentId: r.assessmentId,
    dataVersion: r.dataVersion,
    codeVersion: r.codeVersion,
    rendererVersion: r.rendererVersion,
    seed: r.seed,
    runs: r.runs,
    inputsJson: JSON.stringify(inputs),
    provenance: { sources: inputs.sources, assessment: inputs.api.assessment.provenance },
    summary,
    searchText: searchTextOf(inputs),
    html,
    pdf,
    publishedBy: publisher.by,
    publishedAgency: publisher.agency ?? null,
    publishedRole: publisher.role ?? null,
    purpose: publisher.purpose ?? null,
    publishedAt: r.publishedAt,
    ...(publisher.auditDetails ? { auditDetails: publisher.auditDetails } : {}),
  });
}

function notFound(ref: string | number, scope: DataScope): ThreatLensError {
  const hint = scope.kind === 'all' ? '' : ' (a report on restricted data is shown only to agencies that may see all its data, with a stated purpose)';
  return new ThreatLensError('TL_NOT_FOUND', `no published report ${ref}${hint}; GET /v1/reports lists them`);
}

/** The published report's id, or TL_NOT_FOUND (also when `scope` may not see it). */
export async function findReport(db: Kysely<Database>, ref: string | number, scope: DataScope = ALL_DATA): Promise<StoredReport> {
  const id = await resolveReportId(db, ref);
  const report = id === undefined ? undefined : await getReport(db, id, scope);
  if (!report) throw notFound(ref, scope);
  return report;
}

export async function publishedInputs(db: Kysely<Database>, ref: string | number, scope: DataScope = ALL_DATA): Promise<{ report: StoredReport; json: string; inputs: ReportInputs }> {
  const report = await findReport(db, ref, scope);
  const stored = await getReportInputs(db, report.id, scope);
  if (!stored) throw notFound(ref, scope);
  if (sha256Hex(stored.json) !== stored.sha256) throw new Error(`report ${report.reference}: the stored inputs do not match their SHA-256 (${stored.sha256})`);
  return { report, json: stored.json, inputs: JSON.parse(stored.json) as ReportInputs };
}

export interface Rerendered {
  readonly reference: string;
  readonly format: 'html' | 'pdf';
  readonly content: string | Uint8Array;
  readonly sha256: string;
  readonly publishedSha256: string | null;
  /** The re-rendered document is byte for byte the published one. */
  readonly identical: boolean;
  readonly rendererVersion: string;
  readonly publishedRendererVersion: string;
}

/** Renders a published report again from its stored inputs, and compares it with the published document. */
export async function rerenderReport(db: Kysely<Database>, ref: string | number, format: 'html' | 'pdf', options: { scope?: DataScope; pdf?: PdfRenderer | null } = {}): Promise<Rerendered> {
  const scope = options.scope ?? ALL_DATA;
  const { report, inputs } = await publishedInputs(db, ref, scope);
  const { html } = await renderReportHtml(inputs);
  let content: string | Uint8Array = html;
  if (format === 'pdf') {
    if (!options.pdf) throw new ThreatLensError('TL_RENDERER_UNAVAILABLE', 'no PDF renderer configured (Chromium); ask for format html');
    content = await options.pdf.render(html, inputs.report.publishedAt);
  }
  const published = await getReportDocument(db, report.id, format, scope);
  const sha256 = sha256Hex(content);
  return {
    reference: report.reference,
    format,
    content,
    sha256,
    publishedSha256: published?.sha256 ?? null,
    identical: published !== undefined && published.sha256 === sha256,
    rendererVersion: REPORT_RENDERER_VERSION,
    publishedRendererVersion: report.rendererVersion,
  };
}

// --- What changed since publication

interface ScoreView {
  readonly score: number | null;
  readonly band: string | null;
  readonly rank: number | null;
  readonly rankLow: number | null;
  readonly rankHigh: number | null;
}
interface AreaView {
  readonly scale: number | null;
  readonly priorityScore: number | null;
  readonly priorityClass: string | null;
  readonly priority: number | null;
}

export interface ReportComparison {
  readonly report: { readonly id: number; readonly reference: string; readonly title: string; readonly year: number; readonly publishedAt: string; readonly dataVersion: string };
  readonly current: { readonly dataVersion: string; readonly codeVersion: string; readonly paramsHash: string };
  readonly changed: { readonly data: boolean; readonly framework: boolean; readonly code: boolean };
  readonly batches: { readonly added: readonly { readonly id: number; readonly source: string; readonly fileName: string; readonly sharingLevel: string }[]; readonly removed: readonly number[] };
  readonly states: readonly {
    readonly entity: string;
    readonly name: string;
    readonly scores: readonly { readonly root: string; readonly published: ScoreView; readonly current: ScoreView; readonly scoreChange: number | null; readonly rankChange: number | null }[];
    readonly confidence: { readonly published: string; readonly current: string };
    readonly threatMatrix: readonly { readonly crimeArea: string; readonly published: AreaView; readonly current: AreaView; readonly scaleChange: number | null; readonly priorityScoreChange: number | null }[];
    readonly assistance: { readonly published: { readonly gap: number | null; readonly rank: number | null }; readonly current: { readonly gap: number | null; readonly rank: number | null }; readonly gapChange: number | null };
  }[];
  /** Sentences made of the numbers above. */
  readonly summary: readonly string[];
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
const diff = (a: number | null | undefined, b: number | null | undefined) => (a === null || a === undefined || b === null || b === undefined ? null : round(b - a));
const f2 = (x: number | null) => (x === null ? 'none' : x.toFixed(2));
const signed = (x: number) => `${x > 0 ? '+' : ''}${x.toFixed(2)}`;

function scoreView(result: AssessmentResult, entity: string, root: string): ScoreView {
  const r = result.entities.find((e) => e.entity === entity)?.roots.find((x) => x.root === root);
  return { score: r?.score ?? null, band: r?.band ?? null, rank: r?.rank ?? null, rankLow: r?.interval?.rankLow ?? null, rankHigh: r?.interval?.rankHigh ?? null };
}

function areaView(result: AssessmentResult, entity: string, area: string): AreaView {
  const c = result.entities.find((e) => e.entity === entity)?.threatMatrix.cells.find((x) => x.crimeArea === area);
  return { scale: c?.scale ?? null, priorityScore: c?.priorityScore ?? null, priorityClass: c?.priorityClass ?? null, priority: c?.priority ?? null };
}

/**
 * Compares a published report with what the current data gives under the same framework, year,
 * seed and Monte Carlo runs (the current assessment is computed, not stored): data version and
 * batches, every root's score, band, rank and interval, confidence, the threat matrix and the
 * threat-resilience gap of each state the report covers.
 */
export async function compareReport(db: Kysely<Database>, ref: string | number, framework: Framework, options: { scope?: DataScope } = {}): Promise<ReportComparison> {
  const scope = options.scope ?? ALL_DATA;
  const { report, inputs } = await publishedInputs(db, ref, scope);
  if (framework.id !== inputs.report.framework.id) {
    throw new ThreatLensError('TL_BAD_OPTION', `report ${report.reference} was published on framework ${inputs.report.framework.id}, not ${framework.id}`);
  }
  const year = inputs.report.year;
  const published = inputs.api.assessment.result;
  const { context, inputBatches } = await loadAssessmentContext(db, framework, year, published.method.trendYears, scope);
  const current = assess(context, {
    year,
    ...(inputs.kind === 'entity' ? { entity: inputs.report.entity! } : {}),
    seed: published.method.seed,
    runs: published.method.runs,
    weightNoise: published.method.weightNoise,
    trendYears: published.method.trendYears,
    // The comparison shows scores, ranks and intervals; the Sobol indices are not compared.
    sensitivityN: 0,
  });
  const assistance = await runAssistancePriorities(db, framework, { year, seed: inputs.report.seed, runs: inputs.report.runs }, scope);
  const version = (await dataVersion(db, scope)).version;
  const paramsHash = frameworkParamsHash(framework);

  const before = new Map<number, ReportInputBatch>(inputs.report.inputBatches.map((b) => [b.id, b]));
  const nowIds = new Set([...inputBatches, ...assistance.inputBatches]);
  const addedIds = [...nowIds].filter((id) => !before.has(id)).sort((a, b) => a - b);
  const added = addedIds.length === 0
    ? []
    : (await db.selectFrom('ingestion_batches').select(['id', 'source', 'file_name', 'sharing_level']).where('id', 'in', addedIds).orderBy('id').execute()).map((b) => ({ id: b.id, source: b.source, fileName: b.file_name, sharingLevel: b.sharing_level }));
  const removed = [...before.keys()].filter((id) => !nowIds.has(id)).sort((a, b) => a - b);

  const roots = published.entities[0]?.roots.map((r) => r.root) ?? [];
  const states = inputs.subject.states.map((s) => {
    const p = published.entities.find((e) => e.entity === s.code);
    const c = current.entities.find((e) => e.entity === s.code);
    const areas = [...new Set([...(p?.threatMatrix.cells ?? []), ...(c?.threatMatrix.cells ?? [])].map((x) => x.crimeArea))].sort();
    const gapBefore = inputs.api.assistance.overall.find((r) => r.entity === s.code);
    const gapNow = assistance.overall.find((r) => r.entity === s.code);
    return {
      entity: s.code,
      name: s.name,
      scores: roots.map((root) => {
        const a = scoreView(published, s.code, root);
        const b = scoreView(current, s.code, root);
        return { root, published: a, current: b, scoreChange: diff(a.score, b.score), rankChange: diff(a.rank, b.rank) };
      }),
      confidence: { published: p?.confidence.level ?? 'none', current: c?.confidence.level ?? 'none' },
      threatMatrix: areas.map((area) => {
        const a = areaView(published, s.code, area);
        const b = areaView(current, s.code, area);
        return { crimeArea: area, published: a, current: b, scaleChange: diff(a.scale, b.scale), priorityScoreChange: diff(a.priorityScore, b.priorityScore) };
      }),
      assistance: {
        published: { gap: gapBefore?.gap ?? null, rank: gapBefore?.rank ?? null },
        current: { gap: gapNow?.gap ?? null, rank: gapNow?.rank ?? null },
        gapChange: diff(gapBefore?.gap, gapNow?.gap),
      },
    };
  });

  const summary: string[] = [];
  const date = inputs.report.publishedAt.slice(0, 10);
  const dataChanged = version !== inputs.report.dataVersion;
  if (!dataChanged && paramsHash === inputs.report.paramsHash) summary.push(`Nothing has changed since publication on ${date}: same data version ${version} and framework parameters.`);
  else {
    if (dataChanged) summary.push(`The data changed since publication on ${date} (data version ${inputs.report.dataVersion} then, ${version} now): ${added.length} input batch${added.length === 1 ? '' : 'es'} added${added.length ? ` (${added.map((b) => `${b.id} ${b.source}`).join('; ')})` : ''}, ${removed.length} no longer read.`);
    if (paramsHash !== inputs.report.paramsHash) summary.push(`The framework ${framework.id} changed: parameter hash ${inputs.report.paramsHash} then, ${paramsHash} now.`);
  }
  for (const s of states) {
    const main = s.scores[0];
    if (main && main.scoreChange !== null && main.scoreChange !== 0) {
      summary.push(`${s.name}: ${main.root} ${f2(main.published.score)} then, ${f2(main.current.score)} now (${signed(main.scoreChange)}); rank ${main.published.rank ?? 'none'} then, ${main.current.rank ?? 'none'} now.`);
    } else if (main) summary.push(`${s.name}: ${main.root} unchanged at ${f2(main.current.score)}.`);
    const moved = s.threatMatrix.filter((t) => t.published.priorityClass !== t.current.priorityClass);
    for (const t of moved) summary.push(`${s.name}, ${humanise(t.crimeArea)}: ${t.published.priorityClass ?? 'no data'} then, ${t.current.priorityClass ?? 'no data'} now.`);
    if (s.assistance.gapChange !== null && s.assistance.gapChange !== 0) summary.push(`${s.name}: threat-resilience gap ${f2(s.assistance.published.gap)} then, ${f2(s.assistance.current.gap)} now.`);
    if (s.confidence.published !== s.confidence.current) summary.push(`${s.name}: confidence ${s.confidence.published} then, ${s.confidence.current} now.`);
  }
  return {
    report: { id: report.id, reference: report.reference, title: report.title, year, publishedAt: inputs.report.publishedAt, dataVersion: inputs.report.dataVersion },
    current: { dataVersion: version, codeVersion: codeVersion(), paramsHash },
    changed: { data: dataChanged, framework: paramsHash !== inputs.report.paramsHash, code: codeVersion() !== inputs.report.codeVersion },
    batches: { added, removed },
    states,
    summary,
  };
}
