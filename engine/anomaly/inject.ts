/**
 * Anomalies injected, with known positions, into real series, for evaluating the detectors on
 * data whose ordinary behaviour nobody planted. The kinds and sizes follow the demo generator's
 * planted anomalies (datasets/demo/generate.ts): spikes x3-x6, dips x0.15-x0.3, unit errors
 * x1000 (or /1000 for values of 100 or more, a count entered in thousands). Seeded: the same
 * series and options give the same injections.
 *
 * A spike or dip is a real change, so the count behind a rate moves with it (the population
 * stays); a unit error is a slip in the published figure, so count and population stay as they
 * were. Real series carry anomalies of their own that nobody labelled: they count as negatives in
 * an evaluation, which lowers every detector's figures alike.
 */
import { createRandom } from '../stats/random.ts';
import { cellKey } from './series.ts';
import type { Series, SeriesPoint } from './types.ts';

export type InjectedKind = 'spike' | 'dip' | 'unit_error';

export interface InjectedAnomaly {
  readonly entity: string;
  readonly indicator: string;
  readonly period: string;
  readonly kind: InjectedKind;
  readonly factor: number;
  readonly expectedValue: number;
  readonly injectedValue: number;
}

export interface InjectionOptions {
  readonly seed: number;
  /** Share of the eligible cells to modify (default 0.01); at least one when any is eligible. */
  readonly share?: number;
  /** Only series with at least this many points (default 8): a short series has no ordinary level. */
  readonly minPoints?: number;
  /** Never in the first `minHistory` points of a series (default 3), as the demo's plants. */
  readonly minHistory?: number;
  /** Share of each kind (default spike 0.55, dip 0.3, unit error 0.15). */
  readonly mix?: Readonly<Record<InjectedKind, number>>;
  /** Smallest value that may be modified (default 0.1: a tiny value barely moves after rounding). */
  readonly minValue?: number;
}

const DEFAULT_MIX: Readonly<Record<InjectedKind, number>> = { spike: 0.55, dip: 0.3, unit_error: 0.15 };

/** Returns modified copies of the series (the input is not changed) and the injected cells. */
export function injectAnomalies(series: readonly Series[], options: InjectionOptions): { series: Series[]; truth: InjectedAnomaly[] } {
  const share = options.share ?? 0.01;
  const minPoints = options.minPoints ?? 8;
  const minHistory = options.minHistory ?? 3;
  const minValue = options.minValue ?? 0.1;
  const mix = options.mix ?? DEFAULT_MIX;
  if (!(share > 0 && share <= 0.5)) throw new Error(`injectAnomalies: share must be in (0, 0.5], got ${share}`);
  const mixTotal = mix.spike + mix.dip + mix.unit_error;
  if (!(mixTotal > 0) || [mix.spike, mix.dip, mix.unit_error].some((m) => m < 0)) throw new Error('injectAnomalies: mix shares must be non-negative and not all 0');

  const random = createRandom(options.seed);
  // Eligible cells, in a stable order so that the seed alone decides.
  const eligible: { s: number; i: number }[] = [];
  series.forEach((s, si) => {
    if (s.points.length < minPoints) return;
    for (let i = minHistory; i < s.points.length; i++) if (s.points[i]!.value >= minValue) eligible.push({ s: si, i });
  });
  const wanted = eligible.length === 0 ? 0 : Math.max(1, Math.round(share * eligible.length));
  // Partial Fisher-Yates: the first `wanted` cells of a seeded shuffle.
  for (let k = 0; k < wanted; k++) {
    const j = k + random.int(0, eligible.length - k);
    [eligible[k], eligible[j]] = [eligible[j]!, eligible[k]!];
  }
  const chosen = eligible.slice(0, wanted).sort((a, b) => a.s - b.s || a.i - b.i);

  const points = series.map((s) => [...s.points]);
  const truth: InjectedAnomaly[] = [];
  for (const { s, i } of chosen) {
    const original = points[s]![i]!;
    const u = random.next() * mixTotal;
    const kind: InjectedKind = u < mix.spike ? 'spike' : u < mix.spike + mix.dip ? 'dip' : 'unit_error';
    let factor: number;
    if (kind === 'spike') factor = 3 + 3 * random.next();
    else if (kind === 'dip') factor = 0.15 + 0.15 * random.next();
    else factor = original.value >= 100 && random.next() < 0.5 ? 1 / 1000 : 1000;
    const value = original.value * factor;
    const modified: SeriesPoint =
      kind === 'unit_error' || original.count === undefined
        ? { ...original, value }
        : { ...original, value, count: original.count * factor };
    points[s]![i] = modified;
    const { entity, indicator } = series[s]!;
    truth.push({ entity, indicator, period: original.period, kind, factor, expectedValue: original.value, injectedValue: value });
  }
  return { series: series.map((s, si) => ({ ...s, points: points[si]! })), truth };
}

/** The cell keys of injected or planted anomalies. */
export function truthKeys(truth: readonly { entity: string; indicator: string; period: string | number }[]): Set<string> {
  return new Set(truth.map((t) => cellKey(t.entity, t.indicator, String(t.period))));
}
