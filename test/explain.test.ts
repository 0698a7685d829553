import { describe, expect, it } from 'vitest';
import { explainChange, explainFramework, explainScore, logarithmicMean, shapleyValues, topDrivers, type RootExplanation } from '../engine/scoring/explain.ts';
import { parseFramework, scoreEntity, type Framework, type FrameworkNode } from '../engine/scoring/framework.ts';
import { createRandom } from '../engine/stats/random.ts';

/** Aggregations the framework module may not know yet (harmonic, generalised, copeland) pass through `unknown`. */
const node = (n: unknown) => n as FrameworkNode;
const values = (entries: Record<string, number>) => new Map(Object.entries(entries));
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const term = (e: RootExplanation, code: string) => e.contributions.find((c) => c.indicator === code)!.term;
const leaves = (n: FrameworkNode | string): string[] => (typeof n === 'string' ? [n] : n.children.flatMap(leaves));
/** The scorer's framework around one root, through the public parser (defaults for every other step). */
const frameworkOf = (root: FrameworkNode): Framework => parseFramework({ id: 't', version: '1', title: 'T', roots: [root] }, new Set(leaves(root)));

// Two levels, weights 2:1, one indicator (d) missing.
// A = (2 + 4) / 2 = 3; B = 6 (d drops out); root = (2 x 3 + 1 x 6) / 3 = 4.
// Terms: a = 2/3 x 1/2 x 2 = 2/3; b = 2/3 x 1/2 x 4 = 4/3; c = 1/3 x 6 = 2; sum 4.
// Effective weights 1/3 each; relative = term - 4/3: a -2/3, b 0, c +2/3.
const arithmeticTree = node({
  id: 'root',
  aggregation: 'arithmetic',
  weights: { A: 2, B: 1 },
  children: [
    { id: 'A', aggregation: 'arithmetic', children: ['a', 'b'] },
    { id: 'B', aggregation: 'arithmetic', children: ['c', 'd'] },
  ],
});

// INFORM style: arithmetic pillars, geometric top. H = (2 + 6) / 2 = 4; V = (1 + 3) / 2 = 2; C = 8;
// root = (4 x 2 x 8)^(1/3) = 4. Pillar log terms: ln4/3, ln2/3, ln8/3 = ln2. Inside H, h1 has
// 1/2 x 2 = 1 of 4 (share 1/4), h2 3 of 4: h1 = ln4/12, h2 = ln4/4; likewise v1 = ln2/12, v2 = ln2/4;
// c1 = ln2. Sum = 2 ln2 = ln4. Factor of h2 = exp(ln4/4) = sqrt(2).
const informTree = node({
  id: 'risk',
  aggregation: 'geometric',
  children: [
    { id: 'H', aggregation: 'arithmetic', children: ['h1', 'h2'] },
    { id: 'V', aggregation: 'arithmetic', children: ['v1', 'v2'] },
    { id: 'C', aggregation: 'arithmetic', children: ['c1'] },
  ],
});

