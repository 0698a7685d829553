/**
 * The assistance priorities on the store: the assessment's context (panel, catalogue, groups) and
 * the data-quality report of the ten-year window, under a data scope (engine/access), then the
 * pure `assistancePriorities`. What GET /v1/assistance-priorities answers and reports show.
 */
import type { Kysely } from 'kysely';
import { ALL_DATA, type DataScope } from '../access/roles.ts';
import { ThreatLensError } from '../errors.ts';
import { buildQualityReport, type QualityReportInput } from '../quality/report.ts';
import { dataVersion } from '../store/observations.ts';
import { loadQualityInput } from '../store/quality.ts';
import type { Database } from '../store/schema.ts';
import { frameworkParamsHash, loadAssessmentContext } from './assessment-run.ts';
import { ASSISTANCE_DEFAULTS, assistancePriorities, gapNodes, type AssistanceResult } from './assistance.ts';
import type { Framework } from './framework.ts';

export interface AssistanceRequest {
  readonly year: number;
  readonly seed?: number;
  readonly runs?: number;
  readonly weightNoise?: number;
}

export interface AssistanceAnswer extends Omit<AssistanceResult, 'framework'> {
  readonly framework: AssistanceResult['framework'] & { readonly paramsHash: string };
  readonly dataVersion: string;
  /** true when any input batch is synthetic (demo) data. */
  readonly synthetic: boolean;
  /** The batches the ranking was computed from (values, grades and the quality report's rows). */
  readonly inputBatches: readonly number[];
}

/** What the ranking reads from the store, for callers that have it already (reports). */
export interface AssistanceStoreInputs {
  readonly context: Awaited<ReturnType<typeof loadAssessmentContext>>['context'];
  readonly inputBatches: readonly number[];
  /** loadQualityInput over [year - 9, year] under the same scope. */
  readonly qualityInput: QualityReportInput;
}

/** Reads what `runAssistancePriorities` needs: the assessment context and the quality report's rows. */
export async function loadAssistanceInputs(db: Kysely<Database>, framework: Framework, year: number, scope: DataScope = ALL_DATA): Promise<AssistanceStoreInputs> {
  const { context, inputBatches } = await loadAssessmentContext(db, framework, year, undefined, scope);
  const qualityInput = await loadQualityInput(db, { fromYear: year - ASSISTANCE_DEFAULTS.windowYears + 1, toYear: year, scope });
  return { context, inputBatches, qualityInput };
}

/** The ranking for a framework and year from the batches `scope` may use (default: all, the operator). */
export async function runAssistancePriorities(
  db: Kysely<Database>,
  framework: Framework,
  request: AssistanceRequest,
  scope: DataScope = ALL_DATA,
  loaded?: AssistanceStoreInputs,
): Promise<AssistanceAnswer> {
  const nodes = gapNodes(framework);
  if ('reason' in nodes) throw new ThreatLensError('TL_BAD_OPTION', nodes.reason);
  const { context, inputBatches, qualityInput } = loaded ?? (await loadAssistanceInputs(db, framework, request.year, scope));
  if (!context.panel.values.some((v) => !Number.isNaN(v))) {
    throw new ThreatLensError('TL_NO_SCORES', `no data for framework ${framework.id} up to ${request.year}: ingest its indicators first (GET /v1/frameworks lists them)`);
  }
  const quality = buildQualityReport(qualityInput);
  const result = assistancePriorities(context, {
    year: request.year,
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
    ...(request.runs !== undefined ? { runs: request.runs } : {}),
    ...(request.weightNoise !== undefined ? { weightNoise: request.weightNoise } : {}),
    quality,
  });
  // The data-capacity gaps read the quality report's rows of the framework's indicators only.
  const leaves = new Set(Object.keys(result.indicators));
  const qualityBatches = new Set(qualityInput.rows.filter((r) => leaves.has(r.indicator)).map((r) => r.batchId));
  const batches = [...new Set([...inputBatches, ...qualityBatches])].sort((a, b) => a - b);
  const synthetic = qualityInput.batches.some((b) => b.synthetic && batches.includes(b.id));
  return {
    ...result,
    framework: { ...result.framework, paramsHash: frameworkParamsHash(framework) },
    dataVersion: (await dataVersion(db, scope)).version,
    synthetic,
    inputBatches: batches,
  };
}
