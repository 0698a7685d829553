/**
 * The grade of an indicator, A (best) to E, and of a report. The rule is "weakest link": each of
 * four criteria gets a letter from the thresholds below and the indicator gets the worst of them,
 * so that the report can say which criterion set it.
 *
 * | criterion | measured as | A | B | C | D | E |
 * |---|---|---|---|---|---|---|
 * | coverage | share of state-year cells with a value, last 10 years of the window | >= 90 % | >= 75 % | >= 50 % | >= 25 % | less |
 * | recency | reference year minus the states' median latest year | <= 1 | <= 2 | <= 3 | <= 5 | more |
 * | outOfRange | share of values outside the plausible range | 0 | <= 0.5 % | <= 2 % | <= 5 % | more |
 * | breaks | share of tested year-on-year changes flagged as level shifts | <= 1 % | <= 2 % | <= 5 % | <= 10 % | more |
 *
 * A criterion that cannot be measured (no series long enough to test for breaks) is left out;
 * no data at all is E. The overall grade is the median of the indicator grades (the worse of the
 * two middle ones when their number is even).
 */
import type { Grade, GradeCriterion } from './types.ts';

export const GRADES: readonly Grade[] = ['A', 'B', 'C', 'D', 'E'];
/** Coverage for grading looks at the last decade of the window: what scores use. */
export const GRADE_WINDOW_YEARS = 10;

type Thresholds = readonly [number, number, number, number];
const AT_LEAST = {
  coverage: [0.9, 0.75, 0.5, 0.25] as Thresholds,
};
const AT_MOST = {
  recency: [1, 2, 3, 5] as Thresholds,
  outOfRange: [0, 0.005, 0.02, 0.05] as Thresholds,
  breaks: [0.01, 0.02, 0.05, 0.1] as Thresholds,
};

function letter(index: number): Grade {
  return GRADES[Math.min(index, 4)]!;
}

function gradeAtLeast(value: number, thresholds: Thresholds): Grade {
  const i = thresholds.findIndex((t) => value >= t);
  return letter(i < 0 ? 4 : i);
}

function gradeAtMost(value: number, thresholds: Thresholds): Grade {
  const i = thresholds.findIndex((t) => value <= t);
  return letter(i < 0 ? 4 : i);
}

export interface GradeInputs {
  /** Share of state-year cells with a value over the grading window (0-1). */
  readonly coverage: number;
  /** Years from the reference year back to the median latest year; null without data. */
  readonly recency: number | null;
  /** Share of checked values out of range (0-1); null when the catalogue has no range. */
  readonly outOfRange: number | null;
  /** Share of tested changes flagged (0-1); null when no change could be tested. */
  readonly breaks: number | null;
}

export function gradeCriteria(inputs: GradeInputs): GradeCriterion[] {
  const criteria: GradeCriterion[] = [{ criterion: 'coverage', value: inputs.coverage, grade: gradeAtLeast(inputs.coverage, AT_LEAST.coverage) }];
  criteria.push({ criterion: 'recency', value: inputs.recency, grade: inputs.recency === null ? 'E' : gradeAtMost(inputs.recency, AT_MOST.recency) });
  if (inputs.outOfRange !== null) criteria.push({ criterion: 'outOfRange', value: inputs.outOfRange, grade: gradeAtMost(inputs.outOfRange, AT_MOST.outOfRange) });
  if (inputs.breaks !== null) criteria.push({ criterion: 'breaks', value: inputs.breaks, grade: gradeAtMost(inputs.breaks, AT_MOST.breaks) });
  return criteria;
}

/** The worst letter among the criteria. */
export function worstGrade(grades: readonly Grade[]): Grade {
  return letter(Math.max(0, ...grades.map((g) => GRADES.indexOf(g))));
}

/** The median grade; the worse middle one for an even count; null for none. */
export function medianGrade(grades: readonly Grade[]): Grade | null {
  if (grades.length === 0) return null;
  const sorted = grades.map((g) => GRADES.indexOf(g)).sort((a, b) => a - b);
  return letter(sorted[Math.floor(sorted.length / 2)]!);
}
