import { describe, expect, it } from 'vitest';
import {
  assessConfidence,
  coverageLevel,
  rankIntervalLevel,
  recencyLevel,
  reliabilityLevel,
  reliabilityTier,
  type ConfidenceInput,
} from '../engine/scoring/confidence.ts';
import type { SourceGrade } from '../engine/ingest/grades.ts';

const admiralty = (g: string): SourceGrade => ({ scheme: 'admiralty', source: g[0]!, information: g[1]! });
const europol = (g: string): SourceGrade => ({ scheme: 'europol_4x4', source: g[0]!, information: g[1]! });

// Every threshold edge of the table in engine/scoring/confidence.ts: on the edge and just past it.
describe('factor thresholds', () => {
  it('coverage: >= 0.80 high, >= 0.66 medium, else low', () => {
    expect(coverageLevel(1)).toBe('high');
    expect(coverageLevel(0.8)).toBe('high');
    expect(coverageLevel(0.7999)).toBe('medium');
    expect(coverageLevel(0.66)).toBe('medium');
    expect(coverageLevel(0.6599)).toBe('low');
    expect(coverageLevel(0)).toBe('low');
  });

  it('recency: <= 2 years high, <= 5 medium, else low', () => {
    expect(recencyLevel(0)).toBe('high');
    expect(recencyLevel(2)).toBe('high');
    expect(recencyLevel(3)).toBe('medium');
    expect(recencyLevel(5)).toBe('medium');
    expect(recencyLevel(6)).toBe('low');
  });

  it('rank interval width: <= 0.10 high, <= 0.25 medium, else low', () => {
    expect(rankIntervalLevel(0.1)).toBe('high');
    expect(rankIntervalLevel(0.1001)).toBe('medium');
    expect(rankIntervalLevel(0.25)).toBe('medium');
    expect(rankIntervalLevel(0.2501)).toBe('low');
  });

  it('reliability: the worse tier decides; both <= 2 high, both <= 3 medium, else low', () => {
    expect(reliabilityLevel({ source: 2, information: 2 })).toBe('high');
    expect(reliabilityLevel({ source: 1, information: 3 })).toBe('medium');
    expect(reliabilityLevel({ source: 3, information: 3 })).toBe('medium');
    expect(reliabilityLevel({ source: 4, information: 1 })).toBe('low');
  });
});

describe('reliabilityTier: Admiralty and Europol 4x4 on one scale (table in the doc comment)', () => {
  it('Admiralty A-F and 1-6', () => {
    expect(['A1', 'B2', 'C3', 'D4', 'E5', 'F6'].map((g) => reliabilityTier(admiralty(g)))).toEqual([
      { source: 1, information: 1 },
      { source: 2, information: 2 },
      { source: 3, information: 3 },
      { source: 4, information: 4 },
      { source: 4, information: 4 },
      { source: 4, information: 4 },
    ]);
  });

  it('Europol A, B, C, X and 1-4: C (mostly unreliable) and X (cannot be assessed) are the worst tier', () => {
    expect(['A1', 'B2', 'C3', 'X4'].map((g) => reliabilityTier(europol(g)))).toEqual([
      { source: 1, information: 1 },
      { source: 2, information: 2 },
      { source: 4, information: 3 },
      { source: 4, information: 4 },
    ]);
  });

  it('the connector defaults land where expected: A1, A2, B2 high; C3 medium; F6 low', () => {
    expect(['A1', 'A2', 'B2', 'C3', 'F6'].map((g) => reliabilityLevel(reliabilityTier(admiralty(g))))).toEqual(['high', 'high', 'high', 'medium', 'low']);
    expect(reliabilityLevel(reliabilityTier(europol('B3')))).toBe('medium');
    expect(reliabilityLevel(reliabilityTier(europol('C1')))).toBe('low');
  });
});

