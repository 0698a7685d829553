/**
 * What a report is rendered from: the answers of the API routes it draws on (stored assessment,
 * framework scores of each year of the trend window, assistance priorities, data-quality report),
 * the anomaly flags, the framework definition, and the report's own metadata, all captured at
 * publication and stored with the report. Rendering is a pure function of these inputs, so a
 * published report renders to the same document for as long as the renderer does.
 */
import type { AssistanceAnswer } from '../engine/scoring/assistance-run.ts';
import type { AssessmentResult } from '../engine/scoring/assessment.ts';
import type { ReportInputBatch, ReportSummary } from '../engine/store/reports.ts';
import { PathError, valueAt } from './values.ts';

/** Bumped when the renderer's output changes for the same inputs (recorded with every report). */
export const REPORT_RENDERER_VERSION = '1';

export interface SubjectState {
  readonly code: string;
  readonly name: string;
  readonly subregion: string | null;
}

/**
 * The report's own metadata, as GET /v1/reports/:ref answers it (paths into it resolve in both):
 * a library entry's fields, less what the library adds (id, documents, search), batches in full.
 */
export interface ReportMeta extends Omit<ReportSummary, 'id' | 'inputBatchIds' | 'summary' | 'documents' | 'rank' | 'headline'> {
  readonly purpose: string | null;
  readonly paramsHash: string;
  readonly assessmentId: number;
  readonly codeVersion: string;
  readonly rendererVersion: string;
  readonly seed: number;
  readonly runs: number;
  readonly inputBatches: readonly ReportInputBatch[];
}

/** The stored assessment as GET /v1/assessments/:id answers it. */
export interface AssessmentBody {
  readonly id: number;
  readonly dataVersion: string;
  readonly codeVersion: string;
  readonly paramsHash: string;
  readonly seed: number | null;
  readonly result: AssessmentResult;
  readonly provenance: { readonly batches: readonly { readonly id: number; readonly sha256: string; readonly grade: string }[] } & Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** GET /v1/risk-scores?framework=&year= (the first root's rank and band, every node's score). */
export interface ScoresBody {
  readonly framework: { readonly id: string; readonly version: string; readonly paramsHash: string };
  readonly year: number;
  readonly node: string;
  readonly dataVersion: string;
  readonly synthetic: boolean;
  readonly availableNodes: readonly string[];
  readonly scores: readonly {
    readonly entity: string;
    readonly name: string;
    readonly subregion: string | null;
    readonly score: number | null;
    readonly rank: number | null;
    readonly band: string | null;
    readonly nodes: Readonly<Record<string, number | null>>;
  }[];
}

/** The part of GET /v1/quality?from=&to= a report shows: the framework's indicators (same paths as the full answer). */
export interface QualityBody {
  readonly scope: { readonly years: { readonly from: number; readonly to: number } | null; readonly referenceYear: number | null; readonly states: number };
  readonly overall: { readonly grade: string | null; readonly indicators: number; readonly observations: number };
  readonly indicators: readonly {
    readonly indicator: string;
    readonly name: string;
    readonly unit: string;
    readonly grade: string;
    readonly coverage: { readonly states: number; readonly ofStates: number; readonly share: number };
    readonly latest: { readonly latestYear: number | null; readonly medianLatestYear: number | null; readonly byState: Readonly<Record<string, number | null>> };
    readonly levelShifts: { readonly count: number; readonly changesTested: number };
    readonly outOfRange: { readonly count: number };
  }[];
}

export interface AnomalySection {
  /** The latest anomaly run, or null when none is stored. */
  readonly run: { readonly id: number; readonly dataVersion: string; readonly codeVersion: string; readonly createdAt: string; readonly detectors: Record<string, unknown>; readonly upToDate: boolean } | null;
  readonly window: { readonly from: number; readonly to: number };
  /** Flags on the report's states in the window, highest score first (at most `limit`). */
  readonly flags: readonly {
    readonly entity: string;
    readonly indicator: string;
    readonly label: string;
    readonly period: string;
    readonly detector: string;
    readonly score: number;
    readonly severity: string;
    readonly value: number | null;
    readonly expected: number | null;
    readonly likelyCause: string;
    readonly reason: string;
  }[];
  readonly total: number;
  readonly limit: number;
}

export interface ReportInputs {
  readonly rendererVersion: string;
  readonly kind: 'entity' | 'region';
  /** The state of an entity report, or the states of a region report. */
  readonly subject: { readonly entity: SubjectState | null; readonly region: string | null; readonly states: readonly SubjectState[] };
  readonly report: ReportMeta;
  /** Source name -> the API path that answers it (data-src of the document's numbers). */
  readonly sources: Readonly<Record<string, string>>;
  /** The parsed framework definition (methodology annex). */
  readonly framework: unknown;
  readonly api: {
    readonly assessment: AssessmentBody;
    /** By year, as text. */
    readonly scores: Readonly<Record<string, ScoresBody>>;
    readonly assistance: AssistanceAnswer;
    readonly quality: QualityBody;
  };
  readonly anomalies: AnomalySection;
  /** Crime-area and indicator labels (catalogue), for text that is not a number. */
  readonly labels: { readonly indicators: Readonly<Record<string, string>> };
}

/** The object a source name stands for within the inputs. */
export function sourceRoot(inputs: ReportInputs, src: string): unknown {
  if (src === 'assessment') return inputs.api.assessment;
  if (src === 'assistance') return inputs.api.assistance;
  if (src === 'quality') return inputs.api.quality;
  if (src === 'report') return inputs.report;
  if (src === 'inputs') return inputs;
  if (src.startsWith('scores-')) {
    const body = inputs.api.scores[src.slice('scores-'.length)];
    if (body) return body;
  }
  throw new PathError(`unknown report source "${src}"`);
}

export function sourceValue(inputs: ReportInputs, src: string, path: string): unknown {
  return valueAt(sourceRoot(inputs, src), path);
}