describe('explainScore: arithmetic trees are additive', () => {
  const e = explainScore(arithmeticTree, values({ a: 2, b: 4, c: 6 }), {
    raw: values({ a: 20, b: 40 }),
    imputed: new Map([['b', 'latest_within_3y']]),
  });

  it('reproduces the hand-computed terms, weights and relatives', () => {
    expect(e.score).toBeCloseTo(4, 12);
    expect(e.space).toBe('additive');
    expect(term(e, 'a')).toBeCloseTo(2 / 3, 12);
    expect(term(e, 'b')).toBeCloseTo(4 / 3, 12);
    expect(term(e, 'c')).toBeCloseTo(2, 12);
    for (const c of e.contributions) expect(c.weight).toBeCloseTo(1 / 3, 12);
    expect(e.contributions.map((c) => c.relative)).toEqual([expect.closeTo(-2 / 3, 12), expect.closeTo(0, 12), expect.closeTo(2 / 3, 12)]);
    expect(e.contributions.map((c) => c.indicator)).toEqual(['a', 'b', 'c']); // d is missing: no contribution
    expect(e.contributions[0]!.path).toEqual(['root', 'A']);
    expect(e.exact).toBe(true);
  });

  it('sums exactly to the score and agrees with the scorer', () => {
    expect(Math.abs(sum(e.contributions.map((c) => c.term)) - e.score!)).toBeLessThan(1e-9);
    expect(e.score).toBeCloseTo(scoreEntity(frameworkOf(arithmeticTree), values({ a: 2, b: 4, c: 6 })).get('root')!, 12);
  });

  it('names the drivers with raw value, weight and imputation', () => {
    const d = topDrivers(e, 2);
    expect(d.up.map((c) => c.indicator)).toEqual(['c', 'b']);
    expect(d.down.map((c) => c.indicator)).toEqual(['a']);
    expect(d.up[1]).toMatchObject({ raw: 40, value: 4, imputed: 'latest_within_3y' });
    expect(d.up[0]).toMatchObject({ raw: null, imputed: null });
  });

  it('returns a missing score, not zero, when nothing is present', () => {
    const none = explainScore(arithmeticTree, new Map());
    expect(none.score).toBeNull();
    expect(none.contributions).toEqual([]);
  });

  it('sums to the score within 1e-9 on random three-level weighted trees (seeded)', () => {
    const rng = createRandom(42);
    for (let trial = 0; trial < 200; trial++) {
      let n = 0;
      const build = (depth: number): FrameworkNode => {
        const kids: (FrameworkNode | string)[] = [];
        const k = 1 + rng.int(0, 4);
        for (let i = 0; i < k; i++) kids.push(depth > 0 && rng.next() < 0.5 ? build(depth - 1) : `x${n++}`);
        const weights = Object.fromEntries(kids.map((c) => [typeof c === 'string' ? c : c.id, rng.next() * 3]));
        return node({ id: `n${n++}`, aggregation: 'arithmetic', weights, children: kids });
      };
      const tree = build(2);
      const v = new Map<string, number>();
      for (let i = 0; i < n; i++) if (rng.next() < 0.8) v.set(`x${i}`, rng.next() * 10);
      const e = explainScore(tree, v);
      const scored = scoreEntity(frameworkOf(tree), v).get(tree.id) ?? null;
      if (scored === null) {
        expect(e.score).toBeNull();
        continue;
      }
      expect(Math.abs(e.score! - scored)).toBeLessThan(1e-9);
      expect(Math.abs(sum(e.contributions.map((c) => c.term)) - e.score!)).toBeLessThan(1e-9);
      expect(Math.abs(sum(e.contributions.map((c) => c.relative)))).toBeLessThan(1e-9);
    }
  });
});

describe('explainScore: geometric and mixed (INFORM-style) trees are log-additive', () => {
  const v = values({ h1: 2, h2: 6, v1: 1, v2: 3, c1: 8 });
  const e = explainScore(informTree, v);

  it('reproduces the hand-computed log terms and factors', () => {
    expect(e.score).toBeCloseTo(4, 12);
    expect(e.space).toBe('log');
    expect(e.total).toBeCloseTo(Math.log(4), 12);
    expect(term(e, 'h1')).toBeCloseTo(Math.log(4) / 12, 12);
    expect(term(e, 'h2')).toBeCloseTo(Math.log(4) / 4, 12);
    expect(term(e, 'v1')).toBeCloseTo(Math.log(2) / 12, 12);
    expect(term(e, 'v2')).toBeCloseTo(Math.log(2) / 4, 12);
    expect(term(e, 'c1')).toBeCloseTo(Math.log(2), 12);
    expect(e.contributions.find((c) => c.indicator === 'h2')!.factor).toBeCloseTo(Math.SQRT2, 12);
  });

  it('is exact in total: log terms sum to ln(score), factors multiply to the score', () => {
    expect(Math.abs(sum(e.contributions.map((c) => c.term)) - Math.log(e.score!))).toBeLessThan(1e-9);
    expect(Math.abs(e.contributions.reduce((acc, c) => acc * c.factor!, 1) - e.score!)).toBeLessThan(1e-9);
    expect(e.score).toBeCloseTo(scoreEntity(frameworkOf(informTree), v).get('risk')!, 12);
  });

  it('sums within 1e-9 on random INFORM-style data, zeros (floored) and missing values included (seeded)', () => {
    const rng = createRandom(7);
    for (let trial = 0; trial < 200; trial++) {
      const v = new Map<string, number>();
      for (const code of ['h1', 'h2', 'v1', 'v2', 'c1']) if (rng.next() < 0.85) v.set(code, rng.next() < 0.1 ? 0 : rng.next() * 10);
      const e = explainScore(informTree, v);
      const scored = scoreEntity(frameworkOf(informTree), v).get('risk') ?? null;
      if (scored === null) continue;
      expect(Math.abs(e.score! - scored)).toBeLessThan(1e-9);
      expect(Math.abs(sum(e.contributions.map((c) => c.term)) - Math.log(e.score!))).toBeLessThan(1e-9);
    }
  });

  it('explains every root of a framework', () => {
    expect(explainFramework([arithmeticTree, informTree], values({ a: 2, h1: 2 })).map((r) => r.root)).toEqual(['root', 'risk']);
  });
});

