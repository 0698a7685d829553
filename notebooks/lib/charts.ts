/**
 * Small SVG charts for the notebooks, drawn as strings with d3's scales and shapes: no DOM, no
 * browser, so they run in the Deno kernel, in Node and in CI alike. Each chart is a `Chart`, which
 * Jupyter kernels (Deno's, via Symbol.for('Jupyter.display')) show as `image/svg+xml`, with the
 * title as the plain-text fallback.
 */
import { bin, extent, max, min } from 'd3-array';
import { scaleBand, scaleLinear, scaleLog, scaleSequential } from 'd3-scale';
import { interpolateYlOrRd, schemeTableau10 } from 'd3-scale-chromatic';
import { line } from 'd3-shape';

/** The key Jupyter kernels (Deno's among them) call to get a value's MIME bundle. */
export const JUPYTER_DISPLAY = Symbol.for('Jupyter.display');

export interface Chart {
  readonly title: string;
  readonly svg: string;
  [JUPYTER_DISPLAY](): Record<string, string>;
}

const FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif\"";
const AXIS = '#555';
const GRID = '#e5e5e5';
const INK = '#222';
export const PALETTE: readonly string[] = schemeTableau10;

/** Escapes text for SVG/XML content and attributes ("Bosnia & Herzegovina", "<5"). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Rounds coordinates to 0.01 px: shorter SVG, stable diffs of committed notebook outputs. */
const px = (x: number) => String(Math.round(x * 100) / 100);

function chart(title: string, plotWidth: number, plotHeight: number, body: string[]): Chart {
  const [width, height] = [Math.ceil(plotWidth), Math.ceil(plotHeight)];
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="8" y="17" font-size="13" font-weight="600" fill="${INK}">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
  ].join('\n');
  return {
    title,
    svg,
    [JUPYTER_DISPLAY]: () => ({ 'image/svg+xml': svg, 'text/plain': `[chart] ${title}` }),
  };
}

function text(x: number, y: number, content: string, attrs = ''): string {
  const fill = /(^|\s)fill=/.test(attrs) ? '' : ` fill="${INK}"`;
  return `<text x="${px(x)}" y="${px(y)}"${fill}${attrs ? ` ${attrs}` : ''}>${escapeXml(content)}</text>`;
}

function legend(x: number, y: number, entries: readonly { name: string; color: string }[]): string[] {
  let cx = x;
  const out: string[] = [];
  for (const e of entries) {
    out.push(`<rect x="${px(cx)}" y="${px(y - 8)}" width="10" height="10" fill="${e.color}"/>`, text(cx + 14, y + 1, e.name));
    cx += 24 + e.name.length * 6.2;
  }
  return out;
}

type Linear = ReturnType<typeof scaleLinear<number, number>>;

/** A horizontal value axis at `y` with grid lines up to `top`, ticks from the scale. */
function xAxis(scale: Linear | ReturnType<typeof scaleLog<number, number>>, y: number, top: number, label: string | undefined, ticks = 6): string[] {
  const out: string[] = [];
  const format = scale.tickFormat(ticks);
  for (const t of scale.ticks(ticks)) {
    const x = scale(t);
    out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${px(top)}" y2="${px(y)}" stroke="${GRID}"/>`);
    out.push(text(x, y + 14, format(t), `text-anchor="middle" fill="${AXIS}"`));
  }
  const [r0, r1] = scale.range() as [number, number];
  out.push(`<line x1="${px(r0)}" x2="${px(r1)}" y1="${px(y)}" y2="${px(y)}" stroke="${AXIS}"/>`);
  if (label) out.push(text((r0 + r1) / 2, y + 30, label, `text-anchor="middle" fill="${AXIS}"`));
  return out;
}

/** A vertical value axis at `x` with grid lines across to `right`. */
function yAxis(scale: Linear, x: number, right: number, label: string | undefined, ticks = 5): string[] {
  const out: string[] = [];
  const format = scale.tickFormat(ticks);
  for (const t of scale.ticks(ticks)) {
    const y = scale(t);
    out.push(`<line x1="${px(x)}" x2="${px(right)}" y1="${px(y)}" y2="${px(y)}" stroke="${GRID}"/>`);
    out.push(text(x - 5, y + 4, format(t), `text-anchor="end" fill="${AXIS}"`));
  }
  const [r0, r1] = scale.range() as [number, number];
  out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${px(r0)}" y2="${px(r1)}" stroke="${AXIS}"/>`);
  if (label) out.push(text(12, (r0 + r1) / 2, label, `text-anchor="middle" fill="${AXIS}" transform="rotate(-90 12 ${px((r0 + r1) / 2)})"`));
  return out;
}

