import { describe, expect, it } from 'vitest';
import { priorityClass, priorityScore, threatMatrixRow } from '../engine/scoring/threat-matrix.ts';

describe('threat matrix (MoRiLE/SOCTA spirit)', () => {
  it('priority = scale x harm / 5 x trend factor x (1 - capacity / 20), by hand', () => {
    // 8 * 5 / 5 = 8; escalating 1.2 -> 9.6; capacity 6 -> gap 0.7 -> 6.72
    expect(priorityScore(8, 5, 'escalating', 6)).toBeCloseTo(6.72, 12);
    // 5 * 2 / 5 = 2; de-escalating 0.8 -> 1.6; no capacity data -> gap 1
    expect(priorityScore(5, 2, 'de-escalating', null)).toBeCloseTo(1.6, 12);
    // capped at 10: 10 * 5 / 5 * 1.2 * 1 = 12 -> 10
    expect(priorityScore(10, 5, 'escalating', 0)).toBe(10);
    // full capacity halves the priority at most
    expect(priorityScore(10, 5, 'stable', 10)).toBeCloseTo(5, 12);
  });

  it('classes by lower bound', () => {
    expect(priorityClass(6)).toBe('priority 1');
    expect(priorityClass(5.99)).toBe('priority 2');
    expect(priorityClass(2)).toBe('priority 3');
    expect(priorityClass(0)).toBe('monitor');
  });

  it('orders the areas of a country by priority, areas without data last and unranked', () => {
    const row = threatMatrixRow(
      'ALB',
      [
        { crimeArea: 'property', scale: 9, trend: 'stable', indicators: 3 }, // 9*2/5 = 3.6 -> *0.8 = 2.88
        { crimeArea: 'drugs', scale: 7, trend: 'escalating', indicators: 4 }, // 7*4/5 = 5.6 -> *1.2*0.8 = 5.376
        { crimeArea: 'cybercrime', scale: null, trend: 'insufficient_data', indicators: 0 },
        { crimeArea: 'homicide', scale: 4, trend: 'de-escalating', indicators: 1 }, // 4 -> *0.8*0.8 = 2.56
      ],
      4, // gap 1 - 4/20 = 0.8
    );
    expect(row.cells.map((c) => c.crimeArea)).toEqual(['drugs', 'property', 'homicide', 'cybercrime']);
    expect(row.cells.map((c) => c.priority)).toEqual([1, 2, 3, null]);
    expect(row.cells[0]!.priorityScore).toBeCloseTo(5.376, 12);
    expect(row.cells[1]!.priorityScore).toBeCloseTo(2.88, 12);
    expect(row.cells[2]!.priorityScore).toBeCloseTo(2.56, 12);
    expect(row.cells[0]!.capacityGap).toBeCloseTo(0.8, 12);
    expect(row.cells[3]!.priorityClass).toBeNull();
  });

  it('an analyst may override the harm of an area, and the reason says so', () => {
    const row = threatMatrixRow('ALB', [{ crimeArea: 'property', scale: 5, trend: 'stable', indicators: 1 }], null, { harm: { property: 5 } });
    expect(row.cells[0]!.harm).toBe(5);
    expect(row.cells[0]!.harmReason).toBe('set by the analyst');
    expect(row.cells[0]!.priorityScore).toBeCloseTo(5, 12);
  });

  it('raising the scale of an area never lowers its priority (property)', () => {
    for (const trend of ['escalating', 'stable', 'de-escalating'] as const) {
      let previous = -1;
      for (let scale = 0; scale <= 10; scale += 0.5) {
        const score = priorityScore(scale, 4, trend, 3);
        expect(score).toBeGreaterThanOrEqual(previous);
        previous = score;
      }
    }
  });
});