describe('assessConfidence', () => {
  const indicators = Array.from({ length: 12 }, (_, i) => `i${i}`);
  const allValues = new Map(indicators.map((c) => [c, 1]));
  const base: ConfidenceInput = {
    year: 2022,
    indicators,
    values: allValues,
    latestYear: new Map(indicators.map((c) => [c, 2021])),
    grades: [admiralty('A1'), admiralty('B2')],
    rankInterval: { low: 6, high: 10, units: 57 },
  };

  it('all factors high: high', () => {
    const c = assessConfidence(base);
    expect(c.level).toBe('high');
    expect(c.reasons.map((r) => r.code)).toEqual(['coverage_high', 'recency_high', 'reliability_high', 'rank_interval_high']);
  });

  it('the level is the worst factor, and its reason comes first', () => {
    // 3 of 12 imputed: 9/12 = 0.75 -> medium. Homicide latest 2016: 6 years -> low.
    const c = assessConfidence({
      ...base,
      imputed: new Map([['i0', 'regression'], ['i1', 'regression'], ['i2', 'latest']]),
      latestYear: new Map([...base.latestYear!, ['i5', 2016]]),
      labels: new Map([['i5', 'homicide']]),
    });
    expect(c.level).toBe('low');
    expect(c.reasons[0]).toEqual({ factor: 'recency', level: 'low', code: 'recency_low', message: 'the latest homicide value is from 2016' });
    expect(c.reasons[1]).toEqual({ factor: 'coverage', level: 'medium', code: 'coverage_medium', message: '9 of 12 indicators observed (3 imputed, 0 missing)' });
  });

  it('coverage counts missing and imputed alike against the framework; edges through the whole rule', () => {
    // 10 indicators, 8 present and observed: 0.8 -> high; 7: 0.7 -> medium; 6: 0.6 -> low.
    const ten = indicators.slice(0, 10);
    const withPresent = (n: number) => assessConfidence({ year: 2022, indicators: ten, values: new Map(ten.slice(0, n).map((c) => [c, 1])) });
    expect(withPresent(8).level).toBe('high');
    expect(withPresent(7).level).toBe('medium');
    expect(withPresent(6).level).toBe('low');
    expect(withPresent(6).reasons[0]!.message).toBe('6 of 10 indicators observed (0 imputed, 4 missing)');
  });

  it('recency is judged on the stalest present indicator; an absent indicator\'s year does not count', () => {
    const c = assessConfidence({ ...base, values: new Map([...allValues].filter(([k]) => k !== 'i3')), latestYear: new Map([...base.latestYear!, ['i3', 2000]]) });
    expect(c.reasons.find((r) => r.factor === 'recency')!.level).toBe('high');
    // 2022 - 2017 = 5 years: medium (edge); 2022 - 2020 = 2: high (edge).
    expect(assessConfidence({ ...base, latestYear: new Map([['i0', 2017]]) }).reasons.find((r) => r.factor === 'recency')!.level).toBe('medium');
    expect(assessConfidence({ ...base, latestYear: new Map([['i0', 2020]]) }).reasons.find((r) => r.factor === 'recency')!.level).toBe('high');
  });

  it('reliability is the weakest grade across the batches, Europol and Admiralty mixed', () => {
    const c = assessConfidence({ ...base, grades: [admiralty('A1'), europol('X2')] });
    expect(c.level).toBe('low');
    expect(c.reasons[0]).toMatchObject({ code: 'reliability_low', message: 'the weakest source grade is Europol X2' });
  });

  it('rank interval width relative to the units, at the edges', () => {
    // (20 - 10) / 100 = 0.10 -> high; (35 - 10) / 100 = 0.25 -> medium; (36 - 10) / 100 = 0.26 -> low.
    const at = (high: number) => assessConfidence({ ...base, rankInterval: { low: 10, high, units: 100 } }).level;
    expect(at(20)).toBe('high');
    expect(at(21)).toBe('medium');
    expect(at(35)).toBe('medium');
    expect(at(36)).toBe('low');
  });

  it('factors without input are reported as not assessed, last, and do not lower the level', () => {
    const c = assessConfidence({ year: 2022, indicators: ['a'], values: new Map([['a', 1]]) });
    expect(c.level).toBe('high');
    expect(c.reasons.map((r) => r.code)).toEqual(['coverage_high', 'recency_not_assessed', 'reliability_not_assessed', 'rank_interval_not_assessed']);
  });
});
