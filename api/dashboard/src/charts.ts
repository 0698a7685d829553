/**
 * The panel's charts as SVG, each in a <figure> with a caption and a table of the same numbers
 * (the text alternative): a trend line, bars of drivers around zero, and a waterfall of a change.
 * Scales are plain linear maps; no charting library.
 */
import { fmt, h, linear, s, signed } from './dom.ts';
import { BAND_COLOURS } from './palette.ts';

function figure(id: string, caption: string, chart: SVGSVGElement, table: HTMLTableElement): HTMLElement {
  return h('figure', { class: 'chart', id }, chart, h('figcaption', {}, caption), h('details', { class: 'chart-data' }, h('summary', {}, 'Data as a table'), table));
}

function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): HTMLTableElement {
  return h('table', { class: 'data' }, h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', { scope: 'col' }, x)))), h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, String(c)))))));
}

export interface TrendInput {
  readonly history: readonly { readonly year: number; readonly score: number | null }[];
  readonly fit: { readonly slope: number | null; readonly intercept: number | null; readonly years: readonly number[] };
  readonly thresholds: readonly number[];
  readonly label: string;
}

export function trendChart(id: string, input: TrendInput, caption: string): HTMLElement {
  const W = 360;
  const H = 170;
  const m = { l: 30, r: 10, t: 10, b: 22 };
  const years = input.history.map((p) => p.year);
  const y0 = Math.min(...years);
  const y1 = Math.max(...years);
  const x = linear(y0, y1 === y0 ? y0 + 1 : y1, m.l, W - m.r);
  const y = linear(0, 10, H - m.b, m.t);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': caption, class: 'trend' });
  const edges = [0, ...input.thresholds, 10];
  for (let b = 0; b < 5; b++) {
    svg.append(s('rect', { x: m.l, width: W - m.l - m.r, y: y(edges[b + 1]!), height: Math.max(0, y(edges[b]!) - y(edges[b + 1]!)), fill: BAND_COLOURS[b]!, opacity: 0.35 }));
  }
  for (const t of [0, 2, 4, 6, 8, 10]) svg.append(s('text', { x: m.l - 4, y: y(t) + 3, class: 'tick', 'text-anchor': 'end' }, t));
  for (const yr of years) if (yr === y0 || yr === y1 || (yr - y0) % 2 === 0) svg.append(s('text', { x: x(yr), y: H - 6, class: 'tick', 'text-anchor': 'middle' }, yr));
  const points = input.history.filter((p): p is { year: number; score: number } => p.score !== null);
  // Gaps stay gaps: a new segment starts after a missing year.
  let d = '';
  let previous: number | null = null;
  for (const p of points) {
    d += `${previous !== null && p.year === previous + 1 ? 'L' : 'M'}${x(p.year).toFixed(1)},${y(p.score).toFixed(1)}`;
    previous = p.year;
  }
  const { slope, intercept, years: fitYears } = input.fit;
  if (slope !== null && intercept !== null && fitYears.length >= 2) {
    const f0 = fitYears[0]!;
    const f1 = fitYears[fitYears.length - 1]!;
    svg.append(s('path', { d: `M${x(f0)},${y(intercept + slope * f0)}L${x(f1)},${y(intercept + slope * f1)}`, class: 'fit' }));
  }
  svg.append(s('path', { d, class: 'line' }));
  for (const p of points) svg.append(s('circle', { cx: x(p.year), cy: y(p.score), r: 2.5, class: 'dot' }, s('title', {}, `${p.year}: ${fmt(p.score)}`)));
  const rows = input.history.map((p) => [p.year, p.score === null ? 'no score' : fmt(p.score, 3), slope !== null && intercept !== null ? fmt(intercept + slope * p.year, 3) : '–']);
  return figure(id, caption, svg, table(['year', 'score', 'Theil-Sen fit'], rows));
}

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly note?: string;
}

