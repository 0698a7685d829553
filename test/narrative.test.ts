import { describe, expect, it } from 'vitest';
import { assessConfidence } from '../engine/scoring/confidence.ts';
import { explainChange, explainScore, topDrivers } from '../engine/scoring/explain.ts';
import type { FrameworkNode } from '../engine/scoring/framework.ts';
import { formatContribution, formatNumber, narrate, type NarrativeInput } from '../engine/scoring/narrative.ts';
import { createRandom } from '../engine/stats/random.ts';

/** Every number in a text, unsigned ("+1.2" -> "1.2", "×1.12" -> "1.12", "6-14" -> "6", "14"). */
function numbersIn(text: string): string[] {
  return [...text.matchAll(/\d+(?:\.\d+)?/g)].map((m) => m[0]);
}

/**
 * What the text may show: every number of the input (walked recursively, numbers inside strings
 * included), unsigned, rounded to 0 to 3 decimals. A number in the text outside this set was invented.
 */
function allowedNumbers(input: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (x: unknown): void => {
    if (typeof x === 'number') for (let d = 0; d <= 3; d++) out.add(formatNumber(Math.abs(x), d));
    else if (typeof x === 'string') numbersIn(x).forEach((n) => out.add(n));
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') Object.values(x).forEach(walk);
  };
  walk(input);
  return out;
}

function expectOnlyInputNumbers(input: NarrativeInput): string {
  const text = narrate(input);
  const allowed = allowedNumbers(input);
  for (const n of numbersIn(text)) expect(allowed, `"${n}" in: ${text}`).toContain(n);
  return text;
}

const full: NarrativeInput = {
  entity: 'Albania',
  framework: 'OSCE threat framework',
  year: 2022,
  score: 6.4321,
  scaleMax: 10,
  band: 'high',
  rank: { rank: 9, of: 57 },
  interval: { level: 90, low: 6, high: 14 },
  drivers: [
    { label: 'cocaine trade', value: 1.234 },
    { label: 'cannabis trade', value: 0.91 },
  ],
  pullingDown: [{ label: 'homicide', value: -0.44 }],
  change: {
    fromYear: 2021,
    change: 0.52,
    contributions: [
      { label: 'cocaine trade', value: 0.31 },
      { label: 'homicide', value: -0.05 },
      { label: 'heroin trade', value: 0.26 },
    ],
  },
  confidence: { level: 'medium', reasons: ['3 of 12 indicators imputed', 'the latest homicide figure is from 2019'] },
};

describe('narrate', () => {
  it('writes the paragraph from the input (expected text written by hand from the input above)', () => {
    expect(narrate(full)).toBe(
      'Albania scores 6.4 of 10 on the OSCE threat framework in 2022 (high band, rank 9 of 57, 90% interval 6-14). ' +
        'The main drivers are cocaine trade (+1.2) and cannabis trade (+0.9). ' +
        'Homicide (-0.4) pulls it down most. ' +
        'Since 2021 the score rose by 0.5, mostly from cocaine trade (+0.3) and heroin trade (+0.3). ' +
        'Confidence is medium: 3 of 12 indicators imputed; the latest homicide figure is from 2019.',
    );
  });

  it('every number in the text is an input number rounded as shown', () => {
    expectOnlyInputNumbers(full);
  });

  it('the check catches a number that is not in the input', () => {
    const allowed = allowedNumbers(full);
    expect(numbersIn(`${narrate(full)} It fell 7.3 in 2019.`).filter((n) => !allowed.has(n))).toEqual(['7.3']);
  });

  it('omits what is not given, and invents nothing in its place', () => {
    const bare: NarrativeInput = { entity: 'Malta', framework: 'OSCE threat framework', year: 2022, score: 3.05 };
    // 3.05 is 3.04999... in binary: toFixed(1) gives "3.0" (rounded as JavaScript shows it).
    expect(narrate(bare)).toBe('Malta scores 3.0 on the OSCE threat framework in 2022.');
    const noPrevious = narrate({ ...full, change: undefined, interval: undefined });
    expect(noPrevious).not.toMatch(/Since|interval/);
    expect(noPrevious).toContain('(high band, rank 9 of 57)');
    expect(narrate({ ...full, band: undefined, rank: undefined, interval: undefined })).toContain('in 2022. The main');
    expect(narrate({ ...full, confidence: { level: 'high', reasons: [] } })).toMatch(/Confidence is high\.$/);
    expect(narrate({ ...full, score: null })).toBe('Albania has no score on the OSCE threat framework in 2022. Confidence is medium: 3 of 12 indicators imputed; the latest homicide figure is from 2019.');
  });

  it('a fall, a change too small to show, and contributions too small to name', () => {
    const fell = narrate({ ...full, change: { fromYear: 2020, change: -1.26, contributions: [{ label: 'a', value: -1.2 }, { label: 'b', value: -0.04 }] } });
    expect(fell).toContain('Since 2020 the score fell by 1.3, mostly from a (-1.2).');
    const flat = narrate({ ...full, change: { fromYear: 2020, change: 0.04, contributions: [{ label: 'a', value: 0.04 }] } });
    expect(flat).toContain('Since 2020 the score is unchanged at this precision.');
  });

  it('factors for geometric roots, with one more decimal', () => {
    expect(formatContribution({ label: 'x', value: 1.1234, kind: 'factor' }, 1)).toBe('×1.12');
    expect(formatContribution({ label: 'x', value: -0.04, kind: 'points' }, 1)).toBe('0.0');
    const text = expectOnlyInputNumbers({ ...full, drivers: [{ label: 'vulnerability', value: 1.1234, kind: 'factor' }] });
    expect(text).toContain('The main driver is vulnerability (×1.12).');
  });

  it('end to end from explain and confidence: only input numbers on random inputs (seeded)', () => {
    const tree = { id: 'r', aggregation: 'arithmetic', children: ['a', 'b', 'c', 'd'] } as FrameworkNode;
    const rng = createRandom(3);
    for (let trial = 0; trial < 50; trial++) {
      const draw = () => new Map(['a', 'b', 'c', 'd'].filter(() => rng.next() < 0.9).map((k) => [k, rng.next() * 10] as const));
      const v0 = draw();
      const v1 = draw();
      const now = explainScore(tree, v1);
      const drivers = topDrivers(now, 2);
      const change = explainChange(tree, v0, v1);
      const confidence = assessConfidence({ year: 2022, indicators: ['a', 'b', 'c', 'd'], values: v1, latestYear: new Map([['a', 2015 + rng.int(0, 8)]]) });
      const input: NarrativeInput = {
        entity: 'Utopia',
        framework: 'test framework',
        year: 2022,
        score: now.score,
        scaleMax: 10,
        ...(rng.next() < 0.5 ? { rank: { rank: 1 + rng.int(0, 57), of: 57 } } : {}),
        drivers: drivers.up.map((d) => ({ label: d.indicator, value: d.term })),
        pullingDown: drivers.down.map((d) => ({ label: d.indicator, value: d.relative })),
        ...(change ? { change: { fromYear: 2021, change: change.change, contributions: change.contributions.map((c) => ({ label: c.indicator, value: c.points })) } } : {}),
        confidence: { level: confidence.level, reasons: confidence.reasons.filter((r) => r.level !== null).map((r) => r.message) },
      };
      expectOnlyInputNumbers(input);
    }
  });
});
