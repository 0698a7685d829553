/**
 * Gathers what a report is rendered from, under the requester's data scope: a stored assessment
 * (read back as GET /v1/assessments/:id answers it), the framework scores of every year of the
 * trend window (as GET /v1/risk-scores answers), the assistance priorities (GET
 * /v1/assistance-priorities), the framework's part of the data-quality report (GET /v1/quality),
 * the latest anomaly flags on the report's states, the framework definition, and the report's
 * metadata: its input batches with their sharing, and the handling level that follows from them.
 * Each answer is passed through JSON, as the API sends it.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { OSCE_PARTICIPATING_ISO3, OSCE_SUBREGIONS } from '../datasets/reference/osce.ts';
import { ALL_DATA, type DataScope } from '../engine/access/roles.ts';
import { describeReaders, readersOfResult } from '../engine/access/sharing.ts';
import { ThreatLensError } from '../engine/errors.ts';
import { buildQualityReport } from '../engine/quality/report.ts';
import { ASSESSMENT_DEFAULTS } from '../engine/scoring/assessment.ts';
import { BAND_LABELS } from '../engine/scoring/bands.ts';
import { createAssessment, frameworkParamsHash } from '../engine/scoring/assessment-run.ts';
import { ASSISTANCE_DEFAULTS } from '../engine/scoring/assistance.ts';
import { loadAssistanceInputs, runAssistancePriorities, type AssistanceStoreInputs } from '../engine/scoring/assistance-run.ts';
import { runPipeline, type Panel } from '../engine/scoring/pipeline.ts';
import type { Framework } from '../engine/scoring/framework.ts';
import { frameworkIndicators } from '../engine/scoring/framework-scores.ts';
import { latestAnomalyRun, queryAnomalies } from '../engine/store/anomalies.ts';
import { getAssessment } from '../engine/store/assessments.ts';
import { listEntities, listIndicators } from '../engine/store/catalogue.ts';
import { dataVersion } from '../engine/store/observations.ts';
import type { HandlingLevel, ReportInputBatch } from '../engine/store/reports.ts';
import type { Database } from '../engine/store/schema.ts';
import { batchSharing, visibleBatchIds } from '../engine/store/visibility.ts';
import { codeVersion } from '../engine/version.ts';
import { REPORT_RENDERER_VERSION, type AnomalySection, type AssessmentBody, type QualityBody, type ReportInputs, type ScoresBody, type SubjectState } from './model.ts';

export interface ReportSpec {
  readonly year: number;
  /** ISO3 code of a participating state, or */
  readonly entity?: string;
  /** an OSCE sub-region (ThreatLens's grouping: datasets/reference/osce.ts). */
  readonly region?: string;
  readonly seed?: number;
  readonly runs?: number;
}

export interface Publisher {
  readonly by: string;
  readonly agency?: string | null;
  readonly role?: string | null;
  readonly purpose?: string | null;
  /** Extra facts for the audit entries (e.g. the requester named in an API request's body). */
  readonly auditDetails?: Record<string, unknown>;
}

/** Anomaly flags shown: the highest scored, on the report's states, over the last five years. */
export const ANOMALY_LIMIT = 15;
export const ANOMALY_YEARS = 5;
/** The quality report's window, as the assistance priorities read it. */
const QUALITY_WINDOW_YEARS = ASSISTANCE_DEFAULTS.windowYears;

const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** The report's states, checked: one participating state, or the participating states of a sub-region. */
async function subjectOf(db: Kysely<Database>, spec: ReportSpec): Promise<{ kind: 'entity' | 'region'; entity: SubjectState | null; region: string | null; states: SubjectState[] }> {
  if ((spec.entity === undefined) === (spec.region === undefined)) {
    throw new ThreatLensError('TL_BAD_OPTION', 'a report is about one participating state (entity, e.g. ALB) or one region (e.g. "South-Eastern Europe"): give exactly one');
  }
  const entities = (await listEntities(db, { osceStatus: 'participating' })).map((e) => ({ code: e.code, name: e.name, subregion: e.subregion }));
  if (spec.entity !== undefined) {
    const state = entities.find((e) => e.code === spec.entity);
    if (!state || !OSCE_PARTICIPATING_ISO3.includes(spec.entity)) {
      throw new ThreatLensError('TL_BAD_OPTION', `entity "${spec.entity}" is not one of the 57 OSCE participating states (ISO3 codes, e.g. ALB)`);
    }
    return { kind: 'entity', entity: state, region: state.subregion, states: [state] };
  }
  const region = spec.region!;
  if (!(OSCE_SUBREGIONS as readonly string[]).includes(region)) {
    throw new ThreatLensError('TL_BAD_OPTION', `region "${region}" is not one of ${OSCE_SUBREGIONS.join(', ')}`);
  }
  const states = entities.filter((e) => e.subregion === region).sort((a, b) => a.name.localeCompare(b.name));
  return { kind: 'region', entity: null, region, states };
}