const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

export interface Bar {
  readonly label: string;
  readonly value: number | null;
  /** An interval drawn as a whisker over the bar (a confidence interval). */
  readonly low?: number | null;
  readonly high?: number | null;
  readonly color?: string;
}

export interface BarChartOptions {
  readonly title: string;
  readonly bars: readonly Bar[];
  readonly xLabel?: string;
  /** Value domain; default [min(0, values), max(values)]. */
  readonly domain?: readonly [number, number];
  readonly width?: number;
  /** Row height in px. */
  readonly row?: number;
  /** Print each value at the end of its bar with this many decimals (default: no labels). */
  readonly valueDecimals?: number;
}

/** Horizontal bars, one row per label, in the order given; a missing value leaves an empty row. */
export function barChart(options: BarChartOptions): Chart {
  const width = options.width ?? 640;
  const row = options.row ?? 18;
  const labelWidth = Math.min(260, 14 + 6.6 * Math.max(4, ...options.bars.map((b) => b.label.length)));
  const top = 30;
  const plotHeight = row * options.bars.length;
  const height = top + plotHeight + 40;
  const values = options.bars.flatMap((b) => [b.value, b.low, b.high]).filter(finite);
  const domain = options.domain ?? [Math.min(0, min(values) ?? 0), max(values) ?? 1];
  const x = scaleLinear().domain(domain).range([labelWidth, width - 40]);
  if (!options.domain) x.nice();
  const y = scaleBand<number>().domain(options.bars.map((_, i) => i)).range([top, top + plotHeight]).padding(0.2);
  const body = xAxis(x, top + plotHeight, top, options.xLabel);
  options.bars.forEach((b, i) => {
    const y0 = y(i)!;
    const h = y.bandwidth();
    body.push(text(labelWidth - 6, y0 + h / 2 + 4, b.label, 'text-anchor="end"'));
    if (!finite(b.value)) return;
    const x0 = x(Math.max(domain[0], Math.min(0, domain[1])));
    const x1 = x(b.value);
    body.push(`<rect x="${px(Math.min(x0, x1))}" y="${px(y0)}" width="${px(Math.abs(x1 - x0))}" height="${px(h)}" fill="${b.color ?? PALETTE[0]}"/>`);
    if (finite(b.low) && finite(b.high)) {
      const cy = y0 + h / 2;
      body.push(`<path d="M${px(x(b.low))},${px(cy)}H${px(x(b.high))}M${px(x(b.low))},${px(cy - h / 3)}V${px(cy + h / 3)}M${px(x(b.high))},${px(cy - h / 3)}V${px(cy + h / 3)}" stroke="${INK}" fill="none"/>`);
    }
    if (options.valueDecimals !== undefined) body.push(text(Math.max(x0, x1, finite(b.high) ? x(b.high) : -Infinity) + 4, y0 + h / 2 + 4, b.value.toFixed(options.valueDecimals), `fill="${AXIS}"`));
  });
  return chart(options.title, width, height, body);
}

export interface IntervalRow {
  readonly label: string;
  /** One mark per series: a point (e.g. the nominal rank) and an interval (e.g. 5th-95th percentile). */
  readonly marks: readonly { readonly value: number | null; readonly low?: number | null; readonly high?: number | null }[];
}

export interface IntervalChartOptions {
  readonly title: string;
  readonly rows: readonly IntervalRow[];
  /** Names of the series (one per mark of a row), shown in the legend. */
  readonly series: readonly string[];
  readonly xLabel?: string;
  readonly domain?: readonly [number, number];
  /** Draw the axis reversed (rank 1 on the left is already the default order; `true` puts the domain's high end on the left). */
  readonly reverse?: boolean;
  readonly width?: number;
  readonly row?: number;
}

