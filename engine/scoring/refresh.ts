/**
 * Recomputes the stored risk scores of the simple composite for every year that has data,
 * for the 57 OSCE participating states. These are the published scores: computed from public
 * batches only, so that a score read by anyone carries no restricted data (issue 6).
 */
import type { Kysely } from 'kysely';
import { PUBLIC_DATA } from '../access/roles.ts';
import { OSCE_PARTICIPATING_ISO3 } from '../../datasets/reference/osce.ts';
import { listIndicators } from '../store/catalogue.ts';
import { currentAnnualValues, dataVersion } from '../store/observations.ts';
import { replaceRiskScores, type ScoredYear } from '../store/risk-scores.ts';
import type { Database } from '../store/schema.ts';
import {
  DEFAULT_SIMPLE_COMPOSITE_OPTIONS,
  scoreSimpleComposite,
  SIMPLE_COMPOSITE_METHOD,
  type SimpleCompositeOptions,
} from './simple-composite.ts';

export async function refreshRiskScores(
  db: Kysely<Database>,
  options: SimpleCompositeOptions = DEFAULT_SIMPLE_COMPOSITE_OPTIONS,
): Promise<{ years: number[]; dataVersion: string }> {
  const [values, indicators, version] = await Promise.all([currentAnnualValues(db, { scope: PUBLIC_DATA }), listIndicators(db), dataVersion(db, PUBLIC_DATA)]);
  const scored = indicators.map((i) => ({ code: i.code, crimeArea: i.crime_area, polarity: i.polarity }));
  const years = [...new Set(values.map((v) => v.year))].sort((a, b) => a - b);
  const results: ScoredYear[] = years.map((year) => ({
    year,
    scores: scoreSimpleComposite(values, scored, OSCE_PARTICIPATING_ISO3, year, options),
  }));
  await replaceRiskScores(db, SIMPLE_COMPOSITE_METHOD, results, version.version);
  return { years, dataVersion: version.version };
}