/** The part of the quality report about the framework's indicators, keeping the answer's shape and paths. */
function qualitySubset(report: ReturnType<typeof buildQualityReport>, indicators: ReadonlySet<string>): QualityBody {
  return viaJson({
    scope: report.scope,
    overall: report.overall,
    indicators: report.indicators
      .filter((i) => indicators.has(i.indicator))
      .map((i) => ({
        indicator: i.indicator,
        name: i.name,
        unit: i.unit,
        observations: i.observations,
        censored: i.censored,
        grade: i.grade,
        criteria: i.criteria,
        coverage: { states: i.coverage.states, ofStates: i.coverage.ofStates, cellsPresent: i.coverage.cellsPresent, cellsExpected: i.coverage.cellsExpected, share: i.coverage.share },
        latest: i.latest,
        levelShifts: { changesTested: i.levelShifts.changesTested, count: i.levelShifts.count, withSourceChange: i.levelShifts.withSourceChange },
        outOfRange: { plausibleMin: i.outOfRange.plausibleMin, plausibleMax: i.outOfRange.plausibleMax, count: i.outOfRange.count, share: i.outOfRange.share },
      })),
  }) as unknown as QualityBody;
}

async function anomalySection(db: Kysely<Database>, states: readonly string[], year: number, labels: Map<string, string>, scope: DataScope): Promise<{ section: AnomalySection; batches: number[] }> {
  const window = { from: year - ANOMALY_YEARS + 1, to: year };
  const run = await latestAnomalyRun(db);
  if (!run) return { section: { run: null, window, flags: [], total: 0, limit: ANOMALY_LIMIT }, batches: [] };
  const readable = scope.kind === 'all' ? undefined : await visibleBatchIds(db, scope);
  // The combined verdict when the run has one; otherwise every detector's flags.
  const detector = 'ensemble' in run.detectors ? 'ensemble' : undefined;
  const flags = (
    await Promise.all(
      states.map((entity) =>
        queryAnomalies(db, { runId: run.id, entity, from: window.from, to: window.to, ...(detector ? { detector } : {}), ...(readable ? { readableBatches: readable } : {}) }),
      ),
    )
  )
    .flat()
    .sort((a, b) => b.score - a.score || a.entity.localeCompare(b.entity) || a.indicator.localeCompare(b.indicator) || a.period.localeCompare(b.period) || a.detector.localeCompare(b.detector));
  const shown = flags.slice(0, ANOMALY_LIMIT);
  const current = (await dataVersion(db)).version;
  return {
    section: {
      run: { id: run.id, dataVersion: run.dataVersion, codeVersion: run.codeVersion, createdAt: new Date(run.createdAt).toISOString(), detectors: run.detectors, upToDate: run.dataVersion === current },
      window,
      flags: shown.map((f) => ({
        entity: f.entity,
        indicator: f.indicator,
        label: labels.get(f.indicator) ?? f.indicator,
        period: f.period,
        detector: f.detector,
        score: f.score,
        severity: f.severity,
        value: f.value,
        expected: f.expected ?? null,
        likelyCause: f.likelyCause,
        reason: f.reason,
      })),
      total: flags.length,
      limit: ANOMALY_LIMIT,
    },
    batches: [...new Set(shown.flatMap((f) => f.batchIds))],
  };
}

async function inputBatchDetails(db: Kysely<Database>, ids: readonly number[]): Promise<ReportInputBatch[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('ingestion_batches')
    .select(['id', 'source', 'file_name', 'sha256', 'source_reliability', 'information_credibility', 'grading_scheme', 'sharing_level', 'owner_agency', 'shared_with', 'synthetic', 'created_at'])
    .where('id', 'in', [...ids])
    .orderBy('id')
    .execute();
  return rows.map((b) => ({
    id: b.id,
    source: b.source,
    fileName: b.file_name,
    sha256: b.sha256,
    grade: `${b.source_reliability}${b.information_credibility}`,
    scheme: b.grading_scheme,
    sharingLevel: b.sharing_level,
    ownerAgency: b.owner_agency,
    sharedWith: [...b.shared_with].sort(),
    synthetic: b.synthetic,
    createdAt: new Date(b.created_at).toISOString(),
  }));
}

