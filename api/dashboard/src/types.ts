/** The shapes of the API answers the dashboard reads (api/routes/*.ts, api/routes/dashboard-data.ts). */

export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly detail?: string;
  readonly code?: string;
}

export interface FrameworkSummary {
  readonly id: string;
  readonly version: string;
  readonly title: string;
  readonly nodes: readonly string[];
  readonly indicators: readonly string[];
}

export interface Indicator {
  readonly code: string;
  readonly name: string;
  readonly unit: string;
  readonly crimeArea: string;
  readonly polarity: 'higher_worse' | 'higher_better';
}

export interface SimpleRiskScores {
  readonly year: number;
  readonly synthetic: boolean;
  readonly availableYears: readonly number[];
  readonly availableNodes: readonly string[];
}

export interface LegendClass {
  readonly band: number;
  readonly label: string;
  readonly from: number | null;
  readonly to: number | null;
}

/** A state's place on the map: `withheld` is what the caller may not see (401, 403 or a sharing rule). */
export type StateStatus = 'ok' | 'no_data' | 'withheld';

export interface MapState {
  readonly entity: string;
  readonly name: string;
  readonly subregion: string | null;
  readonly value: number | null;
  readonly band: number | null;
  readonly status: StateStatus;
}

export interface MapLayer {
  readonly framework: string;
  readonly year: number;
  readonly layer: string;
  readonly kind: 'node' | 'area' | 'indicator';
  readonly title: string;
  readonly unit: string;
  readonly classification: string;
  readonly synthetic: boolean;
  readonly legend: readonly LegendClass[];
  readonly states: readonly MapState[];
}

export interface Interval {
  readonly rankLow: number;
  readonly rankHigh: number;
  readonly rankMedian: number;
  readonly scoreLow: number;
  readonly scoreHigh: number;
}

export interface SummaryState {
  readonly entity: string;
  readonly name: string;
  readonly subregion: string | null;
  readonly score: number | null;
  readonly band: string | null;
  readonly rank: number | null;
  readonly of: number;
  readonly interval: Interval | null;
  readonly confidence: string;
  readonly nodes: Readonly<Record<string, number | null>>;
}

export interface Summary {
  readonly framework: { readonly id: string; readonly version: string; readonly title: string };
  readonly year: number;
  readonly root: string;
  readonly units: number;
  readonly synthetic: boolean;
  readonly method: { readonly seed: number; readonly runs: number; readonly weightNoise: number; readonly intervalLevel: number };
  readonly states: readonly SummaryState[];
}

export interface ConfidenceReason {
  readonly factor: string;
  readonly level: string | null;
  readonly message: string;
}

export interface Driver {
  readonly indicator: string;
  readonly label: string;
  readonly crimeArea: string | null;
  readonly unit: string | null;
  readonly raw: number | null;
  readonly normalised: number;
  readonly weight: number;
  readonly pointsAboveLevel: number;
  readonly imputed: string | null;
  readonly grades: readonly string[];
}

export interface PointsContribution {
  readonly indicator: string;
  readonly label: string;
  readonly points: number;
}

export interface ThreatCell {
  readonly crimeArea: string;
  readonly scale: number | null;
  readonly trend: string;
  readonly harm: number;
  readonly threat: number | null;
  readonly priorityScore: number | null;
  readonly priorityClass: string | null;
  readonly priority: number | null;
}

export interface Country {
  readonly framework: { readonly id: string; readonly version: string; readonly title: string };
  readonly year: number;
  readonly entity: string;
  readonly name: string;
  readonly subregion: string | null;
  readonly synthetic: boolean;
  /** The data the answer was computed from: `public`, or `agency:<code>` (api/auth). */
  readonly dataScope: string;
  readonly root: string;
  readonly score: number | null;
  readonly band: string | null;
  readonly rank: number | null;
  readonly of: number;
  readonly interval: Interval | null;
  readonly intervalLevel: number;
  readonly bandThresholds: readonly number[];
  readonly nodeScores: Readonly<Record<string, number | null>>;
  readonly confidence: { readonly level: string; readonly reasons: readonly ConfidenceReason[] };
  readonly trend: { readonly label: string; readonly reason: string; readonly slope: number | null; readonly intercept: number | null; readonly p: number | null; readonly years: readonly number[] };
  readonly history: readonly { readonly year: number; readonly score: number | null }[];
  readonly drivers: readonly Driver[];
  readonly change: { readonly fromYear: number; readonly toYear: number; readonly from: number; readonly to: number; readonly change: number; readonly residual: number; readonly contributions: readonly PointsContribution[] } | null;
  readonly threatMatrix: { readonly capacity: number | null; readonly cells: readonly ThreatCell[] };
  readonly narrative: string;
  readonly provenance: {
    readonly dataVersion: string;
    readonly framework: { readonly id: string; readonly version: string; readonly paramsHash: string };
    readonly method: { readonly seed: number; readonly runs: number };
    readonly batches: readonly { readonly id: number; readonly source: string; readonly fileName: string; readonly format: string; readonly synthetic: boolean; readonly sha256: string; readonly grade: string; readonly indicators: number }[];
  };
}

export interface CompareSide {
  readonly entity: string;
  readonly name: string;
  readonly year: number;
  readonly score: number | null;
  readonly band: string | null;
  readonly rank: number | null;
  readonly of: number;
  readonly interval: Interval | null;
  readonly confidence: string;
  readonly nodeScores: Readonly<Record<string, number | null>>;
}

export interface Comparison {
  readonly framework: { readonly id: string; readonly title: string };
  readonly root: string;
  readonly a: CompareSide;
  readonly b: CompareSide;
  readonly difference: { readonly from: number; readonly to: number; readonly change: number; readonly residual: number; readonly contributions: readonly PointsContribution[] } | null;
  readonly note: string | null;
}