/** Points with intervals, one row per label and one offset line per series: rank intervals, Sobol indices with bootstrap intervals. */
export function intervalChart(options: IntervalChartOptions): Chart {
  const width = options.width ?? 640;
  const row = options.row ?? (options.series.length > 1 ? 26 : 14);
  const labelWidth = Math.min(260, 14 + 6.6 * Math.max(4, ...options.rows.map((r) => r.label.length)));
  const top = options.series.length > 1 ? 48 : 30;
  const plotHeight = row * options.rows.length;
  const height = top + plotHeight + 40;
  const values = options.rows.flatMap((r) => r.marks.flatMap((m) => [m.value, m.low, m.high])).filter(finite);
  const domain = options.domain ?? (extent(values) as [number, number]);
  const x = scaleLinear().domain(options.reverse ? [domain[1], domain[0]] : domain).range([labelWidth, width - 20]);
  if (!options.domain) x.nice();
  const body = xAxis(x, top + plotHeight, top, options.xLabel);
  if (options.series.length > 1) body.push(...legend(labelWidth, 36, options.series.map((name, s) => ({ name, color: PALETTE[s % PALETTE.length]! }))));
  const y = scaleBand<number>().domain(options.rows.map((_, i) => i)).range([top, top + plotHeight]).padding(0.15);
  const sub = y.bandwidth() / options.series.length;
  options.rows.forEach((r, i) => {
    const y0 = y(i)!;
    body.push(text(labelWidth - 6, y0 + y.bandwidth() / 2 + 4, r.label, 'text-anchor="end"'));
    r.marks.forEach((m, s) => {
      const color = PALETTE[s % PALETTE.length]!;
      const cy = y0 + sub * (s + 0.5);
      if (finite(m.low) && finite(m.high)) body.push(`<line x1="${px(x(m.low))}" x2="${px(x(m.high))}" y1="${px(cy)}" y2="${px(cy)}" stroke="${color}" stroke-width="2" stroke-opacity="0.6"/>`);
      if (finite(m.value)) body.push(`<circle cx="${px(x(m.value))}" cy="${px(cy)}" r="3.2" fill="${color}"/>`);
    });
  });
  return chart(options.title, width, height, body);
}

export interface Series {
  readonly name: string;
  readonly points: readonly { readonly x: number; readonly y: number | null }[];
  readonly color?: string;
  /** Dashed line (a reference such as a median). */
  readonly dashed?: boolean;
}

export interface LineChartOptions {
  readonly title: string;
  readonly series: readonly Series[];
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly yDomain?: readonly [number, number];
  readonly width?: number;
  readonly height?: number;
  /** Format of x tick labels; years by default (no thousands separator). */
  readonly xFormat?: (x: number) => string;
}

/** Lines over a numeric x (years); a missing y breaks the line; each series named at its last point. */
export function lineChart(options: LineChartOptions): Chart {
  const width = options.width ?? 640;
  const height = options.height ?? 320;
  const legendRows = Math.ceil(options.series.length / 4);
  const top = 30 + legendRows * 16;
  const margin = { left: 56, right: 20, bottom: 44 };
  const xs = options.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = options.series.flatMap((s) => s.points.map((p) => p.y)).filter(finite);
  const x = scaleLinear().domain(extent(xs) as [number, number]).range([margin.left, width - margin.right]);
  const y = scaleLinear().domain(options.yDomain ?? [Math.min(0, min(ys) ?? 0), max(ys) ?? 1]).range([height - margin.bottom, top]);
  if (!options.yDomain) y.nice();
  const body: string[] = [];
  const xFormat = options.xFormat ?? ((v: number) => String(v));
  const xTicks = x.ticks(Math.min(10, new Set(xs).size)).filter((t) => Number.isInteger(t));
  for (const t of xTicks) body.push(text(x(t), height - margin.bottom + 14, xFormat(t), `text-anchor="middle" fill="${AXIS}"`));
  body.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${px(height - margin.bottom)}" y2="${px(height - margin.bottom)}" stroke="${AXIS}"/>`);
  if (options.xLabel) body.push(text((margin.left + width - margin.right) / 2, height - 8, options.xLabel, `text-anchor="middle" fill="${AXIS}"`));
  body.push(...yAxis(y, margin.left, width - margin.right, options.yLabel));
  const entries: { name: string; color: string }[] = [];
  options.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    entries.push({ name: s.name, color });
    const path = line<{ x: number; y: number | null }>()
      .defined((p) => finite(p.y))
      .x((p) => x(p.x))
      .y((p) => y(p.y!))
      .digits(2)([...s.points].sort((a, b) => a.x - b.x));
    if (path) body.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="${s.dashed ? 2 : 1.6}"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
  });
  // Points over every line, the sparsest series last and larger, so that a series published in
  // single years (a biennial index) stays visible where it meets another.
  const observed = options.series.map((s, i) => ({ i, points: s.points.filter((p) => finite(p.y)) as { x: number; y: number }[] }));
  for (const { i, points } of [...observed].sort((a, b) => b.points.length - a.points.length || a.i - b.i)) {
    const r = points.length <= 3 ? 4 : 2.6;
    for (const p of points) body.push(`<circle cx="${px(x(p.x))}" cy="${px(y(p.y))}" r="${r}" fill="${entries[i]!.color}"/>`);
  }
  for (let r = 0; r < legendRows; r++) body.push(...legend(margin.left, 36 + r * 16, entries.slice(r * 4, r * 4 + 4)));
  return chart(options.title, width, height, body);
}

