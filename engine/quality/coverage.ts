/**
 * Coverage of the participating states by year, the missingness pattern and each state's latest
 * year, for one indicator's current observations.
 */
import type { IndicatorQuality, QualityObservation, StateMissingness, YearRange } from './types.ts';

/** Mark of a state-year cell: a value, only censored values (`<5`), or nothing. */
export type CellMark = '#' | '<' | '.';

/**
 * The mark of every state-year that has one: `#` when any observation of that year has a value
 * (quarters and months count for their year), `<` when it has only censored ones.
 */
export function cellMarks(rows: readonly QualityObservation[]): Map<string, Map<number, CellMark>> {
  const marks = new Map<string, Map<number, CellMark>>();
  for (const row of rows) {
    const mark: CellMark | null = row.qualifier !== null ? '<' : row.value !== null ? '#' : null;
    if (mark === null) continue;
    let years = marks.get(row.entity);
    if (!years) marks.set(row.entity, (years = new Map()));
    if (years.get(row.year) !== '#') years.set(row.year, mark);
  }
  return marks;
}

/** First and last year with a mark among `states`, or null when none has one. */
export function markedYearRange(marks: ReadonlyMap<string, ReadonlyMap<number, CellMark>>, states: readonly string[]): YearRange | null {
  let from = Infinity;
  let to = -Infinity;
  for (const state of states) {
    for (const year of marks.get(state)?.keys() ?? []) {
      if (year < from) from = year;
      if (year > to) to = year;
    }
  }
  return Number.isFinite(from) ? { from, to } : null;
}

export function yearsOf(window: YearRange): number[] {
  return Array.from({ length: window.to - window.from + 1 }, (_, i) => window.from + i);
}

/** Coverage, missingness and latest years of `states` over `window` (null: no state has data). */
export function coverageOf(
  marks: ReadonlyMap<string, ReadonlyMap<number, CellMark>>,
  states: readonly string[],
  window: YearRange | null,
): Pick<IndicatorQuality, 'coverage' | 'missing' | 'latest'> {
  const years = window ? yearsOf(window) : [];
  const byYear = years.map((year) => ({ year, states: states.filter((s) => marks.get(s)?.has(year)).length }));
  const pattern: StateMissingness[] = [];
  const absentStates: string[] = [];
  const byState: Record<string, number | null> = {};
  let cellsPresent = 0;
  let completeStates = 0;
  for (const state of [...states].sort()) {
    const stateMarks = marks.get(state);
    const line = years.map((y) => stateMarks?.get(y) ?? '.').join('');
    const present = line.replace(/\./g, '').length;
    cellsPresent += present;
    if (present === 0) absentStates.push(state);
    if (present === years.length && years.length > 0) completeStates++;
    else pattern.push({ entity: state, marks: line, missing: years.length - present });
    const inWindow = [...(stateMarks?.keys() ?? [])].filter((y) => !window || (y >= window.from && y <= window.to));
    byState[state] = inWindow.length > 0 ? Math.max(...inWindow) : null;
  }
  const cellsExpected = states.length * years.length;
  const latestYears = Object.values(byState).filter((y): y is number => y !== null).sort((a, b) => a - b);
  return {
    coverage: {
      states: states.length - absentStates.length,
      ofStates: states.length,
      cellsPresent,
      cellsExpected,
      share: cellsExpected === 0 ? 0 : cellsPresent / cellsExpected,
      byYear,
    },
    missing: { cells: cellsExpected - cellsPresent, absentStates, completeStates, pattern },
    latest: {
      latestYear: latestYears.length > 0 ? latestYears[latestYears.length - 1]! : null,
      medianLatestYear: latestYears.length > 0 ? latestYears[Math.floor((latestYears.length - 1) / 2)]! : null,
      byState,
    },
  };
}
