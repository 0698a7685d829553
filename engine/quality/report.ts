/**
 * The data-quality report: per indicator (coverage of the participating states, missingness,
 * latest years, out-of-range values, cross-batch duplicates, level shifts, censored values, a
 * grade) and per batch, from plain rows. Pure: engine/store/quality.ts reads the rows.
 */
import { stateCoverage } from './states.ts';
import { cellMarks, coverageOf, markedYearRange } from './coverage.ts';
import { conflictingDuplicates, currentObservations, observationKey } from './current.ts';
import { GRADE_WINDOW_YEARS, GRADES, gradeCriteria, medianGrade, worstGrade } from './grade.ts';
import { detectLevelShifts, LEVEL_SHIFT_DEFAULTS, type LevelShiftOptions } from './level-shifts.ts';
import { outOfRangeValues } from './range.ts';
import type {
  BatchQuality,
  Grade,
  IndicatorQuality,
  LevelShift,
  QualityBatchInfo,
  QualityIndicatorInfo,
  QualityObservation,
  QualityReport,
  YearRange,
} from './types.ts';

export interface QualityScope {
  readonly batch?: number;
  readonly indicator?: string;
  readonly from?: number;
  readonly to?: number;
}

export interface QualityReportInput {
  /** Observations in scope; for a batch report also the other batches' rows of the same keys. */
  readonly rows: readonly QualityObservation[];
  readonly indicators: readonly QualityIndicatorInfo[];
  readonly batches: readonly QualityBatchInfo[];
  /** The states whose coverage is measured: the 57 participating states. */
  readonly states: readonly string[];
  readonly scope: QualityScope;
  readonly levelShift?: LevelShiftOptions;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Level shifts of every entity's annual series of one indicator (current, uncensored values). */
export function levelShiftsOf(rows: readonly QualityObservation[], options: LevelShiftOptions = LEVEL_SHIFT_DEFAULTS) {
  const annual = rows.filter((r) => r.periodKind === 'year' && r.value !== null && r.qualifier === null);
  let changesTested = 0;
  const shifts: LevelShift[] = [];
  for (const [entity, series] of [...groupBy(annual, (r) => r.entity)].sort(([a], [b]) => a.localeCompare(b))) {
    const points = series.sort((a, b) => a.year - b.year).map((r) => ({ year: r.year, value: r.value!, source: r.source }));
    const found = detectLevelShifts(entity, points, options);
    changesTested += found.changesTested;
    shifts.push(...found.shifts);
  }
  return { changesTested, shifts };
}

/**
 * Share of state-year cells with a value over the last GRADE_WINDOW_YEARS years of the window,
 * counting only the years in which the indicator was published for some state: a biennial index
 * (GI-TOC) is not "missing" in the years it is not published. Recency grades a series that stopped.
 */
function recentCoverage(byYear: readonly { year: number; states: number }[], states: number): number {
  const recent = byYear.slice(-GRADE_WINDOW_YEARS).filter((y) => y.states > 0);
  const expected = recent.length * states;
  return expected === 0 ? 0 : recent.reduce((sum, y) => sum + y.states, 0) / expected;
}

function indicatorWindow(scope: QualityScope, dataRange: YearRange | null): YearRange | null {
  const from = scope.from ?? dataRange?.from;
  const to = scope.to ?? dataRange?.to;
  return from === undefined || to === undefined || from > to ? null : { from, to };
}

export function indicatorQuality(
  info: QualityIndicatorInfo,
  current: readonly QualityObservation[],
  conflicts: IndicatorQuality['duplicates']['values'],
  context: { states: readonly string[]; scope: QualityScope; referenceYear: number | null; levelShift: LevelShiftOptions },
): IndicatorQuality {
  const marks = cellMarks(current);
  const window = indicatorWindow(context.scope, markedYearRange(marks, context.states));
  const { coverage, missing, latest } = coverageOf(marks, context.states, window);
  const range = outOfRangeValues(current, info);
  const shifts = levelShiftsOf(current, context.levelShift);
  const criteria = gradeCriteria({
    coverage: recentCoverage(coverage.byYear, context.states.length),
    recency: latest.medianLatestYear === null || context.referenceYear === null ? null : Math.max(0, context.referenceYear - latest.medianLatestYear),
    outOfRange: range.checked === 0 ? null : range.values.length / range.checked,
    breaks: shifts.changesTested === 0 ? null : shifts.shifts.length / shifts.changesTested,
  });
  return {
    indicator: info.code,
    name: info.name,
    unit: info.unit,
    observations: current.length,
    censored: current.filter((r) => r.qualifier !== null).length,
    withoutValue: current.filter((r) => r.value === null).length,
    coverage,
    missing,
    latest,
    outOfRange: {
      plausibleMin: info.plausibleMin,
      plausibleMax: info.plausibleMax,
      count: range.values.length,
      share: range.checked === 0 ? 0 : range.values.length / range.checked,
      values: range.values,
    },
    duplicates: { count: conflicts.length, values: conflicts },
    levelShifts: {
      changesTested: shifts.changesTested,
      count: shifts.shifts.length,
      withSourceChange: shifts.shifts.filter((s) => s.sourceChange !== null).length,
      shifts: shifts.shifts,
    },
    grade: worstGrade(criteria.map((c) => c.grade)),
    criteria,
  };
}

function batchQuality(
  batch: QualityBatchInfo,
  rows: readonly QualityObservation[],
  indicators: ReadonlyMap<string, QualityIndicatorInfo>,
  conflicts: readonly { values: readonly { batchId: number }[] }[],
): BatchQuality {
  const mine = rows.filter((r) => r.batchId === batch.id);
  let outOfRange = 0;
  for (const [code, list] of groupBy(mine, (r) => r.indicator)) {
    const info = indicators.get(code);
    if (info) outOfRange += outOfRangeValues(list, info).values.length;
  }
  return {
    id: batch.id,
    source: batch.source,
    fileName: batch.fileName,
    format: batch.format,
    admiralty: `${batch.sourceReliability}${batch.informationCredibility}`,
    synthetic: batch.synthetic,
    createdAt: batch.createdAt,
    observations: mine.length,
    indicators: new Set(mine.map((r) => r.indicator)).size,
    censored: mine.filter((r) => r.qualifier !== null).length,
    outOfRange,
    conflicts: conflicts.filter((c) => c.values.some((v) => v.batchId === batch.id)).length,
  };
}

export function buildQualityReport(input: QualityReportInput): QualityReport {
  const levelShift = input.levelShift ?? LEVEL_SHIFT_DEFAULTS;
  const { scope } = input;
  const inScope = input.rows.filter(
    (r) => (scope.batch === undefined || r.batchId === scope.batch) && (scope.indicator === undefined || r.indicator === scope.indicator),
  );
  const current = currentObservations(inScope);
  const conflicts = conflictingDuplicates(input.rows, new Set(inScope.map(observationKey)));
  // A loop, not Math.max(...years): a million arguments overflow the stack.
  let latestYear: number | null = null;
  for (const r of current) if ((r.value !== null || r.qualifier !== null) && (latestYear === null || r.year > latestYear)) latestYear = r.year;
  const referenceYear = scope.to ?? latestYear;
  const infos = new Map(input.indicators.map((i) => [i.code, i]));
  const conflictsByIndicator = groupBy(conflicts, (c) => c.indicator);

  const indicators = [...groupBy(current, (r) => r.indicator)]
    .filter(([code]) => infos.has(code))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, rows]) =>
      indicatorQuality(infos.get(code)!, rows, (conflictsByIndicator.get(code) ?? []).map(({ indicator: _, ...c }) => c), {
        states: input.states,
        scope,
        referenceYear,
        levelShift,
      }),
    );

  const batchIds = new Set(inScope.map((r) => r.batchId));
  if (scope.batch !== undefined) batchIds.add(scope.batch);
  const batches = input.batches
    .filter((b) => batchIds.has(b.id))
    .sort((a, b) => a.id - b.id)
    .map((b) => batchQuality(b, inScope, infos, conflicts));

  const gradeCounts = Object.fromEntries(GRADES.map((g) => [g, 0])) as Record<Grade, number>;
  for (const i of indicators) gradeCounts[i.grade]++;
  const years = indicators.map((i) => i.coverage.byYear).filter((y) => y.length > 0);
  const sum = (f: (i: IndicatorQuality) => number) => indicators.reduce((s, i) => s + f(i), 0);
  return {
    scope: {
      batch: scope.batch ?? null,
      indicator: scope.indicator ?? null,
      years:
        years.length === 0
          ? null
          : { from: Math.min(...years.map((y) => y[0]!.year)), to: Math.max(...years.map((y) => y[y.length - 1]!.year)) },
      referenceYear,
      states: input.states.length,
    },
    method: {
      levelShiftK: levelShift.k,
      levelShiftMinChanges: levelShift.minChanges,
      levelShiftMinScale: levelShift.minScale,
      gradeWindowYears: GRADE_WINDOW_YEARS,
    },
    overall: {
      grade: medianGrade(indicators.map((i) => i.grade)),
      gradeCounts,
      indicators: indicators.length,
      observations: sum((i) => i.observations),
      censored: sum((i) => i.censored),
      outOfRange: sum((i) => i.outOfRange.count),
      duplicates: sum((i) => i.duplicates.count),
      levelShifts: sum((i) => i.levelShifts.count),
      levelShiftsWithSourceChange: sum((i) => i.levelShifts.withSourceChange),
    },
    batches,
    states: stateCoverage(current, input.states, input.batches),
    indicators,
  };
}
