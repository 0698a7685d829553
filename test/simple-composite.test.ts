/** The first composite score, checked on a case computed by hand. */
import { describe, expect, it } from 'vitest';
import { competitionRanks, scoreSimpleComposite, type AnnualValue } from '../engine/scoring/simple-composite.ts';

const indicators = [
  { code: 'hom', crimeArea: 'homicide', polarity: 'higher_worse' as const },
  { code: 'rol', crimeArea: 'governance', polarity: 'higher_better' as const },
  { code: 'pop', crimeArea: 'context', polarity: 'higher_worse' as const },
];

const v = (entity: string, indicator: string, year: number, value: number): AnnualValue => ({ entity, indicator, year, value });

describe('scoreSimpleComposite', () => {
  // Hand computation for 2020:
  // hom: A=1, B=3, C=5 -> min-max 0, 5, 10.
  // rol (higher is better, inverted): A=2, B=0, C=1 -> 10 - (10, 0, 5) = 0, 10, 5.
  // D has only an old value of hom (2015) outside the 3-year look-back: no score.
  // overall = mean of areas: A = (0 + 0) / 2 = 0, B = (5 + 10) / 2 = 7.5, C = (10 + 5) / 2 = 7.5.
  const values = [
    v('A', 'hom', 2020, 1),
    v('B', 'hom', 2018, 3), // latest within look-back (2017-2020)
    v('B', 'hom', 2016, 99), // outside the look-back, ignored
    v('C', 'hom', 2020, 5),
    v('C', 'hom', 2021, 500), // after the year, ignored
    v('A', 'rol', 2020, 2),
    v('B', 'rol', 2020, 0),
    v('C', 'rol', 2019, 1),
    v('D', 'hom', 2015, 10),
    v('A', 'pop', 2020, 1e6),
    v('B', 'pop', 2020, 1e3),
  ];
  const scores = scoreSimpleComposite(values, indicators, ['A', 'B', 'C', 'D'], 2020);
  const get = (entity: string, node: string) => scores.find((s) => s.entity === entity && s.node === node)!;

  it('normalises, inverts and averages as documented', () => {
    expect(get('A', 'homicide').score).toBeCloseTo(0, 12);
    expect(get('B', 'homicide').score).toBeCloseTo(5, 12);
    expect(get('C', 'homicide').score).toBeCloseTo(10, 12);
    expect(get('A', 'governance').score).toBeCloseTo(0, 12);
    expect(get('B', 'governance').score).toBeCloseTo(10, 12);
    expect(get('C', 'governance').score).toBeCloseTo(5, 12);
    expect(get('A', 'overall').score).toBeCloseTo(0, 12);
    expect(get('B', 'overall').score).toBeCloseTo(7.5, 12);
    expect(get('C', 'overall').score).toBeCloseTo(7.5, 12);
  });

  it('ranks with ties sharing the lower rank and leaves entities without data unranked', () => {
    expect(get('B', 'overall').rank).toBe(1);
    expect(get('C', 'overall').rank).toBe(1);
    expect(get('A', 'overall').rank).toBe(3);
    expect(get('D', 'overall')).toMatchObject({ score: null, rank: null, indicatorsUsed: 0 });
  });

  it('never scores context indicators', () => {
    expect(scores.some((s) => s.node === 'context')).toBe(false);
    expect(get('A', 'overall').indicatorsUsed).toBe(2);
  });

  it('does not depend on the order of entities', () => {
    const shuffled = scoreSimpleComposite([...values].reverse(), indicators, ['D', 'C', 'A', 'B'], 2020);
    for (const s of scores) {
      const other = shuffled.find((x) => x.entity === s.entity && x.node === s.node)!;
      expect(other.score).toBe(s.score);
      expect(other.rank).toBe(s.rank);
    }
  });

  it('never lowers the score when a higher-is-worse indicator rises', () => {
    const raised = values.map((x) => (x.entity === 'B' && x.indicator === 'hom' && x.year === 2018 ? { ...x, value: 4 } : x));
    const after = scoreSimpleComposite(raised, indicators, ['A', 'B', 'C', 'D'], 2020);
    expect(after.find((s) => s.entity === 'B' && s.node === 'overall')!.score!).toBeGreaterThan(get('B', 'overall').score!);
  });
});

describe('competitionRanks', () => {
  it('gives 1, 2, 2, 4 with nulls unranked', () => {
    expect(competitionRanks([9, 5, 5, 1, null])).toEqual([1, 2, 2, 4, null]);
  });
});