export interface HistogramOptions {
  readonly title: string;
  readonly values: readonly number[];
  readonly xLabel?: string;
  /** Approximate number of bins (d3's `thresholds`, nice boundaries). */
  readonly bins?: number;
  readonly width?: number;
  readonly height?: number;
}

/** A histogram of the finite values (counts per bin, d3-array `bin` with nice thresholds). */
export function histogram(options: HistogramOptions): Chart {
  const width = options.width ?? 640;
  const height = options.height ?? 260;
  const margin = { left: 48, right: 20, top: 30, bottom: 44 };
  const values = options.values.filter(finite);
  const x = scaleLinear().domain(extent(values) as [number, number]).range([margin.left, width - margin.right]).nice();
  const bins = bin().domain(x.domain() as [number, number]).thresholds(x.ticks(options.bins ?? 20))(values);
  const y = scaleLinear().domain([0, max(bins, (b) => b.length) ?? 1]).range([height - margin.bottom, margin.top]).nice();
  const body = [...yAxis(y, margin.left, width - margin.right, 'count', 4)];
  for (const b of bins) {
    if (b.length === 0) continue;
    const x0 = x(b.x0!);
    const x1 = x(b.x1!);
    body.push(`<rect x="${px(x0 + 0.5)}" y="${px(y(b.length))}" width="${px(Math.max(0, x1 - x0 - 1))}" height="${px(y(0) - y(b.length))}" fill="${PALETTE[0]}"/>`);
  }
  body.push(...xAxis(x, height - margin.bottom, height - margin.bottom, options.xLabel));
  return chart(options.title, width, height, body);
}

export interface ScatterPoint {
  readonly x: number | null;
  readonly y: number | null;
  /** Written beside the point when given. */
  readonly label?: string;
}

export interface ScatterOptions {
  readonly title: string;
  readonly points: readonly ScatterPoint[];
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Draw y = x (for two rankings, or two editions of a score). */
  readonly diagonal?: boolean;
  readonly xDomain?: readonly [number, number];
  readonly yDomain?: readonly [number, number];
  readonly width?: number;
  readonly height?: number;
}

/** A scatter plot of the points with both coordinates finite. */
export function scatterChart(options: ScatterOptions): Chart {
  const width = options.width ?? 560;
  const margin = { left: 56, right: 24, top: 30, bottom: 44 };
  // A square plot area against a diagonal.
  const height = options.height ?? (options.diagonal ? width - margin.left - margin.right + margin.top + margin.bottom : 420);
  const points = options.points.filter((p) => finite(p.x) && finite(p.y)) as { x: number; y: number; label?: string }[];
  // Against a diagonal both axes share one domain, so that y = x is the 45-degree line.
  const joint = extent(points.flatMap((p) => [p.x, p.y])) as [number, number];
  const x = scaleLinear().domain(options.xDomain ?? (options.diagonal ? joint : (extent(points, (p) => p.x) as [number, number]))).range([margin.left, width - margin.right]);
  const y = scaleLinear().domain(options.yDomain ?? (options.diagonal ? joint : (extent(points, (p) => p.y) as [number, number]))).range([height - margin.bottom, margin.top]);
  if (!options.xDomain) x.nice();
  if (!options.yDomain) y.nice();
  const body = [...yAxis(y, margin.left, width - margin.right, options.yLabel), ...xAxis(x, height - margin.bottom, margin.top, options.xLabel)];
  if (options.diagonal) {
    const [lo, hi] = [Math.max(x.domain()[0]!, y.domain()[0]!), Math.min(x.domain()[1]!, y.domain()[1]!)];
    body.push(`<line x1="${px(x(lo))}" y1="${px(y(lo))}" x2="${px(x(hi))}" y2="${px(y(hi))}" stroke="${AXIS}" stroke-dasharray="4 3"/>`);
  }
  for (const p of points) {
    body.push(`<circle cx="${px(x(p.x))}" cy="${px(y(p.y))}" r="3.5" fill="${PALETTE[0]}" fill-opacity="0.75"/>`);
    if (p.label) body.push(text(x(p.x) + 5, y(p.y) - 4, p.label, `font-size="9" fill="${AXIS}"`));
  }
  return chart(options.title, width, height, body);
}