/**
 * Handling of a result computed from these batches: public when all are; owner-only when any is
 * owner-only; restricted otherwise. It may be released to the agencies that may read every batch.
 */
export async function handlingOf(db: Kysely<Database>, ids: readonly number[]): Promise<{ level: HandlingLevel; allowedAgencies: string[]; readers: string }> {
  const sharing = await batchSharing(db, ids);
  const readers = readersOfResult(sharing);
  const level: HandlingLevel = sharing.some((b) => b.sharingLevel === 'owner') ? 'owner' : sharing.some((b) => b.sharingLevel !== 'public') ? 'restricted' : 'public';
  return { level, allowedAgencies: readers.everyone ? [] : [...readers.agencies].sort(), readers: describeReaders(readers) };
}

export function reportTitle(subject: { kind: 'entity' | 'region'; entity: SubjectState | null; region: string | null }, year: number): string {
  return `Threat assessment: ${subject.kind === 'entity' ? subject.entity!.name : subject.region!}, ${year}`;
}

/**
 * The answer of GET /v1/risk-scores?framework=&year= for one year, from the panel already loaded:
 * the same computation as frameworkScoreTable (engine/scoring/assessment-run.ts) on the same
 * panel, cut to the years that function reads ([year - 10, year], the year itself always present),
 * so that ten years cost one read of the store. test/reports-document.test.ts checks every year
 * against the API's answer.
 */
function scoresBody(
  framework: Framework,
  context: AssistanceStoreInputs['context'],
  entities: readonly { code: string; name: string; subregion: string | null }[],
  year: number,
  dataVersionText: string,
  synthetic: boolean,
): ScoresBody {
  const wide = context.panel;
  const keep = wide.years.map((y, t) => ({ y, t })).filter(({ y }) => y >= year - 10 && y <= year);
  const years = [...new Set([...keep.map((k) => k.y), year])].sort((a, b) => a - b);
  const slab = wide.entities.length * wide.indicators.length;
  const values = new Float64Array(slab * years.length).fill(Number.NaN);
  years.forEach((y, t) => {
    const from = wide.years.indexOf(y);
    if (from >= 0) values.set(wide.values.subarray(from * slab, (from + 1) * slab), t * slab);
  });
  const panel: Panel = { entities: wide.entities, indicators: wide.indicators, years, values };
  const groups = new Map(entities.filter((e) => e.subregion).map((e) => [e.code, e.subregion!]));
  const result = runPipeline(framework, panel, { year, polarities: context.polarities, groups });
  const names = new Map(entities.map((e) => [e.code, e.name]));
  const main = result.roots[0]!;
  const value = (x: number) => (Number.isNaN(x) ? null : Math.round(x * 1000) / 1000);
  return viaJson({
    framework: { id: framework.id, version: framework.version, paramsHash: frameworkParamsHash(framework) },
    year,
    node: main,
    dataVersion: dataVersionText,
    synthetic,
    availableNodes: [...result.nodeIds],
    scores: result.entities.map((entity, i) => {
      const nodes = Object.fromEntries(result.nodeIds.map((id) => [id, value(result.scores[id]![i]!)]));
      return {
        entity,
        name: names.get(entity) ?? entity,
        subregion: groups.get(entity) ?? null,
        score: nodes[main] ?? null,
        rank: value(result.ranks[main]![i]!),
        band: result.bands[main]![i]! < 0 ? null : BAND_LABELS[result.bands[main]![i]!]!,
        nodes,
      };
    }),
  });
}