describe('explainScore: harmonic, generalised and unknown aggregations', () => {
  it('harmonic: additive in 1/x (hand-computed)', () => {
    // H(1, 4) = 2 / (1 + 1/4) = 1.6; terms 1/2 x 1 = 0.5 and 1/2 x 1/4 = 0.125; sum 0.625 = 1 / 1.6.
    const e = explainScore(node({ id: 'r', aggregation: 'harmonic', children: ['x', 'y'] }), values({ x: 1, y: 4 }));
    expect(e.score).toBeCloseTo(1.6, 12);
    expect(e.space).toBe('reciprocal');
    expect(term(e, 'x')).toBeCloseTo(0.5, 12);
    expect(term(e, 'y')).toBeCloseTo(0.125, 12);
    expect(e.total).toBeCloseTo(1 / 1.6, 12);
    // A larger value has a smaller reciprocal and adds more to a harmonic mean.
    expect(topDrivers(e, 1).up[0]!.indicator).toBe('y');
    expect(topDrivers(e, 1).down[0]!.indicator).toBe('x');
  });

  it('generalised p = 2: additive in x^2 (hand-computed)', () => {
    // M = sqrt((1 + 9) / 2) = sqrt(5); terms 0.5 and 4.5; sum 5 = M^2.
    const e = explainScore(node({ id: 'r', aggregation: 'generalised', p: 2, children: ['x', 'y'] }), values({ x: 1, y: 3 }));
    expect(e.score).toBeCloseTo(Math.sqrt(5), 12);
    expect(e.space).toBe('power');
    expect(e.p).toBe(2);
    expect(term(e, 'x')).toBeCloseTo(0.5, 12);
    expect(term(e, 'y')).toBeCloseTo(4.5, 12);
  });

  it('a harmonic node nested in an arithmetic one passes its value on by Euler shares (hand-computed)', () => {
    // N = H(1, 4) = 1.6; root = (1.6 + 2.4) / 2 = 2. Euler inside N: x 1.6 x 0.5 / 0.625 = 1.28,
    // y 1.6 x 0.125 / 0.625 = 0.32. Root terms: x 0.64, y 0.16, z 1.2; sum 2.
    const tree = node({ id: 'r', aggregation: 'arithmetic', children: [{ id: 'N', aggregation: 'harmonic', children: ['x', 'y'] }, 'z'] });
    const e = explainScore(tree, values({ x: 1, y: 4, z: 2.4 }));
    expect(e.score).toBeCloseTo(2, 12);
    expect(term(e, 'x')).toBeCloseTo(0.64, 12);
    expect(term(e, 'y')).toBeCloseTo(0.16, 12);
    expect(term(e, 'z')).toBeCloseTo(1.2, 12);
  });

  it('generalised p = 0 is the geometric mean, in log space', () => {
    const e = explainScore(node({ id: 'r', aggregation: 'generalised', p: 0, children: ['x', 'y'] }), values({ x: 1, y: 4 }));
    expect(e.space).toBe('log');
    expect(e.score).toBeCloseTo(2, 12);
  });

  it('agrees with the scorer on harmonic and generalised trees, floors and zero values included (seeded)', () => {
    const rng = createRandom(5);
    const tree = node({
      id: 'r',
      aggregation: 'arithmetic',
      children: [
        { id: 'H', aggregation: 'harmonic', children: ['a', 'b'] },
        { id: 'G', aggregation: 'generalised', p: 2, children: ['c', 'd'] },
        { id: 'G3', aggregation: 'generalised', p: -2, children: ['e', 'f'] },
      ],
    });
    for (let trial = 0; trial < 100; trial++) {
      const v = new Map(['a', 'b', 'c', 'd', 'e', 'f'].filter(() => rng.next() < 0.9).map((k) => [k, rng.next() < 0.1 ? 0.001 : rng.next() * 10] as const));
      const e = explainScore(tree, v);
      const scored = scoreEntity(frameworkOf(tree), v).get('r') ?? null;
      if (scored === null) continue;
      expect(Math.abs(e.score! - scored)).toBeLessThan(1e-9);
      expect(Math.abs(sum(e.contributions.map((c) => c.term)) - e.score!)).toBeLessThan(1e-9);
    }
  });

  it('follows the availability threshold and weight overrides (PCA weights from the pipeline)', () => {
    // A needs 2 of 3 children: with a alone (1/3) it is missing, and the root is B's 6.
    const tree = node({
      id: 'r',
      aggregation: 'arithmetic',
      children: [{ id: 'A', aggregation: 'arithmetic', availability: 0.66, children: ['a', 'b', 'x'] }, { id: 'B', aggregation: 'arithmetic', children: ['c'] }],
    });
    expect(explainScore(tree, values({ a: 2, c: 6 })).score).toBe(6);
    expect(scoreEntity(frameworkOf(tree), values({ a: 2, c: 6 })).get('r')).toBe(6);
    // With a and b (2/3 >= 0.66) A = 3 and the root is (3 + 6) / 2 = 4.5; a framework default of 1 makes A missing.
    expect(explainScore(tree, values({ a: 2, b: 4, c: 6 })).score).toBeCloseTo(4.5, 12);
    const flat = node({ id: 'r', aggregation: 'arithmetic', children: ['a', 'b'] });
    expect(explainScore(flat, values({ a: 2 }), { availability: 1 }).score).toBeNull();
    // Weights 3:1 from the pipeline: (3 x 2 + 1 x 6) / 4 = 3; terms 1.5 and 1.5.
    const w = explainScore(flat, values({ a: 2, b: 6 }), { nodeWeights: new Map([['r', { a: 3, b: 1 }]]) });
    expect(w.score).toBeCloseTo(3, 12);
    expect(term(w, 'a')).toBeCloseTo(1.5, 12);
  });

  it('unknown aggregation with an evaluator: exact Shapley (hand-computed with max)', () => {
    // v({a}) = 1, v({b}) = 3, v({a,b}) = 3. phi_a = (1 - 0)/2 + (3 - 3)/2 = 0.5; phi_b = 3/2 + (3 - 1)/2 = 2.5.
    const e = explainScore(node({ id: 'r', aggregation: 'copeland', children: ['a', 'b'] }), values({ a: 1, b: 3 }), {
      aggregators: { copeland: (xs) => Math.max(...xs) },
    });
    expect(e.space).toBe('shapley');
    expect(e.score).toBe(3);
    expect(term(e, 'a')).toBeCloseTo(0.5, 12);
    expect(term(e, 'b')).toBeCloseTo(2.5, 12);
    expect(e.exact).toBe(true);
  });

  it('Copeland with only the pipeline\'s value: proportional split, marked inexact', () => {
    // Given 5; w x = 0.5 and 1.5 of 2: 5 x 0.25 = 1.25 and 5 x 0.75 = 3.75.
    const e = explainScore(node({ id: 'r', aggregation: 'copeland', children: ['a', 'b'] }), values({ a: 1, b: 3 }), { nodeScores: new Map([['r', 5]]) });
    expect(term(e, 'a')).toBeCloseTo(1.25, 12);
    expect(term(e, 'b')).toBeCloseTo(3.75, 12);
    expect(e.exact).toBe(false);
  });

  it('Copeland (or an unknown aggregation) with neither: an error that says what to pass', () => {
    expect(() => explainScore(node({ id: 'r', aggregation: 'copeland', children: ['a'] }), values({ a: 1 }))).toThrow(/options\.aggregators/);
  });

  it('shapleyValues: symmetric players share equally; efficiency holds', () => {
    // v(S) = |S|^2 over 3 symmetric players: 9 / 3 = 3 each.
    expect(shapleyValues(3, (s) => s.length ** 2)).toEqual([expect.closeTo(3, 12), expect.closeTo(3, 12), expect.closeTo(3, 12)]);
    expect(() => shapleyValues(11, () => 0)).toThrow(/at most 10/);
  });
});