/** Horizontal bars around zero, largest first; `limit` bars drawn, all in the table. */
export function divergingBars(id: string, bars: readonly Bar[], caption: string, unit: string, limit = 12): HTMLElement {
  const shown = [...bars].sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, limit).sort((a, b) => b.value - a.value);
  const W = 360;
  const row = 17;
  const m = { l: 150, r: 44, t: 4, b: 4 };
  const H = m.t + m.b + row * Math.max(1, shown.length);
  const extent = Math.max(1e-9, ...shown.map((b) => Math.abs(b.value)));
  const x = linear(-extent, extent, m.l, W - m.r);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': caption, class: 'bars' });
  svg.append(s('line', { x1: x(0), x2: x(0), y1: m.t, y2: H - m.b, class: 'axis' }));
  shown.forEach((b, i) => {
    const top = m.t + i * row;
    const x0 = Math.min(x(0), x(b.value));
    svg.append(
      s('text', { x: m.l - 4, y: top + 12, class: 'bar-label', 'text-anchor': 'end' }, b.label.length > 26 ? `${b.label.slice(0, 25)}…` : b.label),
      s('rect', { x: x0, y: top + 3, width: Math.max(0.5, Math.abs(x(b.value) - x(0))), height: row - 6, class: b.value >= 0 ? 'up' : 'down' }, s('title', {}, `${b.label}: ${signed(b.value)} ${unit}`)),
      s('text', { x: W - m.r + 4, y: top + 12, class: 'bar-value' }, signed(b.value)),
    );
  });
  const rows = [...bars].sort((a, b) => b.value - a.value).map((b) => [b.label, signed(b.value, 3), b.note ?? '']);
  return figure(id, caption, svg, table(['indicator', unit, 'note'], rows));
}

export interface WaterfallInput {
  readonly startLabel: string;
  readonly start: number;
  readonly endLabel: string;
  readonly end: number;
  readonly steps: readonly Bar[];
  /** change - sum of steps (0 up to rounding when exact); drawn as its own step when visible. */
  readonly residual: number;
}

/** A waterfall: the start value, one step per contribution (the largest `limit`, the rest summed), the end value. */
export function waterfall(id: string, input: WaterfallInput, caption: string, limit = 10): HTMLElement {
  const sorted = [...input.steps].sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  const top = sorted.slice(0, limit);
  const rest = sorted.slice(limit);
  const steps: Bar[] = [...top];
  if (rest.length > 0) steps.push({ label: `${rest.length} other indicators`, value: rest.reduce((acc, b) => acc + b.value, 0) });
  if (Math.abs(input.residual) >= 0.0005) steps.push({ label: 'residual (not attributed)', value: input.residual });
  let level = input.start;
  const spans = steps.map((b) => {
    const from = level;
    level += b.value;
    return { ...b, from, to: level };
  });
  const all = [input.start, input.end, ...spans.flatMap((sp) => [sp.from, sp.to])];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const pad = Math.max((hi - lo) * 0.08, 0.01);
  const W = 360;
  const row = 17;
  const m = { l: 150, r: 48, t: 4, b: 18 };
  const rowsCount = spans.length + 2;
  const H = m.t + m.b + row * rowsCount;
  const x = linear(lo - pad, hi + pad, m.l, W - m.r);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': caption, class: 'waterfall' });
  const total = (i: number, label: string, value: number) => {
    const t = m.t + i * row;
    svg.append(
      s('text', { x: m.l - 4, y: t + 12, class: 'bar-label total', 'text-anchor': 'end' }, label),
      s('rect', { x: x(lo - pad), y: t + 3, width: Math.max(0.5, x(value) - x(lo - pad)), height: row - 6, class: 'total' }, s('title', {}, `${label}: ${fmt(value, 3)}`)),
      s('text', { x: W - m.r + 4, y: t + 12, class: 'bar-value' }, fmt(value, 2)),
    );
  };
  total(0, input.startLabel, input.start);
  spans.forEach((sp, i) => {
    const t = m.t + (i + 1) * row;
    svg.append(
      s('text', { x: m.l - 4, y: t + 12, class: 'bar-label', 'text-anchor': 'end' }, sp.label.length > 26 ? `${sp.label.slice(0, 25)}…` : sp.label),
      s('rect', { x: Math.min(x(sp.from), x(sp.to)), y: t + 3, width: Math.max(0.5, Math.abs(x(sp.to) - x(sp.from))), height: row - 6, class: sp.value >= 0 ? 'up' : 'down' }, s('title', {}, `${sp.label}: ${signed(sp.value, 3)}`)),
      s('text', { x: W - m.r + 4, y: t + 12, class: 'bar-value' }, signed(sp.value)),
    );
  });
  total(spans.length + 1, input.endLabel, input.end);
  svg.append(s('text', { x: m.l, y: H - 4, class: 'tick' }, `axis from ${fmt(lo - pad)} (not zero) to ${fmt(hi + pad)}`));
  const rows: (string | number)[][] = [[input.startLabel, fmt(input.start, 3)], ...spans.map((sp) => [sp.label, signed(sp.value, 3)]), [input.endLabel, fmt(input.end, 3)]];
  if (rest.length > 0) rows.push(...rest.map((b) => [`  ${b.label} (in "other")`, signed(b.value, 3)]));
  return figure(id, caption, svg, table(['', 'score points'], rows));
}

