/** Aggregation methods (COINr Aggregate): hand-computed cases, missing children, availability. */
import { describe, expect, it } from 'vitest';
import { aggregate } from '../engine/scoring/aggregate.ts';

const NaN_ = Number.NaN;

describe('aggregate', () => {
  it('means of [2, 6] with weights [1, 3], computed by hand', () => {
    // arithmetic (2 + 18) / 4 = 5; geometric exp((ln 2 + 3 ln 6) / 4) = 4.559014113909555;
    // harmonic 4 / (1/2 + 3/6) = 4; generalised p = 2: sqrt((4 + 3 * 36) / 4) = 5.291502622129181 (numpy)
    expect(aggregate([[2, 6]], [1, 3], 'arithmetic')[0]).toBeCloseTo(5, 12);
    expect(aggregate([[2, 6]], [1, 3], 'geometric')[0]).toBeCloseTo(4.559014113909555, 12);
    expect(aggregate([[2, 6]], [1, 3], 'harmonic')[0]).toBeCloseTo(4, 12);
    expect(aggregate([[2, 6]], [1, 3], 'generalised', { p: 2 })[0]).toBeCloseTo(5.291502622129181, 12);
    expect(aggregate([[2, 6]], [1, 3], 'generalised', { p: 1 })[0]).toBeCloseTo(5, 12);
    expect(aggregate([[2, 6]], [1, 3], 'generalised', { p: 0 })[0]).toBeCloseTo(4.559014113909555, 12);
    expect(aggregate([[2, 6]], [1, 3], 'generalised', { p: -1 })[0]).toBeCloseTo(4, 12);
  });

  it('floors at 0.01 for geometric and harmonic means', () => {
    expect(aggregate([[0, 4]], [1, 1], 'geometric')[0]).toBeCloseTo(Math.sqrt(0.04), 12);
    expect(aggregate([[0, 4]], [1, 1], 'harmonic')[0]).toBeCloseTo(2 / (100 + 0.25), 12);
  });

  it('drops missing children and renormalises; all missing is missing, not zero', () => {
    expect(aggregate([[NaN_, 6]], [1, 3], 'arithmetic')[0]).toBe(6);
    expect(aggregate([[NaN_, NaN_]], [1, 3], 'arithmetic')[0]).toBeNaN();
    expect(aggregate([[2, NaN_]], [0, 3], 'geometric')[0]).toBeNaN(); // only a zero-weight child present
  });

  it('makes the aggregate missing under the availability threshold (2 of 3 meets 0.66, 1 of 3 does not)', () => {
    const rows = [[1, 2, NaN_], [1, NaN_, NaN_]];
    const out = aggregate(rows, [1, 1, 1], 'arithmetic', { availability: 0.66 });
    expect(out[0]).toBeCloseTo(1.5, 12);
    expect(out[1]).toBeNaN();
  });

  it('Copeland: outranked minus outranking, weighted majority over shared children (by hand)', () => {
    // A=[3,1,2], B=[1,2,1], C=[2,3,3], equal weights.
    // A vs B: A wins children 1 and 3 -> 2/3 > 0.5: A +1, B -1. A vs C: A wins child 1 only -> 1/3: A -1, C +1.
    // B vs C: C wins all -> B -1, C +1. Scores A 0, B -2, C 2. With weights [4,1,1]: A vs C = 4/6 -> A +1, C -1: A 2, B -2, C 0.
    const rows = [[3, 1, 2], [1, 2, 1], [2, 3, 3]];
    expect([...aggregate(rows, [1, 1, 1], 'copeland')]).toEqual([0, -2, 2]);
    expect([...aggregate(rows, [4, 1, 1], 'copeland')]).toEqual([2, -2, 0]);
    // a tie (share exactly 0.5) scores 0 for both; a unit with nothing is missing
    expect([...aggregate([[1, 2], [2, 1], [NaN_, NaN_]], [1, 1], 'copeland')]).toEqual([0, 0, NaN_]);
  });
});