describe('explainChange', () => {
  const flat = node({ id: 'r', aggregation: 'arithmetic', children: ['a', 'b'] });
  const geo = node({ id: 'r', aggregation: 'geometric', children: ['a', 'b'] });

  it('arithmetic: the difference of contributions, exact (hand-computed)', () => {
    // 2021: (2 + 4) / 2 = 3; 2022: (3 + 4) / 2 = 3.5. a: 1.5 - 1 = +0.5; b: 0.
    const c = explainChange(flat, values({ a: 2, b: 4 }), values({ a: 3, b: 4 }))!;
    expect(c.change).toBeCloseTo(0.5, 12);
    expect(c.contributions).toEqual([
      { indicator: 'a', termChange: expect.closeTo(0.5, 12), points: expect.closeTo(0.5, 12) },
      { indicator: 'b', termChange: expect.closeTo(0, 12), points: expect.closeTo(0, 12) },
    ]);
    expect(Math.abs(c.residual)).toBeLessThan(1e-12);
  });

  it('equals the difference of the two explanations\' terms on arithmetic trees', () => {
    const v0 = values({ a: 2, b: 4, c: 6 });
    const v1 = values({ a: 5, b: 1, c: 7 });
    const c = explainChange(arithmeticTree, v0, v1)!;
    for (const code of ['a', 'b', 'c']) {
      expect(c.contributions.find((x) => x.indicator === code)!.points).toBeCloseTo(term(explainScore(arithmeticTree, v1), code) - term(explainScore(arithmeticTree, v0), code), 12);
    }
  });

  it('an indicator present in one year only (hand-computed)', () => {
    // 2021: a alone, 2; 2022: (2 + 4) / 2 = 3. a's term falls 2 -> 1 (its weight halves): -1; b: +2; sum +1.
    const c = explainChange(flat, values({ a: 2 }), values({ a: 2, b: 4 }))!;
    expect(c.contributions.find((x) => x.indicator === 'a')!.points).toBeCloseTo(-1, 12);
    expect(c.contributions.find((x) => x.indicator === 'b')!.points).toBeCloseTo(2, 12);
  });

  it('geometric: the log change split, converted by the logarithmic mean (hand-computed)', () => {
    // 2021: sqrt(1 x 4) = 2; 2022: sqrt(4 x 4) = 4. Change of a's term: ln4/2 - 0 = ln2; b: 0.
    // L(2, 4) = 2 / ln2, so a's points = 2 = the whole change.
    const c = explainChange(geo, values({ a: 1, b: 4 }), values({ a: 4, b: 4 }))!;
    expect(c.space).toBe('log');
    expect(c.contributions[0]!.termChange).toBeCloseTo(Math.log(2), 12);
    expect(c.contributions[0]!.points).toBeCloseTo(2, 12);
    expect(c.contributions[1]!.points).toBeCloseTo(0, 12);
    expect(logarithmicMean(2, 4)).toBeCloseTo(2 / Math.log(2), 12);
    expect(logarithmicMean(3, 3)).toBe(3);
  });

  it('INFORM-style: an unchanged indicator gets 0, the changed one the whole change (hand-computed)', () => {
    // threat = mean(cocaine, heroin), resilience = law; risk = sqrt(threat x resilience).
    // 2021: threat (6 + 4) / 2 = 5, risk sqrt(25) = 5. 2022: cocaine 8, threat 6, risk sqrt(30).
    // Log change 0.5 ln(6/5), all of it cocaine's (its points inside threat: 4 - 3 = 1 of 1);
    // points = L(5, sqrt30) x 0.5 ln1.2 = (sqrt30 - 5) / (0.5 ln1.2) x 0.5 ln1.2 = sqrt30 - 5.
    const tree = node({
      id: 'risk',
      aggregation: 'geometric',
      children: [
        { id: 'threat', aggregation: 'arithmetic', children: ['cocaine', 'heroin'] },
        { id: 'resilience', aggregation: 'arithmetic', children: ['law'] },
      ],
    });
    const c = explainChange(tree, values({ cocaine: 6, heroin: 4, law: 5 }), values({ cocaine: 8, heroin: 4, law: 5 }))!;
    const get = (k: string) => c.contributions.find((x) => x.indicator === k)!;
    expect(get('cocaine').termChange).toBeCloseTo(0.5 * Math.log(1.2), 12);
    expect(get('cocaine').points).toBeCloseTo(Math.sqrt(30) - 5, 12);
    expect(get('heroin').points).toBeCloseTo(0, 12);
    expect(get('law').points).toBeCloseTo(0, 12);
  });

  it('harmonic: converted by -s0 s1 (hand-computed)', () => {
    // 2021: H(1, 4) = 1.6; 2022: H(4, 4) = 4. Change of x's reciprocal term: 0.125 - 0.5 = -0.375; x -0.375 x -6.4 = 2.4 = 4 - 1.6.
    const h = node({ id: 'r', aggregation: 'harmonic', children: ['x', 'y'] });
    const c = explainChange(h, values({ x: 1, y: 4 }), values({ x: 4, y: 4 }))!;
    expect(c.contributions[0]!.points).toBeCloseTo(2.4, 12);
    expect(Math.abs(c.residual)).toBeLessThan(1e-12);
  });

  it('mixed INFORM-style, nested and generalised trees: residual 0 within 1e-9, missing values included (seeded)', () => {
    const rng = createRandom(11);
    const gen = node({ id: 'g', aggregation: 'generalised', p: 3, children: ['a', 'b', 'c'] });
    const nested = node({
      id: 'n',
      aggregation: 'arithmetic',
      weights: { G: 2, H: 1, z: 1 },
      children: [{ id: 'G', aggregation: 'geometric', children: ['a', 'b'] }, { id: 'H', aggregation: 'harmonic', children: ['c', 'd'] }, 'z'],
    });
    const draw = (codes: string[]) => new Map(codes.filter(() => rng.next() < 0.85).map((k) => [k, rng.next() < 0.05 ? 0 : rng.next() * 10] as const));
    for (let trial = 0; trial < 200; trial++) {
      for (const [tree, codes] of [
        [informTree, ['h1', 'h2', 'v1', 'v2', 'c1']],
        [gen, ['a', 'b', 'c']],
        [nested, ['a', 'b', 'c', 'd', 'z']],
      ] as const) {
        const v0 = draw([...codes]);
        const v1 = draw([...codes]);
        const c = explainChange(tree, v0, v1);
        if (c === null) continue;
        expect(c.from).toBeCloseTo(explainScore(tree, v0).score!, 12);
        expect(Math.abs(c.residual)).toBeLessThan(1e-9);
      }
    }
  });

  it('no change explanation when a year has no score', () => {
    expect(explainChange(flat, new Map(), values({ a: 1 }))).toBeNull();
  });
});