export async function buildReportInputs(
  db: Kysely<Database>,
  framework: Framework,
  spec: ReportSpec,
  publisher: Publisher,
  scope: DataScope = ALL_DATA,
  publishedAt: Date = new Date(),
): Promise<ReportInputs> {
  const subject = await subjectOf(db, spec);
  const year = spec.year;
  const seed = spec.seed ?? ASSESSMENT_DEFAULTS.seed;
  const runs = spec.runs ?? ASSESSMENT_DEFAULTS.runs;
  const trendYears = ASSESSMENT_DEFAULTS.trendYears;

  const stored = await createAssessment(
    db,
    framework,
    {
      year,
      ...(subject.kind === 'entity' ? { entity: subject.entity!.code } : {}),
      seed,
      runs,
      requestedBy: publisher.by,
      purpose: publisher.purpose ?? null,
      requestedAgency: publisher.agency ?? null,
      requestedRole: publisher.role ?? null,
      auditDetails: { ...publisher.auditDetails, for: 'report' },
    },
    scope,
  );
  const assessment = viaJson(await getAssessment(db, stored.id, scope)) as unknown as AssessmentBody & { inputBatches?: number[] };
  const version = (await dataVersion(db, scope)).version;

  // One read of the store serves the assistance priorities, the quality section and the score
  // tables of every year of the trend window.
  const loaded = await loadAssistanceInputs(db, framework, year, scope);
  const synthetic = (await db.selectFrom('ingestion_batches').select('id').where('synthetic', '=', true).limit(1).executeTakeFirst()) !== undefined;
  const entityRows = await listEntities(db, { osceStatus: 'participating' });
  const scores: Record<string, ScoresBody> = {};
  for (let y = year - trendYears + 1; y <= year; y++) {
    const body = scoresBody(framework, loaded.context, entityRows, y, version, synthetic);
    if (body.scores.some((r) => Object.values(r.nodes).some((v) => v !== null))) scores[String(y)] = body;
  }
  if (scores[String(year)] === undefined) {
    throw new ThreatLensError('TL_NO_SCORES', `no state has a ${framework.id} score in ${year}: ingest its indicators first (GET /v1/frameworks lists them)`);
  }

  const assistance = viaJson(await runAssistancePriorities(db, framework, { year, seed, runs }, scope, loaded));
  const leaves = new Set(frameworkIndicators(framework));
  const quality = qualitySubset(buildQualityReport(loaded.qualityInput), leaves);

  const catalogue = await listIndicators(db);
  const labelMap = new Map(catalogue.map((i) => [i.code, i.name]));
  const anomalies = await anomalySection(db, subject.states.map((s) => s.code), year, labelMap, scope);
  const labelled = new Set([...leaves, ...anomalies.section.flags.map((f) => f.indicator)]);
  const labels = { indicators: Object.fromEntries([...labelled].sort().map((c) => [c, labelMap.get(c) ?? c])) };

  const batchIds = [...new Set([...(assessment.inputBatches ?? []), ...loaded.inputBatches, ...assistance.inputBatches, ...anomalies.batches])].sort((a, b) => a - b);
  const inputBatches = await inputBatchDetails(db, batchIds);
  const handling = await handlingOf(db, batchIds);
  const at = publishedAt.toISOString();
  const stamp = createHash('sha256').update(JSON.stringify([at, subject.kind, subject.entity?.code ?? subject.region, year, framework.id, stored.id, version])).digest('hex').slice(0, 8);
  const reference = `TLR-${at.slice(0, 10).replace(/-/g, '')}-${stamp}`;
  const title = reportTitle(subject, year);
  const frameworkId = framework.id;

  const sources: Record<string, string> = {
    assessment: `/v1/assessments/${stored.id}`,
    assistance: `/v1/assistance-priorities?framework=${encodeURIComponent(frameworkId)}&year=${year}&runs=${runs}&seed=${seed}`,
    quality: `/v1/quality?from=${year - QUALITY_WINDOW_YEARS + 1}&to=${year}`,
    report: `/v1/reports/${reference}`,
    inputs: `/v1/reports/${reference}/inputs`,
    ...Object.fromEntries(Object.keys(scores).map((y) => [`scores-${y}`, `/v1/risk-scores?framework=${encodeURIComponent(frameworkId)}&year=${y}`])),
  };

  const entities = subject.states.map((s) => s.code);
  const priorityAreas = new Set<string>();
  for (const e of assessment.result.entities) {
    if (!entities.includes(e.entity)) continue;
    for (const c of e.threatMatrix.cells) if (c.priorityClass !== null && c.priorityClass !== 'monitor') priorityAreas.add(c.crimeArea);
  }

  return {
    rendererVersion: REPORT_RENDERER_VERSION,
    kind: subject.kind,
    subject: { entity: subject.entity, region: subject.region, states: subject.states },
    report: {
      reference,
      title,
      kind: subject.kind,
      entity: subject.entity?.code ?? null,
      region: subject.region,
      entities,
      framework: { id: framework.id, version: framework.version },
      year,
      crimeAreas: [...priorityAreas].sort(),
      handling: { level: handling.level, allowedAgencies: handling.allowedAgencies },
      dataVersion: version,
      publishedAt: at,
      publishedBy: publisher.by,
      purpose: publisher.purpose ?? null,
      paramsHash: frameworkParamsHash(framework),
      assessmentId: stored.id,
      codeVersion: codeVersion(),
      rendererVersion: REPORT_RENDERER_VERSION,
      seed,
      runs,
      inputBatches,
    },
    sources,
    framework: viaJson(framework),
    api: { assessment, scores, assistance, quality },
    anomalies: anomalies.section,
    labels,
  };
}
