/**
 * Frameworks as data: validation errors that name the node, the aggregation checked on cases
 * computed by hand, and the GOCI frameworks reproducing GI-TOC's published pillars (real data).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFramework } from '../datasets/frameworks/index.ts';
import { ingestFile } from '../datasets/ingest.ts';
import { GOCI_INDICATORS } from '../datasets/reference/goci.ts';
import { ThreatLensError } from '../engine/errors.ts';
import { parseFramework, scoreEntity } from '../engine/scoring/framework.ts';
import { frameworkNodeIds, scoreFrameworkYear } from '../engine/scoring/framework-scores.ts';
import type { Store } from '../engine/store/database.ts';
import { hasRealData, realDataFile } from './support/shared-data.ts';
import { openTestStore } from './support/stores.ts';

const known = new Set(['a', 'b', 'c', 'd']);
const doc = (roots: unknown) => ({ id: 'f', version: '1', title: 'test', roots });

describe('parseFramework', () => {
  it.each([
    [doc([{ id: 'x', children: ['a', 'zzz'] }]), /node "x": child "zzz" is not an indicator in the catalogue/],
    [doc([{ id: 'x', children: [{ id: 'x', children: ['a'] }] }]), /node "x": the id is used twice/],
    [doc([{ id: 'x', children: ['a', 'a'] }]), /indicator "a" appears twice/],
    [doc([{ id: 'x', weights: { a: 1, c: 2 }, children: ['a', 'b'] }]), /weights do not match the children \(no child "c"; no weight for "b"\)/],
    [doc([{ id: 'x', weights: { a: -1, b: 2 }, children: ['a', 'b'] }]), /weight of "a" must be a number >= 0/],
    [doc([{ id: 'x', aggregation: 'median', children: ['a'] }]), /aggregation "median" is not one of arithmetic, geometric/],
    [doc([{ id: 'x', children: [] }]), /"children" must be a non-empty array/],
    [{ id: 'f', version: '1', title: 't' }, /"roots" must be a non-empty array/],
    [doc([{ id: 'x', aggregation: 'generalised', children: ['a'] }]), /node "x": the generalised mean needs a number "p"/],
    [doc([{ id: 'x', availability: 1.5, children: ['a'] }]), /node "x": "availability" must be a share/],
    [doc([{ id: 'x', weighting: 'pca', weights: { a: 1 }, children: ['a'] }]), /node "x": give either "weights" or PCA weighting/],
    [doc([{ id: 'x', weighting: 'magic', children: ['a'] }]), /node "x": weighting must be "equal", "explicit" or "pca"/],
    [{ ...doc([{ id: 'x', children: ['a'] }]), defaults: { normalisation: { method: 'goalposts', lower: 5, upper: 1 } } }, /defaults: goalposts need numbers "lower" < "upper"/],
    [{ ...doc([{ id: 'x', children: ['a'] }]), defaults: { normalisation: { method: 'dist2ref' } } }, /dist2ref needs exactly one of "ref"/],
    [{ ...doc([{ id: 'x', children: ['a'] }]), defaults: { imputation: { method: 'mice' } } }, /defaults: imputation "mice" is not one of none, latest/],
    [{ ...doc([{ id: 'x', children: ['a'] }]), defaults: { imputation: { method: 'regression', covariate: 'zzz' } } }, /regression imputation needs a "covariate" from the catalogue/],
    [{ ...doc([{ id: 'x', children: ['a'] }]), defaults: { treatment: { method: 'winsorise', winmax: 0 } } }, /treatment "winmax" must be a whole number >= 1/],
    [{ ...doc([{ id: 'x', children: ['a'] }]), defaults: { bands: { thresholds: [1, 2, 2, 3] } } }, /"bands" must be/],
    [{ ...doc([{ id: 'x', children: ['a'] }]), indicators: { b: { denominator: 'c' } } }, /indicator "b": options are given for an indicator that is not a leaf/],
    [{ ...doc([{ id: 'x', children: ['a'] }]), indicators: { a: { denominator: 'zzz' } } }, /indicator "a": denominator "zzz" is not an indicator/],
    [{ ...doc([{ id: 'x', children: ['a'] }]), indicators: { a: { weight: 2 } } }, /indicator "a": unknown option\(s\) "weight"/],
  ])('refuses %j', (document, message) => {
    expect(() => parseFramework(document, known)).toThrow(ThreatLensError);
    expect(() => parseFramework(document, known)).toThrow(message);
  });
});

describe('scoreEntity', () => {
  const framework = parseFramework(
    doc([
      {
        id: 'top',
        aggregation: 'geometric',
        children: [
          { id: 'left', weights: { a: 1, b: 3 }, children: ['a', 'b'] },
          { id: 'right', children: ['c', 'd'] },
        ],
      },
    ]),
    known,
  );

  it('aggregates as computed by hand', () => {
    // left = (1*2 + 3*6) / 4 = 5; right = (4 + 8) / 2 = 6; top = sqrt(5 * 6) = 5.4772...
    const scores = scoreEntity(framework, new Map([['a', 2], ['b', 6], ['c', 4], ['d', 8]]));
    expect(scores.get('left')).toBeCloseTo(5, 12);
    expect(scores.get('right')).toBeCloseTo(6, 12);
    expect(scores.get('top')).toBeCloseTo(Math.sqrt(30), 12);
  });

  it('drops missing children and renormalises; an empty node is missing, not zero', () => {
    const scores = scoreEntity(framework, new Map([['b', 6], ['c', 4]]));
    expect(scores.get('left')).toBeCloseTo(6, 12);
    expect(scores.get('right')).toBeCloseTo(4, 12);
    const empty = scoreEntity(framework, new Map([['c', 4]]));
    expect(empty.get('left')).toBeNull();
    expect(empty.get('top')).toBeCloseTo(4, 12);
  });

  it('gives the same result for weights that differ by a common factor', () => {
    const scaled = parseFramework(doc([{ id: 'left', weights: { a: 10, b: 30 }, children: ['a', 'b'] }]), known);
    expect(scoreEntity(scaled, new Map([['a', 2], ['b', 6]])).get('left')).toBeCloseTo(5, 12);
  });

  it('floors zeros in a geometric mean instead of failing', () => {
    const geometric = parseFramework(doc([{ id: 'g', aggregation: 'geometric', children: ['a', 'b'] }]), known);
    expect(scoreEntity(geometric, new Map([['a', 0], ['b', 4]])).get('g')).toBeCloseTo(Math.sqrt(0.01 * 4), 12);
  });
});

const available = hasRealData('GOCI framework reproduction', ['gitoc_ocindex_csv', 'oc_2021.csv'], ['gitoc_ocindex_csv', 'oc_2023.csv']);

describe.skipIf(!available)('goci-2021 and goci-2023 reproduce the published pillar scores', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore('pglite');
    await ingestFile(store, realDataFile('gitoc_ocindex_csv', 'oc_2021.csv'));
    await ingestFile(store, realDataFile('gitoc_ocindex_csv', 'oc_2023.csv'));
  });
  afterAll(async () => {
    await store?.close();
  });

  it.each([2021, 2023])('goci-%i: every pillar of all 193 countries within 0.005', async (edition) => {
    const catalogue = new Set(GOCI_INDICATORS.map((i) => i.code));
    const framework = await loadFramework(`goci-${edition}`, catalogue);
    expect(frameworkNodeIds(framework)).toEqual(['criminality', 'criminal_markets', 'criminal_actors', 'resilience']);
    const rows = await scoreFrameworkYear(store.db, framework, edition);
    expect(rows).toHaveLength(193);
    const published = await store.db
      .selectFrom('observations')
      .select(['entity_code', 'indicator_code', 'value'])
      .where('year', '=', edition)
      .where('indicator_code', 'in', ['ocindex_criminality', 'ocindex_criminal_markets', 'ocindex_criminal_actors', 'ocindex_resilience'])
      .execute();
    const lookup = new Map(published.map((p) => [`${p.entity_code}|${p.indicator_code}`, p.value!]));
    let compared = 0;
    for (const row of rows) {
      for (const node of ['criminality', 'criminal_markets', 'criminal_actors', 'resilience']) {
        const expected = lookup.get(`${row.entity}|ocindex_${node}`)!;
        expect(Math.abs(row.scores.get(node)! - expected), `${row.entity} ${node}`).toBeLessThanOrEqual(0.005 + 1e-9);
        compared++;
      }
    }
    expect(compared).toBe(193 * 4);
  });
});

describe('the README example framework', () => {
  it('is valid against the built-in catalogue', async () => {
    const { readFile } = await import('node:fs/promises');
    const { BUILTIN_INDICATORS } = await import('../datasets/reference/indicators.ts');
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const block = /## Frameworks[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'README has a json example under "## Frameworks"').toBeDefined();
    const framework = parseFramework(JSON.parse(block!), new Set(BUILTIN_INDICATORS.map((i) => i.code)));
    expect(frameworkNodeIds(framework)).toEqual(['risk', 'threat', 'lack_of_resilience']);
    expect(framework.normalisation).toEqual({ method: 'minmax', low: 0, high: 10 });
  });
});