export interface HeatmapOptions {
  readonly title: string;
  readonly rows: readonly string[];
  readonly columns: readonly string[];
  /** Value of a cell; null or NaN = no value (drawn light grey). */
  readonly value: (row: number, column: number) => number | null;
  /** Colour scale: `log` for counts spanning orders of magnitude (values must be > 0). */
  readonly scale?: 'linear' | 'log';
  readonly legendLabel?: string;
  readonly cell?: number;
  /** Rotate column labels (long names). */
  readonly rotateColumns?: boolean;
}

/** A grid of coloured cells (yellow-orange-red, light grey where there is no value). */
export function heatmap(options: HeatmapOptions): Chart {
  const cell = options.cell ?? 12;
  const labelWidth = 12 + 6.2 * Math.max(4, ...options.rows.map((r) => r.length));
  const longestColumn = Math.max(...options.columns.map((c) => c.length));
  // Rotated by -60 degrees: a label of length L px rises L sin 60 and reaches L cos 60 to the right.
  const columnLabel = options.rotateColumns ? 8 + 5.6 * longestColumn * 0.87 : 18;
  const top = 48 + columnLabel;
  const gridRight = labelWidth + cell * options.columns.length;
  const width = Math.ceil(Math.max(16 + 7.6 * options.title.length, labelWidth + 420, gridRight + (options.rotateColumns ? 5.6 * longestColumn * 0.5 : 0) + 20));
  const height = top + cell * options.rows.length + 12;
  const cells: number[] = [];
  for (let r = 0; r < options.rows.length; r++) for (let c = 0; c < options.columns.length; c++) {
    const v = options.value(r, c);
    if (finite(v)) cells.push(v);
  }
  const [lo, hi] = cells.length ? (extent(cells) as [number, number]) : [0, 1];
  const log = options.scale === 'log';
  const toUnit = log ? scaleLog().domain([Math.max(lo, 1e-9), Math.max(hi, lo * 10, 1e-8)]).range([0, 1]) : scaleLinear().domain([lo, hi === lo ? lo + 1 : hi]).range([0, 1]);
  const color = scaleSequential(interpolateYlOrRd).domain([0, 1]);
  const body: string[] = [];
  // Legend: a ramp with its two ends.
  const ramp = Array.from({ length: 10 }, (_, i) => `<rect x="${px(labelWidth + i * 12)}" y="28" width="12" height="8" fill="${color((i + 0.5) / 10)}"/>`);
  body.push(...ramp, text(labelWidth - 4, 36, formatNumber(lo), `text-anchor="end" fill="${AXIS}" font-size="9"`), text(labelWidth + 124, 36, `${formatNumber(hi)}${options.legendLabel ? ` ${options.legendLabel}` : ''}${log ? ' (log colour)' : ''}`, `fill="${AXIS}" font-size="9"`));
  body.push(`<rect x="${px(labelWidth + 270)}" y="28" width="8" height="8" fill="#eee"/>`, text(labelWidth + 282, 36, 'no value', `fill="${AXIS}" font-size="9"`));
  options.columns.forEach((c, j) => {
    const cx = labelWidth + j * cell + cell / 2;
    body.push(options.rotateColumns ? text(cx + 3, top - 4, c, `font-size="9" fill="${AXIS}" transform="rotate(-60 ${px(cx + 3)} ${px(top - 4)})"`) : text(cx, top - 4, c, `font-size="9" text-anchor="middle" fill="${AXIS}"`));
  });
  options.rows.forEach((r, i) => {
    const y0 = top + i * cell;
    body.push(text(labelWidth - 4, y0 + cell - 2, r, 'text-anchor="end" font-size="9"'));
    options.columns.forEach((_, j) => {
      const v = options.value(i, j);
      const fill = finite(v) ? color(Math.min(1, Math.max(0, toUnit(log ? Math.max(v, 1e-9) : v)))) : '#eee';
      body.push(`<rect x="${px(labelWidth + j * cell)}" y="${px(y0)}" width="${cell - 1}" height="${cell - 1}" fill="${fill}"/>`);
    });
  });
  return chart(options.title, width, height, body);
}

/** Compact numbers for legends: 172174 -> 172k, 0.25 -> 0.25. */
export function formatNumber(x: number): string {
  const a = Math.abs(x);
  if (a >= 1e6) return `${+(x / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${Math.round(x / 1e3)}k`;
  if (a >= 100 || Number.isInteger(x)) return String(Math.round(x));
  return String(+x.toPrecision(2));
}
