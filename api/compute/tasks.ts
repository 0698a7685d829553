/** What the assessment worker threads run (api/compute/worker.mjs loads this module). */
import { assess, type AssessmentContext, type AssessmentOptions, type AssessmentResult } from '../../engine/scoring/assessment.ts';

export interface AssessTaskInput {
  readonly context: AssessmentContext;
  readonly options: AssessmentOptions;
}

export function assessTask({ context, options }: AssessTaskInput): AssessmentResult {
  return assess(context, options);
}
