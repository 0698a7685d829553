/**
 * Running a framework on the store: the dashboards' scores of a year, and assessments with their
 * provenance. Reads through engine/store, computes with the pure functions of engine/scoring.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { OSCE_PARTICIPATING_ISO3 } from '../../datasets/reference/osce.ts';
import { ThreatLensError } from '../errors.ts';
import { canonicalJson } from '../store/audit.ts';
import { insertAssessment, type StoredAssessment } from '../store/assessments.ts';
import { listEntities, listIndicators } from '../store/catalogue.ts';
import { dataVersion } from '../store/observations.ts';
import { batchesByIndicator, loadPanel, type IndicatorBatch } from '../store/panels.ts';
import type { Database } from '../store/schema.ts';
import type { CrimeArea, Polarity } from '../types.ts';
import { codeVersion } from '../version.ts';
import { ASSESSMENT_DEFAULTS, assess, type AssessmentContext, type AssessmentOptions, type AssessmentResult } from './assessment.ts';
import { BAND_LABELS } from './bands.ts';
import type { Framework } from './framework.ts';
import { frameworkIndicators, frameworkInputs } from './framework-scores.ts';
import { runPipeline } from './pipeline.ts';

/** A hash of everything that decides a framework's scores: its whole parsed definition. */
export function frameworkParamsHash(framework: Framework): string {
  return createHash('sha256').update(canonicalJson(framework)).digest('hex').slice(0, 16);
}

/**
 * Loads what an assessment of `year` needs: the OSCE participating states, the trend window, and
 * the batches behind each indicator (their grades for confidence, their hashes for provenance).
 */
export async function loadAssessmentContext(
  db: Kysely<Database>,
  framework: Framework,
  year: number,
  trendYears: number = ASSESSMENT_DEFAULTS.trendYears,
): Promise<{ context: AssessmentContext; batches: Map<string, IndicatorBatch[]> }> {
  const [indicators, entities] = await Promise.all([listIndicators(db), listEntities(db)]);
  const inputs = frameworkInputs(framework);
  // The look-back of imputation reaches further back than the trend window: 10 years covers both.
  const panel = await loadPanel(db, { indicators: inputs, entities: OSCE_PARTICIPATING_ISO3, fromYear: year - trendYears - 10, toYear: year });
  const batches = await batchesByIndicator(db, frameworkIndicators(framework));
  const context: AssessmentContext = {
    framework,
    panel,
    polarities: new Map(indicators.map((i) => [i.code, i.polarity as Polarity])),
    crimeAreas: new Map(indicators.map((i) => [i.code, i.crime_area as CrimeArea])),
    indicatorNames: new Map(indicators.map((i) => [i.code, i.name])),
    entityNames: new Map(entities.map((e) => [e.code, e.name])),
    groups: new Map(entities.filter((e) => e.subregion).map((e) => [e.code, e.subregion!])),
    grades: new Map([...batches].map(([code, list]) => [code, list.map(({ scheme, source, information }) => ({ scheme, source, information }))])),
  };
  return { context, batches };
}

export interface AssessmentRequest extends AssessmentOptions {
  readonly requestedBy: string;
  readonly purpose?: string | null;
}

/** Computes an assessment and stores it with its provenance; returns the stored record. */
export async function createAssessment(db: Kysely<Database>, framework: Framework, request: AssessmentRequest): Promise<StoredAssessment> {
  if (request.entity !== undefined && !OSCE_PARTICIPATING_ISO3.includes(request.entity)) {
    throw new ThreatLensError('TL_BAD_OPTION', `entity "${request.entity}" is not one of the 57 OSCE participating states (ISO3 codes, e.g. ALB)`);
  }
  const { context, batches } = await loadAssessmentContext(db, framework, request.year, request.trendYears);
  if (!context.panel.values.some((v) => !Number.isNaN(v))) {
    throw new ThreatLensError('TL_NO_SCORES', `no data for framework ${framework.id} up to ${request.year}: ingest its indicators first (GET /v1/frameworks lists them)`);
  }
  const { requestedBy, purpose, ...options } = request;
  const result = assess(context, options);
  const version = await dataVersion(db);
  const used = [...new Map([...batches.values()].flat().map((b) => [b.batchId, { id: b.batchId, sha256: b.sha256, grade: `${b.source}${b.information}`, scheme: b.scheme }])).values()].sort((a, b) => a.id - b.id);
  const paramsHash = frameworkParamsHash(framework);
  return insertAssessment(db, {
    entity: request.entity ?? null,
    year: request.year,
    method: framework.id,
    methodVersion: framework.version,
    paramsHash,
    dataVersion: version.version,
    codeVersion: codeVersion(),
    seed: result.method.seed,
    result,
    provenance: {
      dataVersion: version.version,
      batches: used,
      framework: { id: framework.id, version: framework.version, paramsHash },
      method: result.method,
      codeVersion: codeVersion(),
      units: 'OSCE participating states',
    },
    requestedBy,
    purpose: purpose ?? null,
  });
}

export interface FrameworkScoreTable {
  readonly framework: { readonly id: string; readonly version: string; readonly paramsHash: string };
  readonly year: number;
  readonly dataVersion: string;
  readonly nodes: readonly string[];
  readonly roots: readonly string[];
  readonly rows: readonly {
    readonly entity: string;
    readonly name: string;
    readonly subregion: string | null;
    readonly scores: Readonly<Record<string, number | null>>;
    readonly rank: number | null;
    readonly band: string | null;
  }[];
}

/** The nominal scores of every participating state for a year (no Monte Carlo): the dashboards' table. */
export async function frameworkScoreTable(db: Kysely<Database>, framework: Framework, year: number): Promise<FrameworkScoreTable> {
  // The dashboards' hot path: the panel and the catalogue only, no batch grades.
  const [indicators, entities] = await Promise.all([listIndicators(db), listEntities(db, { osceStatus: 'participating' })]);
  const panel = await loadPanel(db, { indicators: frameworkInputs(framework), entities: OSCE_PARTICIPATING_ISO3, fromYear: year - 10, toYear: year });
  const groups = new Map(entities.filter((e) => e.subregion).map((e) => [e.code, e.subregion!]));
  const result = runPipeline(framework, panel, { year, polarities: new Map(indicators.map((i) => [i.code, i.polarity as Polarity])), groups });
  const version = await dataVersion(db);
  const names = new Map(entities.map((e) => [e.code, e.name]));
  const main = result.roots[0]!;
  const value = (x: number) => (Number.isNaN(x) ? null : Math.round(x * 1000) / 1000);
  return {
    framework: { id: framework.id, version: framework.version, paramsHash: frameworkParamsHash(framework) },
    year,
    dataVersion: version.version,
    nodes: result.nodeIds,
    roots: result.roots,
    rows: result.entities.map((entity, i) => ({
      entity,
      name: names.get(entity) ?? entity,
      subregion: groups.get(entity) ?? null,
      scores: Object.fromEntries(result.nodeIds.map((id) => [id, value(result.scores[id]![i]!)])),
      rank: value(result.ranks[main]![i]!),
      band: result.bands[main]![i]! < 0 ? null : BAND_LABELS[result.bands[main]![i]!]!,
    })),
  };
}

export type { AssessmentResult };
