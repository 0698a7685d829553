/**
 * Plain typed rows the data-quality report is computed from, and the report's shape. The store
 * (engine/store/quality.ts) reads these rows; everything in engine/quality/ is pure.
 */

/** One stored observation, as the quality checks need it. */
export interface QualityObservation {
  readonly entity: string;
  readonly indicator: string;
  /** Canonical period text (`2020`, `2020-Q1`): with entity and indicator, the key of a value. */
  readonly period: string;
  readonly periodKind: 'year' | 'quarter' | 'month';
  readonly year: number;
  /** Null when explicitly missing or censored without a bound. */
  readonly value: number | null;
  /** `<` or `>` for censored values (`<5`). */
  readonly qualifier: '<' | '>' | null;
  /** The source of this row: the file's row-level source, else the batch's source. */
  readonly source: string;
  readonly batchId: number;
  /** The participating state the row counts for: the entity itself, or a sub-national entity's state. */
  readonly state?: string;
}

export interface QualityIndicatorInfo {
  readonly code: string;
  readonly name: string;
  readonly unit: string;
  readonly plausibleMin: number | null;
  readonly plausibleMax: number | null;
}

export interface QualityBatchInfo {
  readonly id: number;
  readonly source: string;
  readonly fileName: string;
  readonly format: string;
  /** Admiralty source reliability (A-F) and information credibility (1-6). */
  readonly sourceReliability: string;
  readonly informationCredibility: string;
  readonly synthetic: boolean;
  readonly createdAt: string;
}

export type Grade = 'A' | 'B' | 'C' | 'D' | 'E';

export interface YearRange {
  readonly from: number;
  readonly to: number;
}

export interface LevelShift {
  readonly entity: string;
  readonly fromYear: number;
  readonly toYear: number;
  readonly fromValue: number;
  readonly toValue: number;
  /** ln(toValue / fromValue). */
  readonly logChange: number;
  /** |logChange - median| / (1.4826 MAD): the robust z of this change within its series. */
  readonly robustZ: number;
  /** `spike` when the next change goes back by a similar amount (an outlier), else `shift`. */
  readonly kind: 'shift' | 'spike';
  /** `CTS->MoI` when the source changes between the two years, else null. */
  readonly sourceChange: string | null;
}

export interface OutOfRangeValue {
  readonly entity: string;
  readonly period: string;
  readonly value: number;
  readonly batchId: number;
}

export interface ConflictingDuplicate {
  readonly entity: string;
  readonly period: string;
  /** Every batch that holds the key, oldest first; the last one is the current value. */
  readonly values: readonly { readonly batchId: number; readonly value: number | null; readonly qualifier: string | null }[];
}

export interface StateMissingness {
  readonly entity: string;
  /** One mark per year of the window: `#` a value, `<` censored only, `.` missing. */
  readonly marks: string;
  readonly missing: number;
}

export interface GradeCriterion {
  readonly criterion: 'coverage' | 'recency' | 'outOfRange' | 'breaks';
  readonly value: number | null;
  readonly grade: Grade;
}

export interface IndicatorQuality {
  readonly indicator: string;
  readonly name: string;
  readonly unit: string;
  readonly observations: number;
  readonly censored: number;
  /** Stored rows without a value (explicit missing with a flag, or censored without a bound). */
  readonly withoutValue: number;
  readonly coverage: {
    /** Participating states with at least one value in the window. */
    readonly states: number;
    readonly ofStates: number;
    readonly cellsPresent: number;
    readonly cellsExpected: number;
    /** cellsPresent / cellsExpected, over the window. */
    readonly share: number;
    /** Participating states with a value, per year of the window. */
    readonly byYear: readonly { readonly year: number; readonly states: number }[];
  };
  readonly missing: {
    readonly cells: number;
    /** Participating states with no value at all in the window. */
    readonly absentStates: readonly string[];
    /** States with every year present. */
    readonly completeStates: number;
    /** The states with at least one year missing (absent ones included), in code order. */
    readonly pattern: readonly StateMissingness[];
  };
  readonly latest: {
    readonly latestYear: number | null;
    /** The median over the states with data of their latest year (rounded down). */
    readonly medianLatestYear: number | null;
    readonly byState: Readonly<Record<string, number | null>>;
  };
  readonly outOfRange: {
    readonly plausibleMin: number | null;
    readonly plausibleMax: number | null;
    readonly count: number;
    /** count / numeric values checked. */
    readonly share: number;
    readonly values: readonly OutOfRangeValue[];
  };
  readonly duplicates: {
    readonly count: number;
    readonly values: readonly ConflictingDuplicate[];
  };
  readonly levelShifts: {
    /** Year-on-year changes that could be tested (both values positive, series long enough). */
    readonly changesTested: number;
    readonly count: number;
    readonly withSourceChange: number;
    readonly shifts: readonly LevelShift[];
  };
  readonly grade: Grade;
  readonly criteria: readonly GradeCriterion[];
}

export interface BatchQuality {
  readonly id: number;
  readonly source: string;
  readonly fileName: string;
  readonly format: string;
  /** Admiralty grade as written: source reliability then information credibility (`B2`). */
  readonly admiralty: string;
  readonly synthetic: boolean;
  readonly createdAt: string;
  readonly observations: number;
  readonly indicators: number;
  readonly censored: number;
  readonly outOfRange: number;
  /** Keys of this batch that another batch holds with a different value. */
  readonly conflicts: number;
}

export interface StateCoverage {
  readonly state: string;
  /** Indicators with at least one value (or censored value) for the state or its sub-national entities. */
  readonly indicators: number;
  readonly observations: number;
  /** Of those, observations of sub-national entities (GB-SCT, London boroughs). */
  readonly fromSubnational: number;
  readonly years: YearRange | null;
  /** Batches in scope that hold data on the state, and those that hold none. */
  readonly batchesWithData: readonly number[];
  readonly batchesWithout: readonly number[];
}

export interface QualityReport {
  readonly scope: {
    readonly batch: number | null;
    readonly indicator: string | null;
    readonly years: YearRange | null;
    /** The year recency is measured against: `to`, or the latest year in the data. */
    readonly referenceYear: number | null;
    readonly states: number;
  };
  readonly method: {
    readonly levelShiftK: number;
    readonly levelShiftMinChanges: number;
    readonly levelShiftMinScale: number;
    readonly gradeWindowYears: number;
  };
  readonly overall: {
    readonly grade: Grade | null;
    readonly gradeCounts: Readonly<Record<Grade, number>>;
    readonly indicators: number;
    readonly observations: number;
    readonly censored: number;
    readonly outOfRange: number;
    readonly duplicates: number;
    readonly levelShifts: number;
    readonly levelShiftsWithSourceChange: number;
  };
  readonly batches: readonly BatchQuality[];
  /** What each participating state has, and which batches have nothing on it. */
  readonly states: readonly StateCoverage[];
  readonly indicators: readonly IndicatorQuality[];
}
