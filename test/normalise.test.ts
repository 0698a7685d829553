/** Normalisation methods, on COINr's reference values and on cases computed by hand. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFramework } from '../engine/scoring/framework.ts';
import { scoreFramework } from '../engine/scoring/framework-scores.ts';
import { borda, dist2max, dist2ref, dist2targ, fracmax, goalposts, minmax, prank, rank, zscore } from '../engine/scoring/normalise.ts';

describe('normalisation', () => {
  it('minmax maps 1..10 to 0..100 as COINr does, inverts for direction -1, passes NaN through', () => {
    // COINr: x -> (x - 1) / (10 - 1) * 100 on data spanning 1..10.
    expect([...minmax([1, 4, 10, Number.NaN], 1, { low: 0, high: 100 })]).toEqual([0, (3 / 9) * 100, 100, Number.NaN]);
    expect([...minmax([1, 4, 10], -1, { low: 0, high: 10 })].map((x) => +x.toFixed(12))).toEqual([10, +(10 - (3 / 9) * 10).toFixed(12), 0]);
    expect([...minmax([3, 3], 1)]).toEqual([5, 5]);
  });

  it('goalposts give COINr reference values', () => {
    // COINr tests: goalposts(1, lower 0, upper 10, direction 1) = 0.1; with direction -1, 0.9.
    expect(goalposts([1], 1, { lower: 0, upper: 10 })[0]).toBeCloseTo(0.1, 12);
    expect(goalposts([1], -1, { lower: 0, upper: 10 })[0]).toBeCloseTo(0.9, 12);
    expect([...goalposts([-5, 15], 1, { lower: 0, upper: 10, scale: 100 })]).toEqual([0, 100]);
  });

  it('z-scores use the sample standard deviation', () => {
    // values 2, 4, 6: mean 4, sample sd 2 -> -1, 0, 1 (checked with R: scale(c(2, 4, 6))).
    expect([...zscore([2, 4, 6], 1)]).toEqual([-1, 0, 1]);
    expect([...zscore([2, 4, 6], -1, { mean: 10, sd: 2 })]).toEqual([12, 10, 8]);
  });

  it('ranks average ties, as R rank(ties.method = "average")', () => {
    // R: rank(c(10, 20, 20, 5)) = 2, 3.5, 3.5, 1.
    expect([...rank([10, 20, 20, 5, Number.NaN], 1)]).toEqual([2, 3.5, 3.5, 1, Number.NaN]);
    expect([...rank([10, 20, 20, 5], -1)]).toEqual([3, 1.5, 1.5, 4]);
  });
});

describe('more COINr normalisations (formulas of its n_* functions, values by hand)', () => {
  const v = [10, 20, 20, 5, Number.NaN];
  it('prank = (min-rank - 1) / (n - 1); borda = min-rank - 1 (scipy rankdata method="min")', () => {
    // rankdata([10, 20, 20, 5], "min") = [2, 3, 3, 1] -> prank [1/3, 2/3, 2/3, 0], borda [1, 2, 2, 0]
    expect([...prank(v, 1)].slice(0, 4)).toEqual([1 / 3, 2 / 3, 2 / 3, 0]);
    expect([...borda(v, 1)]).toEqual([1, 2, 2, 0, Number.NaN]);
    // direction -1 ranks -x: rankdata([-10, -20, -20, -5], "min") = [3, 1, 1, 4] -> [2/3, 0, 0, 1]
    expect([...prank(v, -1)]).toEqual([2 / 3, 0, 0, 1, Number.NaN]);
  });

  it('fracmax: x / max, and min / x for direction -1 (polarity kept)', () => {
    expect([...fracmax([5, 10, Number.NaN], 1)]).toEqual([0.5, 1, Number.NaN]);
    expect([...fracmax([5, 10], -1)]).toEqual([1, 0.5]);
  });

  it('dist2max = 1 - (max - x) / (max - min)', () => {
    expect([...dist2max([2, 4, 6], 1)]).toEqual([0, 0.5, 1]);
    expect([...dist2max([2, 4, 6], -1, { scale: 10 })]).toEqual([10, 5, 0]);
  });

  it('dist2ref = 1 - (ref - x) / (ref - min), by unit or value, optionally capped', () => {
    // ref unit 1 (x = 4), min 2: [0, 1, 2]; capped [0, 1, 1]; ref value 6: [0, 0.5, 1]
    expect([...dist2ref([2, 4, 6], 1, { refIndex: 1 })]).toEqual([0, 1, 2]);
    expect([...dist2ref([2, 4, 6], 1, { refIndex: 1, capMax: true })]).toEqual([0, 1, 1]);
    expect([...dist2ref([2, 4, 6], 1, { value: 6 })]).toEqual([0, 0.5, 1]);
    // direction -1 works on -x: ref -4, min -6 -> 1 - (-4 + x) / (-4 + 6) = [2, 1, 0]
    expect([...dist2ref([2, 4, 6], -1, { refIndex: 1 })]).toEqual([2, 1, 0]);
  });

  it('dist2targ = (x - min) / (target - min), or (max - x) / (max - target) for direction -1', () => {
    expect([...dist2targ([2, 4, 6], 1, { target: 10 })]).toEqual([0, 0.25, 0.5]);
    expect([...dist2targ([2, 4, 6], -1, { target: 0 })]).toEqual([4 / 6, 2 / 6, 0]);
    expect([...dist2targ([2, 4, 12], 1, { target: 10, capMax: true })]).toEqual([0, 0.25, 1]);
  });
});

describe('framework properties (minmax normalisation)', () => {
  const framework = parseFramework(
    {
      id: 'p',
      version: '1',
      title: 'property test',
      defaults: { aggregation: 'arithmetic', normalisation: { method: 'minmax', low: 0, high: 10 } },
      roots: [{ id: 'risk', children: [{ id: 'threat', weights: { h: 2, d: 1 }, children: ['h', 'd'] }, { id: 'weak', children: ['rol'] }] }],
    },
    new Set(['h', 'd', 'rol']),
  );
  const polarities = new Map([['h', 'higher_worse' as const], ['d', 'higher_worse' as const], ['rol', 'higher_better' as const]]);
  const panel = fc.array(fc.tuple(fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: -2.5, max: 2.5, noNaN: true })), { minLength: 3, maxLength: 12 });
  const toMap = (rows: [number, number, number][], names: string[]) =>
    new Map(rows.map(([h, d, rol], i) => [names[i]!, new Map([['h', h], ['d', d], ['rol', rol]])]));

  it('raising an indicator whose polarity means worse never lowers that entity’s score', () => {
    fc.assert(
      fc.property(panel, fc.nat(), fc.double({ min: 0, max: 50, noNaN: true }), (rows, pick, bump) => {
        const names = rows.map((_, i) => `E${i}`);
        const target = names[pick % names.length]!;
        const before = scoreFramework(framework, toMap(rows, names), polarities).find((r) => r.entity === target)!.scores.get('risk')!;
        const raised = rows.map((r, i) => (names[i] === target ? ([r[0] + bump, r[1], r[2]] as [number, number, number]) : r));
        const after = scoreFramework(framework, toMap(raised, names), polarities).find((r) => r.entity === target)!.scores.get('risk')!;
        expect(after).toBeGreaterThanOrEqual(before - 1e-9);
      }),
      { numRuns: 200, seed: 42 },
    );
  });

  it('renaming or reordering entities changes nothing', () => {
    fc.assert(
      fc.property(panel, (rows) => {
        const names = rows.map((_, i) => `E${i}`);
        const original = scoreFramework(framework, toMap(rows, names), polarities);
        const renamed = names.map((n) => `Z${n}`).reverse();
        const shuffled = scoreFramework(framework, toMap([...rows].reverse(), renamed), polarities);
        for (const row of original) {
          const other = shuffled.find((r) => r.entity === `Z${row.entity}`)!;
          expect(other.scores.get('risk')).toBeCloseTo(row.scores.get('risk')!, 9);
        }
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});
