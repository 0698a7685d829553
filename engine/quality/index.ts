/** The data-quality report: pure functions over plain typed rows (engine/store/quality.ts reads them). */
export { buildQualityReport, indicatorQuality, levelShiftsOf, type QualityReportInput, type QualityScope } from './report.ts';
export { cellMarks, coverageOf, markedYearRange } from './coverage.ts';
export { conflictingDuplicates, currentObservations, observationKey } from './current.ts';
export { GRADE_WINDOW_YEARS, GRADES, gradeCriteria, medianGrade, worstGrade, type GradeInputs } from './grade.ts';
export { detectLevelShifts, LEVEL_SHIFT_DEFAULTS, type LevelShiftOptions, type SeriesPoint } from './level-shifts.ts';
export { outOfRangeValues } from './range.ts';
export { robustZScores } from './robust.ts';
export { seriesConfidenceInputs, type SeriesConfidenceInputs } from './confidence.ts';
export { formatQualityText, formatValue } from './text.ts';
export type * from './types.ts';
