/**
 * A report as one self-contained HTML document (no scripts, no external resources; styles and the
 * SVG map inline), printable by Chromium to PDF (reports/pdf.ts). Pure and deterministic: the same
 * inputs give the same bytes, so a published report re-renders to the document that was published.
 *
 * Every number in the visible text is an element with `data-src` (which API answer), `data-path`
 * (where in it) and `data-fmt` (how it is printed), and is printed from exactly that value
 * (reports/values.ts); the API paths of the sources are embedded in a JSON block
 * (`#report-sources`). Texts that can carry digits (indicator names, messages, the narrative) are
 * printed the same way. A report on restricted data carries its handling level on every printed
 * page (CSS page margin boxes) and in a banner at the top and bottom of the document.
 */
import { BAND_LABELS } from '../engine/scoring/bands.ts';
import { executiveSummary, type Part, type Sentence } from './executive-summary.ts';
import { atlasStateNames, BAND_COLOURS, choroplethSvg, SMALL_STATES } from './map-svg.ts';
import { sourceValue, type ReportInputs } from './model.ts';
import { formatValue, type ValueFormat } from './values.ts';

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const humanise = (code: string) => code.replace(/_/g, ' ');
const cssString = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, ' ')}"`;

interface Node {
  readonly id: string;
  readonly aggregation: string;
  readonly weights?: Record<string, number>;
  readonly weighting?: unknown;
  readonly availability?: number;
  readonly children: readonly (Node | string)[];
}
interface FrameworkSnapshot {
  readonly id: string;
  readonly version: string;
  readonly title: string;
  readonly normalisation: Record<string, unknown>;
  readonly imputation: readonly Record<string, unknown>[];
  readonly treatment: Record<string, unknown>;
  readonly availability: number;
  readonly bands: { readonly thresholds: readonly number[] };
  readonly indicatorOptions: Record<string, Record<string, unknown>>;
  readonly roots: readonly Node[];
}

/** Renders values from the report's sources; throws (naming the path) when one is absent. */
class Writer {
  constructor(readonly inputs: ReportInputs) {}

  value<T = unknown>(src: string, path: string): T {
    return sourceValue(this.inputs, src, path) as T;
  }

  /** The value, or undefined when the path does not resolve (optional parts of a report). */
  maybe<T = unknown>(src: string, path: string): T | undefined {
    try {
      const v = this.value<T>(src, path);
      return v === null ? undefined : v;
    } catch {
      return undefined;
    }
  }

  /** A value printed with its source, path and format on the element. */
  n(src: string, path: string, fmt: ValueFormat, cls = 'n'): string {
    const text = formatValue(this.value(src, path), fmt);
    return `<span class="${cls}" data-src="${escapeHtml(src)}" data-path="${escapeHtml(path)}" data-fmt="${fmt}">${escapeHtml(text)}</span>`;
  }

  t(src: string, path: string): string {
    return this.n(src, path, 'text', 't');
  }

  /** An indicator's catalogue name. */
  label(code: string): string {
    return this.t('inputs', `labels.indicators.${code}`);
  }

  parts(parts: readonly Part[]): string {
    return parts.map((p) => (typeof p === 'string' ? escapeHtml(p) : this.n(p.src, p.path, p.fmt, p.fmt === 'text' || p.fmt === 'list' ? 't' : 'n'))).join('');
  }
}

const STYLE = `
:root { --ink: #1d232b; --muted: #5b6470; --rule: #d4d8dd; --accent: #17456b; --warn: #8b1a1a; }
* { box-sizing: border-box; }
html { font: 10pt/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: var(--ink); }
body { margin: 0 auto; max-width: 190mm; padding: 0 4mm; counter-reset: section annex; }
h1 { font-size: 19pt; color: var(--accent); margin: 4mm 0 1mm; line-height: 1.2; }
h2 { font-size: 13pt; color: var(--accent); border-bottom: 1.5pt solid var(--accent); padding-bottom: 1mm; margin: 7mm 0 3mm; break-after: avoid; }
h3 { font-size: 10.5pt; margin: 4mm 0 1.5mm; break-after: avoid; }
section.numbered > h2::before { counter-increment: section; content: counter(section) ". "; }
section.annex { break-before: page; }
section.annex > h2::before { counter-increment: annex; content: "Annex " counter(annex, upper-alpha) ". "; }
p { margin: 0 0 2mm; }
.subtitle { color: var(--muted); margin: 0 0 4mm; }
.meta { font-size: 8.5pt; color: var(--muted); }
.summary p { font-size: 10.5pt; }
table.t { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm; font-size: 8.5pt; }
table.t th, table.t td { border-bottom: 0.5pt solid var(--rule); padding: 0.8mm 1.5mm; text-align: left; vertical-align: top; }
table.t th { color: var(--muted); font-weight: 600; border-bottom: 1pt solid var(--muted); }
table.t td.r, table.t th.r { text-align: right; font-variant-numeric: tabular-nums; }
table.t tr { break-inside: avoid; }
code, .hash { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; word-break: break-all; }
.banner { border: 1.5pt solid var(--muted); padding: 1.5mm 3mm; margin: 3mm 0; font-weight: 700; letter-spacing: 0.04em; }
.banner .t[data-path="handling.level"] { text-transform: uppercase; }
.banner.restricted, .banner.owner { border-color: var(--warn); color: var(--warn); }
.banner.synthetic { border-style: dashed; font-weight: 600; letter-spacing: 0; }
figure { margin: 2mm 0 4mm; break-inside: avoid; }
figcaption { font-size: 8.5pt; color: var(--muted); }
svg.map { width: 100%; height: auto; display: block; }
svg.map .sea { fill: #eef3f7; }
svg.map .context path { fill: #e3e3e3; stroke: #ffffff; stroke-width: 0.4; }
svg.map .state { stroke: #ffffff; stroke-width: 0.5; }
svg.map .state.focus, svg.map .marker.focus { stroke: #000000; stroke-width: 2; }
svg.map .marker { stroke: #333333; stroke-width: 0.8; }
svg.map .frame { fill: none; stroke: #9aa3ad; stroke-width: 1; }
svg.map .frame-label { font-size: 11px; fill: #5b6470; }
.legend { display: flex; flex-wrap: wrap; gap: 1mm 4mm; font-size: 8.5pt; margin-top: 1.5mm; }
.legend span.swatch { display: inline-block; width: 4mm; height: 3mm; border: 0.5pt solid #888; vertical-align: middle; margin-right: 1mm; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font-size: 10px; fill: #5b6470; }
svg.chart .stripe-label { font-size: 9px; }
.cls-1 { background: #f4c7c3; } .cls-2 { background: #fde5c3; } .cls-3 { background: #fdf6cf; }
ul.tree { margin: 0 0 2mm; padding-left: 5mm; font-size: 8.5pt; }
.note { font-size: 8.5pt; color: var(--muted); }
@media screen { body { padding-top: 2mm; } }
`;

function handlingText(inputs: ReportInputs): string {
  const { level, allowedAgencies } = inputs.report.handling;
  const synthetic = inputs.report.inputBatches.some((b) => b.synthetic) ? ' · SYNTHETIC DEMO DATA' : '';
  if (level === 'public') return `PUBLIC${synthetic}`;
  const to = allowedAgencies.length === 0 ? 'no agency' : allowedAgencies.join(', ');
  return `${level === 'owner' ? 'OWNER ONLY' : 'RESTRICTED'} · releasable to: ${to}${synthetic}`;
}

/** Print CSS: the handling level on every page (top and bottom margin boxes), reference and page numbers. */
function pageStyle(inputs: ReportInputs): string {
  const mark = handlingText(inputs);
  const colour = inputs.report.handling.level === 'public' ? '#5b6470' : '#8b1a1a';
  return `
@page {
  size: A4; margin: 18mm 14mm 18mm 14mm;
  @top-center { content: ${cssString(mark)}; font: 700 8pt "DejaVu Sans", sans-serif; color: ${colour}; letter-spacing: 0.04em; }
  @bottom-center { content: ${cssString(mark)}; font: 700 7pt "DejaVu Sans", sans-serif; color: ${colour}; }
  @bottom-left { content: ${cssString(inputs.report.reference)}; font: 7pt "DejaVu Sans", sans-serif; color: #5b6470; }
  @bottom-right { content: "page " counter(page) " of " counter(pages); font: 7pt "DejaVu Sans", sans-serif; color: #5b6470; }
}`;
}

function banner(w: Writer): string {
  const { level } = w.inputs.report.handling;
  const out: string[] = [];
  if (level === 'public') {
    out.push(`<div class="banner public">Handling: ${w.t('report', 'handling.level')}</div>`);
  } else {
    const agencies = w.inputs.report.handling.allowedAgencies.length === 0 ? 'no agency' : w.n('report', 'handling.allowedAgencies', 'list', 't');
    out.push(`<div class="banner ${level}">Handling: ${w.t('report', 'handling.level')} · releasable to: ${agencies}. This report draws on data that is not public; it is itself ${level === 'owner' ? 'owner-only' : 'restricted'}.</div>`);
  }
  if (w.inputs.report.inputBatches.some((b) => b.synthetic)) {
    out.push('<div class="banner synthetic">Built on SYNTHETIC demo data (a seeded generator): not a statement about any real state.</div>');
  }
  return out.join('');
}

function table(head: readonly string[], rows: readonly (readonly string[])[], right: readonly number[] = []): string {
  const cell = (tag: string, html: string, i: number) => `<${tag}${right.includes(i) ? ' class="r"' : ''}>${html}</${tag}>`;
  return `<table class="t"><thead><tr>${head.map((h, i) => cell('th', escapeHtml(h), i)).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`).join('')}</tbody></table>`;
}

function section(title: string, body: string, kind: 'numbered' | 'annex' = 'numbered', id = ''): string {
  return `<section class="${kind}"${id ? ` id="${id}"` : ''}><h2>${escapeHtml(title)}</h2>${body}</section>`;
}

function sentencesHtml(w: Writer, sentences: readonly Sentence[]): string {
  return sentences.map((s) => `<p>${w.parts(s)}</p>`).join('');
}

function leavesOf(n: Node): string[] {
  return n.children.flatMap((x) => (typeof x === 'string' ? [x] : leavesOf(x)));
}

/** Node ids of the framework in tree order. */
function nodeIds(framework: FrameworkSnapshot): string[] {
  const out: string[] = [];
  const visit = (n: Node) => {
    out.push(n.id);
    for (const c of n.children) if (typeof c !== 'string') visit(c);
  };
  framework.roots.forEach(visit);
  return out;
}

/** A method spec (normalisation, imputation step, treatment) with its parameters, each from the framework snapshot. */
function specHtml(w: Writer, path: string, spec: Record<string, unknown>): string {
  const params = Object.keys(spec)
    .filter((k) => k !== 'method')
    .sort()
    .map((k) => `${escapeHtml(k)} ${w.n('inputs', `${path}.${k}`, 'json')}`);
  return `${escapeHtml(String(spec.method ?? ''))}${params.length ? ` (${params.join(', ')})` : ''}`;
}

// --- The map

async function mapFigure(w: Writer): Promise<string> {
  const year = String(w.inputs.report.year);
  const src = `scores-${year}`;
  const body = w.inputs.api.scores[year];
  if (!body) return '<p>No scores for the map.</p>';
  const focus = new Set(w.inputs.subject.states.map((s) => s.code));
  const states = body.scores.map((s) => ({ entity: s.entity, band: s.band === null ? null : (BAND_LABELS as readonly string[]).indexOf(s.band), bandLabel: s.band, focus: focus.has(s.entity) }));
  const svg = await choroplethSvg(states, `Band of the ${body.node} score of the participating states in ${year}`);
  const names = await atlasStateNames();
  const legend = BAND_LABELS.map((label, i) => `<span><span class="swatch" style="background:${BAND_COLOURS[i]}"></span>${escapeHtml(label)}</span>`).join('') +
    '<span><span class="swatch" style="background:repeating-linear-gradient(45deg,#d9d9d9 0 2px,#fff 2px 3px)"></span>no score</span>';
  const subject = w.inputs.kind === 'entity' ? 'the state of this report outlined' : 'the states of the region outlined';
  return `<figure>${svg}<div class="legend">${legend}</div><figcaption>Band of the ${escapeHtml(humanise(body.node))} score of the participating states in ${w.n(src, 'year', 'int')} (${subject}; North America inset bottom right). Small states are also marked by a point: ${SMALL_STATES.map((c) => escapeHtml(names.get(c) ?? c)).join(', ')}. Boundaries: Natural Earth (world-atlas).</figcaption></figure>`;
}

// --- Trend chart: one line per series over the years of the trend window, bands as stripes.

interface Series {
  readonly name: string;
  readonly colour: string;
  readonly dash?: string;
  readonly values: readonly (number | null)[];
}

function trendChart(w: Writer, years: readonly string[], series: readonly Series[]): string {
  const W = 640;
  const H = 230;
  const left = 30;
  const right = 86;
  const top = 10;
  const bottom = 26;
  const x = (i: number) => left + (years.length <= 1 ? 0 : (i * (W - left - right)) / (years.length - 1));
  const y = (v: number) => top + ((10 - Math.min(10, Math.max(0, v))) * (H - top - bottom)) / 10;
  const thresholds = (w.inputs.framework as FrameworkSnapshot).bands.thresholds;
  const bounds = [0, ...thresholds, 10];
  const out: string[] = [`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Scores by year" xmlns="http://www.w3.org/2000/svg">`];
  for (let b = 0; b < bounds.length - 1; b++) {
    const y0 = y(bounds[b + 1]!);
    const y1 = y(bounds[b]!);
    out.push(`<rect x="${left}" y="${y0.toFixed(1)}" width="${W - left - right}" height="${(y1 - y0).toFixed(1)}" fill="${BAND_COLOURS[b]}" opacity="0.35"/>`);
    out.push(`<text class="stripe-label" x="${W - right + 4}" y="${((y0 + y1) / 2 + 3).toFixed(1)}">${escapeHtml(BAND_LABELS[b]!)}</text>`);
  }
  years.forEach((year, i) => {
    out.push(`<line x1="${x(i).toFixed(1)}" y1="${H - bottom}" x2="${x(i).toFixed(1)}" y2="${H - bottom + 3}" stroke="#5b6470"/>`);
    out.push(`<text x="${x(i).toFixed(1)}" y="${H - 8}" text-anchor="middle"><tspan class="n" data-src="scores-${year}" data-path="year" data-fmt="int">${escapeHtml(formatValue(w.value(`scores-${year}`, 'year'), 'int'))}</tspan></text>`);
  });
  out.push(`<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="#5b6470"/>`);
  for (const s of series) {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    if (d) out.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    s.values.forEach((v, i) => {
      if (v !== null) out.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.2" fill="${s.colour}"/>`);
    });
  }
  out.push('</svg>');
  const legend = series.map((s) => `<span><span class="swatch" style="background:${s.colour}"></span>${escapeHtml(s.name)}</span>`).join('');
  return `<figure>${out.join('')}<div class="legend">${legend}</div><figcaption>Scores by year, out of ten; the stripes are the framework's bands.</figcaption></figure>`;
}

const LINE_COLOURS = ['#17456b', '#c0392b', '#2e8b57', '#8e44ad', '#d35400', '#16a085', '#7f8c8d', '#b7950b', '#1f618d', '#943126', '#196f3d', '#6c3483'];

/** Years of the trend window with a scores answer, ascending. */
function windowYears(inputs: ReportInputs): string[] {
  return Object.keys(inputs.api.scores).sort((a, b) => Number(a) - Number(b));
}

// --- Sections shared by both kinds

function scoresAnnexTables(w: Writer): string {
  const a = w.inputs.api.assessment.result;
  const out: string[] = [];
  if (a.sensitivity) {
    const rows = a.sensitivity.inputs.map((input) => {
      const p = `result.sensitivity.inputs[input=${input.input}]`;
      return [escapeHtml(input.input), w.n('assessment', `${p}.firstOrder`, 'f2'), `${w.n('assessment', `${p}.firstOrderInterval[0]`, 'f2')} to ${w.n('assessment', `${p}.firstOrderInterval[1]`, 'f2')}`, w.n('assessment', `${p}.total`, 'f2'), `${w.n('assessment', `${p}.totalInterval[0]`, 'f2')} to ${w.n('assessment', `${p}.totalInterval[1]`, 'f2')}`];
    });
    out.push(`<h3>Sensitivity of the ranking</h3><p>Sobol indices of each methodological choice on the mean absolute rank shift (Saltelli design, base sample ${w.n('assessment', 'result.sensitivity.N', 'int')}, ${w.n('assessment', 'result.sensitivity.runs', 'intc')} runs, ${w.n('assessment', 'result.sensitivity.bootstrap', 'int')} bootstrap replicates for the intervals).</p>`);
    out.push(table(['choice', 'first order', 'interval', 'total', 'interval'], rows, [1, 2, 3, 4]));
  }
  return out.join('');
}

function methodologyAnnex(w: Writer): string {
  const f = w.inputs.framework as FrameworkSnapshot;
  const out: string[] = [];
  out.push(`<p>Framework ${w.t('assessment', 'result.framework.title')} (<code>${w.t('report', 'framework.id')}</code>, version ${w.t('report', 'framework.version')}), parameter hash <span class="hash">${w.t('report', 'paramsHash')}</span>. Scores are computed across the participating states of each year: denominate, impute, treat outliers, normalise, weight, aggregate, rank and band (COINr's order).</p>`);
  const node = (n: Node, path: string): string => {
    const weights = n.weights
      ? ` weights: ${Object.keys(n.weights).sort().map((k) => `${escapeHtml(k)} ${w.n('inputs', `${path}.weights.${k}`, 'json')}`).join(', ')}`
      : n.weighting
        ? ' weights: PCA'
        : ' equal weights';
    const availability = n.availability !== undefined ? `, availability ${w.n('inputs', `${path}.availability`, 'json')}` : '';
    const children = n.children
      .map((c, i) => (typeof c === 'string' ? `<li>${w.label(c)} <code>${w.t('inputs', `${path}.children[${i}]`)}</code></li>` : node(c, `${path}.children[${i}]`)))
      .join('');
    return `<li><strong>${w.t('inputs', `${path}.id`)}</strong>: ${escapeHtml(n.aggregation)} mean,${weights}${availability}<ul class="tree">${children}</ul></li>`;
  };
  out.push(`<h3>Structure</h3><ul class="tree">${f.roots.map((r, i) => node(r, `framework.roots[${i}]`)).join('')}</ul>`);
  const imputation = f.imputation.length === 0 ? 'none' : f.imputation.map((step, i) => specHtml(w, `framework.imputation[${i}]`, step)).join(', then ');
  out.push('<h3>Defaults</h3>');
  out.push(table(['step', 'method'], [
    ['normalisation', specHtml(w, 'framework.normalisation', f.normalisation)],
    ['imputation', imputation],
    ['outlier treatment', specHtml(w, 'framework.treatment', f.treatment)],
    ['availability (least share of children present)', w.n('inputs', 'framework.availability', 'json')],
    ['bands (lower bounds of low, medium, high, very high)', f.bands.thresholds.map((_, i) => w.n('inputs', `framework.bands.thresholds[${i}]`, 'json')).join(', ')],
  ]));
  const overrides = Object.keys(f.indicatorOptions).sort();
  if (overrides.length > 0) {
    out.push('<h3>Per-indicator settings</h3>');
    out.push(table(['indicator', 'settings'], overrides.map((code) => {
      const o = f.indicatorOptions[code]!;
      const parts = Object.keys(o).sort().map((k) => {
        const v = o[k];
        const path = `framework.indicatorOptions.${code}.${k}`;
        if (Array.isArray(v)) return `${escapeHtml(k)}: ${v.map((s, i) => specHtml(w, `${path}[${i}]`, s as Record<string, unknown>)).join(', then ')}`;
        if (v !== null && typeof v === 'object') return `${escapeHtml(k)}: ${specHtml(w, path, v as Record<string, unknown>)}`;
        return `${escapeHtml(k)} ${w.n('inputs', path, 'json')}`;
      });
      return [w.label(code), parts.join('; ')];
    })));
  }
  const m = 'result.method';
  out.push('<h3>Uncertainty, trends and confidence</h3>');
  out.push(`<p>Monte Carlo: ${w.n('assessment', `${m}.runs`, 'intc')} runs (seed ${w.n('assessment', `${m}.seed`, 'int')}) over ${escapeHtml(w.inputs.api.assessment.result.method.uncertainInputs.join(', '))}: the default normalisation (the framework's, min-max, percentile rank), the aggregation of every node (the framework's, arithmetic, geometric), the imputation (the framework's, latest value within three years) and noise of ${w.n('assessment', `${m}.weightNoise`, 'pct0')} percent on every weight. Intervals are the fifth to ninety-fifth percentiles of the runs; the mean absolute rank shift of the whole ranking is ${w.n('assessment', 'result.meanAbsoluteRankShift', 'f2')} places. Trends: Theil-Sen slope and Mann-Kendall test over ${w.n('assessment', `${m}.trendYears`, 'int')} years, labelled escalating or de-escalating when the test is significant and the fitted change is large enough. Confidence is the worst of coverage, recency, source reliability and the width of the rank interval.</p>`);
  out.push(scoresAnnexTables(w));
  const formula = 'method.formula';
  out.push('<h3>Where assistance is needed</h3>');
  out.push(`<p>${w.t('assistance', `${formula}.resilience`)}; ${w.t('assistance', `${formula}.overall`)}; ${w.t('assistance', `${formula}.crimeArea`)}. ${w.t('assistance', `${formula}.contribution`)}. Data-capacity gaps: ${w.t('assistance', `${formula}.dataCapacity`)}. Intervals: the same Monte Carlo (${w.n('assistance', 'method.runs', 'intc')} runs, seed ${w.n('assistance', 'method.seed', 'int')}). Limits: threat and resilience are both zero-to-ten scales relative to the states compared, so a gap of zero means balance only in that relative sense; detected crime measures enforcement effort as well as crime; one resilience score serves every crime area; vulnerability (criminal actors, corruption) is in neither side; the intervals cover methodological choices, not measurement error. The ranking is an input for co-ordinating assistance, not an allocation formula.</p>`);
  out.push('<h3>Threat matrix</h3><p>Per crime area: scale = the mean normalised level of its indicators (out of ten); threat = scale × harm / five; priority = threat × trend factor × (one − capacity / twenty), at most ten; capacity = ten − lack of resilience. Harm ratings and trend factors are ThreatLens\'s, written down to be argued with (the MoRiLE scales are not public).</p>');
  return out.join('');
}

function provenanceAnnex(w: Writer): string {
  const r = w.inputs.report;
  const out: string[] = [];
  out.push(table(['item', 'value'], [
    ['report reference', w.t('report', 'reference')],
    ['published', `${w.n('report', 'publishedAt', 'date')} by ${w.t('report', 'publishedBy')}`],
    ['stated purpose', r.purpose === null ? 'none stated' : w.t('report', 'purpose')],
    ['handling', `${w.t('report', 'handling.level')}${r.handling.level === 'public' ? '' : ` (releasable to: ${r.handling.allowedAgencies.length === 0 ? 'no agency' : w.n('report', 'handling.allowedAgencies', 'list', 't')})`}`],
    ['data version (hash over the batches read)', `<span class="hash">${w.t('report', 'dataVersion')}</span>`],
    ['assessment', `${w.n('report', 'assessmentId', 'int')} (data version <span class="hash">${w.t('assessment', 'dataVersion')}</span>)`],
    ['framework parameter hash', `<span class="hash">${w.t('report', 'paramsHash')}</span>`],
    ['code version', `<span class="hash">${w.t('report', 'codeVersion')}</span>`],
    ['renderer version', w.t('report', 'rendererVersion')],
    ['seed and Monte Carlo runs', `${w.n('report', 'seed', 'int')}, ${w.n('report', 'runs', 'intc')}`],
  ]));
  out.push('<h3>Input batches</h3><p>Every batch whose values, grades or quality rows went into the report. Grades: Admiralty (source reliability A to F, information credibility one to six) or Europol\'s four by four.</p>');
  out.push(table(['batch', 'source', 'file', 'file hash (SHA-256)', 'grade', 'sharing', 'owner'], r.inputBatches.map((b) => {
    const p = `inputBatches[id=${b.id}]`;
    return [w.n('report', `${p}.id`, 'int'), w.t('report', `${p}.source`), w.t('report', `${p}.fileName`), `<span class="hash">${w.t('report', `${p}.sha256`)}</span>`, w.t('report', `${p}.grade`), w.t('report', `${p}.sharingLevel`), w.t('report', `${p}.ownerAgency`)];
  }), [0]));
  const run = w.inputs.anomalies.run;
  out.push('<h3>Models</h3>');
  if (run === null) out.push('<p>No anomaly detection run is stored; the scores are computed by the deterministic pipeline, without trained models.</p>');
  else {
    out.push(`<p>Anomaly flags from run ${w.n('inputs', 'anomalies.run.id', 'int')} (data version <span class="hash">${w.t('inputs', 'anomalies.run.dataVersion')}</span>, code <span class="hash">${w.t('inputs', 'anomalies.run.codeVersion')}</span>, ${w.n('inputs', 'anomalies.run.createdAt', 'date')}). Detectors and model versions:</p>`);
    out.push(table(['detector', 'version and parameters'], Object.keys(run.detectors).sort().map((d) => [escapeHtml(d), `<code>${w.n('inputs', `anomalies.run.detectors.${d}`, 'json', 't')}</code>`])));
  }
  out.push(`<p class="note">The numbers of this report are printed from the API answers named in its source list (embedded in the document as <code>report-sources</code>); each number carries its source and path.</p>`);
  return out.join('');
}

function anomaliesSection(w: Writer): string {
  const a = w.inputs.anomalies;
  if (a.run === null) return '<p>No anomaly detection run is stored: the values behind this report have not been screened for anomalies.</p>';
  const head = `<p>Latest anomaly run ${w.n('inputs', 'anomalies.run.id', 'int')}${a.run.upToDate ? '' : ' (it predates the current data version)'}: ${w.n('inputs', 'anomalies.total', 'int')} flags on the states of this report in ${w.n('inputs', 'anomalies.window.from', 'int')} to ${w.n('inputs', 'anomalies.window.to', 'int')}${a.total > a.flags.length ? `, the ${w.n('inputs', 'anomalies.flags.length', 'int')} highest scored shown` : ''}.</p>`;
  if (a.flags.length === 0) return head;
  const rows = a.flags.map((f, i) => {
    const p = `anomalies.flags[${i}]`;
    return [
      ...(w.inputs.kind === 'region' ? [escapeHtml(f.entity)] : []),
      w.t('inputs', `${p}.label`), w.t('inputs', `${p}.period`), escapeHtml(f.detector), w.n('inputs', `${p}.score`, 'f2'), escapeHtml(f.severity),
      w.n('inputs', `${p}.value`, 'f2'), w.n('inputs', `${p}.expected`, 'f2'), escapeHtml(humanise(f.likelyCause)), w.t('inputs', `${p}.reason`),
    ];
  });
  const offset = w.inputs.kind === 'region' ? 1 : 0;
  return head + table([...(offset ? ['state'] : []), 'indicator', 'period', 'detector', 'score', 'severity', 'value', 'expected', 'likely cause', 'reason'], rows, [3 + offset, 5 + offset, 6 + offset]);
}

// --- Entity report

function entityScores(w: Writer, code: string): string {
  const a = `result.entities[entity=${code}]`;
  const result = w.inputs.api.assessment.result;
  const entity = result.entities.find((e) => e.entity === code)!;
  const out: string[] = [];
  const rows = entity.roots.map((r, i) => {
    const p = `${a}.roots[${i}]`;
    const interval = r.interval
      ? [`${w.n('assessment', `${p}.interval.scoreLow`, 'f2')} to ${w.n('assessment', `${p}.interval.scoreHigh`, 'f2')}`, `${w.n('assessment', `${p}.interval.rankLow`, 'int')} to ${w.n('assessment', `${p}.interval.rankHigh`, 'int')}`, w.n('assessment', `${p}.interval.rankMedian`, 'int')]
      : ['not computed', 'not computed', '–'];
    return [escapeHtml(r.root), w.n('assessment', `${p}.score`, 'f2'), escapeHtml(r.band ?? 'no band'), `${w.n('assessment', `${p}.rank`, 'int')} of ${w.n('assessment', `${p}.of`, 'int')}`, ...interval];
  });
  out.push(table(['score', 'value out of ten', 'band', 'rank', 'Monte Carlo score interval', 'rank interval', 'median rank'], rows, [1, 3, 4, 5, 6]));
  const ids = nodeIds(w.inputs.framework as FrameworkSnapshot);
  out.push('<h3>Every node of the framework</h3>');
  out.push(table(['node', 'score out of ten'], ids.map((id) => [escapeHtml(humanise(id)), w.n('assessment', `${a}.nodeScores.${id}`, 'f2')]), [1]));
  out.push(`<p class="note">Intervals: fifth to ninety-fifth percentile over ${w.n('assessment', 'result.method.runs', 'intc')} Monte Carlo runs of defensible methodological alternatives (see Annex A). Read ranks as bands.</p>`);
  return out.join('');
}

function entityMatrix(w: Writer, code: string): string {
  const a = `result.entities[entity=${code}].threatMatrix`;
  const cells = w.inputs.api.assessment.result.entities.find((e) => e.entity === code)!.threatMatrix.cells;
  const rows = cells.map((c) => {
    const p = `${a}.cells[crimeArea=${c.crimeArea}]`;
    const cls = c.priorityClass === null ? '' : c.priorityClass.replace(/\D/g, '');
    return [
      c.priority === null ? '–' : w.n('assessment', `${p}.priority`, 'int'),
      escapeHtml(humanise(c.crimeArea)),
      w.n('assessment', `${p}.indicators`, 'int'),
      w.n('assessment', `${p}.scale`, 'f1'),
      escapeHtml(humanise(c.trend)),
      w.n('assessment', `${p}.slopePerYear`, 'sf2'),
      w.n('assessment', `${p}.harm`, 'int'),
      w.n('assessment', `${p}.threat`, 'f1'),
      w.n('assessment', `${p}.trendFactor`, 'f1'),
      w.n('assessment', `${p}.priorityScore`, 'f1'),
      c.priorityClass === null ? 'no data' : `<span class="cls-${cls}">${w.t('assessment', `${p}.priorityClass`)}</span>`,
    ];
  });
  return `<p>Capacity (ten − lack of resilience): ${w.n('assessment', `${a}.capacity`, 'f1')} out of ten, a capacity factor of ${w.n('assessment', `${a}.cells[0].capacityGap`, 'f2')} on every priority.</p>` +
    table(['priority', 'crime area', 'indicators', 'scale', 'trend', 'slope a year', 'harm', 'threat', 'trend factor', 'priority score', 'class'], rows, [0, 2, 3, 5, 6, 7, 8, 9]);
}

function entityTrends(w: Writer, code: string): string {
  const years = windowYears(w.inputs);
  const framework = w.inputs.framework as FrameworkSnapshot;
  const root = framework.roots[0]!;
  const pillars = root.children.filter((c): c is Node => typeof c !== 'string').map((c) => c.id);
  const nodes = [root.id, ...pillars];
  const valueOf = (year: string, node: string) => w.maybe<number>(`scores-${year}`, `scores[entity=${code}].nodes.${node}`) ?? null;
  const series: Series[] = nodes.map((node, i) => ({ name: humanise(node), colour: LINE_COLOURS[i % LINE_COLOURS.length]!, ...(i > 0 ? { dash: '5 3' } : {}), values: years.map((y) => valueOf(y, node)) }));
  const out: string[] = [trendChart(w, years, series)];
  out.push(table(['year', ...nodes.map(humanise)], years.map((y) => [w.n(`scores-${y}`, 'year', 'int'), ...nodes.map((node) => w.n(`scores-${y}`, `scores[entity=${code}].nodes.${node}`, 'f2'))]), nodes.map((_, i) => i + 1)));
  const entity = w.inputs.api.assessment.result.entities.find((e) => e.entity === code)!;
  const rows = entity.roots.map((r, i) => {
    const p = `result.entities[entity=${code}].roots[${i}].trend`;
    return [escapeHtml(r.root), escapeHtml(humanise(r.trend.label)), w.n('assessment', `${p}.n`, 'int'), w.n('assessment', `${p}.slope`, 'sf2'), `${w.n('assessment', `${p}.slopeLow`, 'sf2')} to ${w.n('assessment', `${p}.slopeHigh`, 'sf2')}`, r.trend.mannKendall ? w.n('assessment', `${p}.mannKendall.p`, 'p3') : '–', w.t('assessment', `${p}.reason`)];
  });
  out.push(table(['score', 'trend', 'years', 'Theil-Sen slope a year', 'slope interval', 'Mann-Kendall p', 'why'], rows, [2, 3, 4, 5]));
  return out.join('');
}

function entityDrivers(w: Writer, code: string): string {
  const entity = w.inputs.api.assessment.result.entities.find((e) => e.entity === code)!;
  const root = entity.roots[0]!;
  const p = `result.entities[entity=${code}].roots[0]`;
  const out: string[] = [`<p>${w.t('assessment', `result.entities[entity=${code}].narrative`)}</p>`];
  const driverRows = (side: 'up' | 'down') =>
    root.drivers[side].map((d, i) => {
      const q = `${p}.drivers.${side}[${i}]`;
      return [w.t('assessment', `${q}.label`), w.n('assessment', `${q}.raw`, 'f2'), w.n('assessment', `${q}.normalised`, 'f2'), w.n('assessment', `${q}.weight`, 'f3'), w.n('assessment', `${q}.pointsAboveLevel`, 'sf2'), d.imputed === null ? 'observed' : w.t('assessment', `${q}.imputed`)];
    });
  const head = ['indicator', 'value', 'normalised', 'weight', 'points', 'value is'];
  if (root.drivers.up.length > 0) out.push('<h3>Pushing the score up</h3>' + table(head, driverRows('up'), [1, 2, 3, 4]));
  if (root.drivers.down.length > 0) out.push('<h3>Pulling the score down</h3>' + table(head, driverRows('down'), [1, 2, 3, 4]));
  out.push('<p class="note">Points: what the indicator adds to the score compared with the indicator sitting at the score\'s own level, all else equal (exact contributions, README "Explanations").</p>');
  if (root.change) {
    const contributions = root.change.contributions
      .map((c, i) => ({ c, i }))
      .sort((x, y) => Math.abs(y.c.points) - Math.abs(x.c.points) || x.c.indicator.localeCompare(y.c.indicator))
      .slice(0, 5);
    out.push(`<h3>Change since ${w.n('assessment', `${p}.change.fromYear`, 'int')}</h3><p>The score changed by ${w.n('assessment', `${p}.change.change`, 'sf2')} points (from ${w.n('assessment', `${p}.change.from`, 'f2')} to ${w.n('assessment', `${p}.change.to`, 'f2')}); the largest parts:</p>`);
    out.push(table(['indicator', 'points'], contributions.map(({ c }) => [w.label(c.indicator), w.n('assessment', `${p}.change.contributions[indicator=${c.indicator}].points`, 'sf2')]), [1]));
  }
  return out.join('');
}

function entityAssistance(w: Writer, code: string): string {
  const row = `overall[entity=${code}]`;
  const overall = w.inputs.api.assistance.overall.find((r) => r.entity === code);
  const out: string[] = [];
  if (!overall || overall.gap === null) {
    out.push('<p>No gap can be computed for this state: its threat or resilience score is missing.</p>');
  } else {
    out.push(table(['threat', 'resilience', 'gap', 'Monte Carlo interval', 'rank (largest gap first)', 'rank interval'], [[
      w.n('assistance', `${row}.threat`, 'f2'), w.n('assistance', `${row}.resilience`, 'f2'), w.n('assistance', `${row}.gap`, 'sf2'),
      `${w.n('assistance', `${row}.interval.low`, 'sf2')} to ${w.n('assistance', `${row}.interval.high`, 'sf2')}`,
      `${w.n('assistance', `${row}.rank`, 'int')} of ${w.n('assistance', 'units', 'int')}`,
      `${w.n('assistance', `${row}.rankInterval.low`, 'int')} to ${w.n('assistance', `${row}.rankInterval.high`, 'int')}`,
    ]], [0, 1, 2, 3, 4, 5]));
    const terms = (side: 'threatTerms' | 'resilienceTerms', limit: number) =>
      overall[side].slice(0, limit).map((t) => {
        const p = `${row}.${side}[indicator=${t.indicator}]`;
        return [w.label(t.indicator), w.n('assistance', `${p}.normalised`, 'f2'), w.n('assistance', `${p}.weight`, 'f3'), w.n('assistance', `${p}.contribution`, 'sf2')];
      });
    out.push('<h3>Indicators behind the gap</h3><p>Each indicator\'s weight × (normalised value − five): the terms of both sides add up to the gap.</p>');
    out.push(table(['threat side (largest first)', 'normalised', 'weight', 'points'], terms('threatTerms', 6), [1, 2, 3]));
    out.push(table(['resilience side (weakest first)', 'normalised lack', 'weight', 'points'], terms('resilienceTerms', 8), [1, 2, 3]));
  }
  const areaRows = w.inputs.api.assistance.crimeAreas.flatMap((area) => {
    const r = area.rows.find((x) => x.entity === code);
    if (!r || r.gap === null) return [];
    const p = `crimeAreas[crimeArea=${area.crimeArea}].rows[entity=${code}]`;
    return [[escapeHtml(humanise(area.crimeArea)), w.n('assistance', `${p}.threat`, 'f2'), w.n('assistance', `${p}.gap`, 'sf2'), `${w.n('assistance', `${p}.interval.low`, 'sf2')} to ${w.n('assistance', `${p}.interval.high`, 'sf2')}`, w.n('assistance', `${p}.rank`, 'int'), `${w.n('assistance', `${p}.rankInterval.low`, 'int')} to ${w.n('assistance', `${p}.rankInterval.high`, 'int')}`]];
  });
  if (areaRows.length > 0) out.push('<h3>By crime area</h3>' + table(['crime area', 'scale', 'gap', 'interval', 'rank', 'rank interval'], areaRows, [1, 2, 3, 4, 5]));
  const capacity = w.inputs.api.assistance.dataCapacity?.rows.find((r) => r.entity === code);
  if (capacity) {
    const p = `dataCapacity.rows[entity=${code}]`;
    out.push(`<h3>Data capacity</h3><p>${w.n('assistance', `${p}.missing.length`, 'int')} of the framework's ${w.n('assistance', 'dataCapacity.indicators', 'int')} indicators have no value in ${w.n('assistance', 'dataCapacity.window.from', 'int')} to ${w.n('assistance', 'dataCapacity.window.to', 'int')}, and ${w.n('assistance', `${p}.stale.length`, 'int')} have a latest value more than ${w.n('assistance', 'method.staleAfterYears', 'int')} years old: a data-capacity gap of ${w.n('assistance', `${p}.gapShare`, 'pct0')} percent, rank ${w.n('assistance', `${p}.rank`, 'int')} among the participating states.</p>`);
    const list: string[][] = [
      ...capacity.missing.map((c) => [w.label(c), 'no value in the window']),
      ...capacity.stale.map((s) => [w.label(s.indicator), `latest value from ${w.n('assistance', `${p}.stale[indicator=${s.indicator}].latestYear`, 'int')}`]),
    ];
    if (list.length > 0) out.push(table(['indicator', 'gap'], list));
  }
  return out.join('');
}

function entityQuality(w: Writer, code: string): string {
  const c = `result.entities[entity=${code}].confidence`;
  const entity = w.inputs.api.assessment.result.entities.find((e) => e.entity === code)!;
  const out: string[] = [`<p>Confidence in this assessment: <strong>${escapeHtml(entity.confidence.level)}</strong>.</p>`];
  out.push(table(['factor', 'level', 'reason'], entity.confidence.reasons.map((r, i) => [escapeHtml(humanise(r.factor)), escapeHtml(r.level ?? 'not assessed'), w.t('assessment', `${c}.reasons[${i}].message`)])));
  const leaves = [...new Set((w.inputs.framework as FrameworkSnapshot).roots.flatMap(leavesOf))];
  const quality = w.inputs.api.quality;
  out.push(`<h3>Data quality of the framework's indicators</h3><p>From the data-quality report of ${w.n('quality', 'scope.years.from', 'int')} to ${w.n('quality', 'scope.years.to', 'int')} (overall grade of the store: ${w.t('quality', 'overall.grade')}). Grade A (best) to E: the worst of coverage, recency, out-of-range values and breaks.</p>`);
  const rows = leaves.map((code2) => {
    if (!quality.indicators.some((i) => i.indicator === code2)) return [w.label(code2), 'no data', '–', '–', '–', '–'];
    const p = `indicators[indicator=${code2}]`;
    return [w.label(code2), w.t('quality', `${p}.grade`), `${w.n('quality', `${p}.coverage.share`, 'pct0')} percent`, `${w.n('quality', `${p}.coverage.states`, 'int')} of ${w.n('quality', `${p}.coverage.ofStates`, 'int')}`, w.n('quality', `${p}.latest.byState.${code}`, 'int'), w.n('quality', `${p}.levelShifts.count`, 'int')];
  });
  out.push(table(['indicator', 'grade', 'cells with a value', 'states with data', `latest value of ${w.inputs.subject.entity!.name}`, 'level shifts'], rows, [2, 3, 4, 5]));
  return out.join('');
}

// --- Region report

function regionStates(w: Writer): string {
  const year = String(w.inputs.report.year);
  const src = `scores-${year}`;
  const rows = w.inputs.subject.states.map((s) => {
    const a = `result.entities[entity=${s.code}]`;
    const entity = w.inputs.api.assessment.result.entities.find((e) => e.entity === s.code);
    const root = entity?.roots[0];
    const first = entity?.threatMatrix.cells.find((c) => c.priority === 1);
    const gap = w.inputs.api.assistance.overall.find((r) => r.entity === s.code);
    return [
      w.t(src, `scores[entity=${s.code}].name`),
      w.n(src, `scores[entity=${s.code}].score`, 'f2'),
      escapeHtml(root?.band ?? 'no band'),
      root?.rank !== null && root?.rank !== undefined ? w.n('assessment', `${a}.roots[0].rank`, 'int') : '–',
      root?.interval ? `${w.n('assessment', `${a}.roots[0].interval.rankLow`, 'int')} to ${w.n('assessment', `${a}.roots[0].interval.rankHigh`, 'int')}` : '–',
      escapeHtml(entity?.confidence.level ?? '–'),
      first ? `${escapeHtml(humanise(first.crimeArea))} (${w.n('assessment', `${a}.threatMatrix.cells[crimeArea=${first.crimeArea}].priorityScore`, 'f1')})` : '–',
      gap && gap.gap !== null ? `${w.n('assistance', `overall[entity=${s.code}].gap`, 'sf2')} (rank ${w.n('assistance', `overall[entity=${s.code}].rank`, 'int')})` : '–',
      w.maybe('assistance', `dataCapacity.rows[entity=${s.code}]`) ? `${w.n('assistance', `dataCapacity.rows[entity=${s.code}].gapShare`, 'pct0')} percent` : '–',
    ];
  });
  return table(['state', 'score', 'band', 'rank', 'rank interval', 'confidence', 'first priority area', 'threat-resilience gap', 'data-capacity gap'], rows, [1, 3, 4, 7, 8]) +
    `<p class="note">Scores out of ten, ranks among the ${w.n('assessment', 'result.units', 'int')} participating states; intervals as in Annex A.</p>`;
}

function regionMatrix(w: Writer): string {
  const areas = w.inputs.api.assistance.crimeAreas.map((a) => a.crimeArea);
  const rows = w.inputs.subject.states.map((s) => {
    const entity = w.inputs.api.assessment.result.entities.find((e) => e.entity === s.code);
    return [
      escapeHtml(s.name),
      ...areas.map((area) => {
        const cell = entity?.threatMatrix.cells.find((c) => c.crimeArea === area);
        if (!cell || cell.priorityScore === null) return '–';
        const cls = (cell.priorityClass ?? '').replace(/\D/g, '');
        return `<span class="cls-${cls}">${w.n('assessment', `result.entities[entity=${s.code}].threatMatrix.cells[crimeArea=${area}].priorityScore`, 'f1')}</span>`;
      }),
    ];
  });
  return '<p>Priority score per state and crime area (out of ten; shaded by class: first, second, third priority).</p>' + table(['state', ...areas.map(humanise)], rows, areas.map((_, i) => i + 1));
}

function regionTrends(w: Writer): string {
  const years = windowYears(w.inputs);
  const root = (w.inputs.framework as FrameworkSnapshot).roots[0]!.id;
  const states = w.inputs.subject.states;
  const series: Series[] = states.map((s, i) => ({ name: s.name, colour: LINE_COLOURS[i % LINE_COLOURS.length]!, values: years.map((y) => w.maybe<number>(`scores-${y}`, `scores[entity=${s.code}].nodes.${root}`) ?? null) }));
  const rows = states.map((s) => [escapeHtml(s.name), ...years.map((y) => w.n(`scores-${y}`, `scores[entity=${s.code}].nodes.${root}`, 'f1'))]);
  return trendChart(w, years, series) + `<table class="t"><thead><tr><th>state</th>${years.map((y) => `<th class="r">${w.n(`scores-${y}`, 'year', 'int')}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c, i) => `<td${i > 0 ? ' class="r"' : ''}>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function regionDrivers(w: Writer): string {
  const rows = w.inputs.subject.states.map((s) => {
    const entity = w.inputs.api.assessment.result.entities.find((e) => e.entity === s.code);
    const root = entity?.roots[0];
    const p = `result.entities[entity=${s.code}].roots[0].drivers`;
    const up = root?.drivers.up[0] ? `${w.t('assessment', `${p}.up[0].label`)} (${w.n('assessment', `${p}.up[0].pointsAboveLevel`, 'sf1')})` : '–';
    const down = root?.drivers.down[0] ? `${w.t('assessment', `${p}.down[0].label`)} (${w.n('assessment', `${p}.down[0].pointsAboveLevel`, 'sf1')})` : '–';
    const change = root?.change ? w.n('assessment', `result.entities[entity=${s.code}].roots[0].change.change`, 'sf2') : '–';
    return [escapeHtml(s.name), up, down, change];
  });
  return table(['state', 'pushing the score up most', 'pulling it down most', 'change since the year before'], rows, [3]);
}

function regionAssistance(w: Writer): string {
  const codes = new Set(w.inputs.subject.states.map((s) => s.code));
  const out: string[] = [];
  const rows = w.inputs.api.assistance.crimeAreas.flatMap((area) => {
    const top = area.rows.find((r) => codes.has(r.entity) && r.gap !== null);
    if (!top) return [];
    const p = `crimeAreas[crimeArea=${area.crimeArea}].rows[entity=${top.entity}]`;
    return [[escapeHtml(humanise(area.crimeArea)), w.t('assistance', `${p}.name`), w.n('assistance', `${p}.gap`, 'sf2'), `${w.n('assistance', `${p}.interval.low`, 'sf2')} to ${w.n('assistance', `${p}.interval.high`, 'sf2')}`, w.n('assistance', `${p}.rank`, 'int')]];
  });
  out.push('<p>Per crime area, the state of the region with the largest gap between threat and resilience (its rank among all participating states).</p>');
  out.push(table(['crime area', 'state', 'gap', 'Monte Carlo interval', 'rank'], rows, [2, 3, 4]));
  const capacity = (w.inputs.api.assistance.dataCapacity?.rows ?? []).filter((r) => codes.has(r.entity));
  if (capacity.length > 0) {
    out.push(`<h3>Data capacity</h3><p>Framework indicators without a value in ${w.n('assistance', 'dataCapacity.window.from', 'int')} to ${w.n('assistance', 'dataCapacity.window.to', 'int')} (missing) or with a latest value more than ${w.n('assistance', 'method.staleAfterYears', 'int')} years old (stale).</p>`);
    out.push(table(['state', 'missing', 'stale', 'gap', 'rank'], capacity.map((r) => {
      const p = `dataCapacity.rows[entity=${r.entity}]`;
      return [w.t('assistance', `${p}.name`), w.n('assistance', `${p}.missing.length`, 'int'), w.n('assistance', `${p}.stale.length`, 'int'), `${w.n('assistance', `${p}.gapShare`, 'pct0')} percent`, w.n('assistance', `${p}.rank`, 'int')];
    }), [1, 2, 3, 4]));
  }
  return out.join('');
}

function regionQuality(w: Writer): string {
  const rows = w.inputs.subject.states.map((s) => {
    const entity = w.inputs.api.assessment.result.entities.find((e) => e.entity === s.code);
    const worst = entity?.confidence.reasons.findIndex((r) => r.level !== null && r.level !== 'high') ?? -1;
    return [escapeHtml(s.name), escapeHtml(entity?.confidence.level ?? '–'), worst >= 0 ? w.t('assessment', `result.entities[entity=${s.code}].confidence.reasons[${worst}].message`) : 'every factor high'];
  });
  return table(['state', 'confidence', 'main reason'], rows) +
    `<p>Data-quality report of ${w.n('quality', 'scope.years.from', 'int')} to ${w.n('quality', 'scope.years.to', 'int')}: overall grade ${w.t('quality', 'overall.grade')}.</p>`;
}

// --- The document

export interface RenderedReport {
  readonly html: string;
  /** The executive summary's sentences (the stored summary is their text). */
  readonly summary: readonly Sentence[];
}

export async function renderReportHtml(inputs: ReportInputs): Promise<RenderedReport> {
  const w = new Writer(inputs);
  const r = inputs.report;
  const summary = executiveSummary(inputs);
  const year = w.n('report', 'year', 'int');
  const subjectName = inputs.kind === 'entity' ? w.t('assessment', `result.entities[entity=${inputs.subject.entity!.code}].name`) : escapeHtml(inputs.subject.region!);
  const body: string[] = [];
  body.push(banner(w));
  body.push(`<h1>Threat assessment: ${subjectName}, ${year}</h1>`);
  body.push(`<p class="subtitle">${w.t('assessment', 'result.framework.title')} · reference ${w.t('report', 'reference')} · published ${w.n('report', 'publishedAt', 'date')}</p>`);
  body.push(section('Executive summary', `<div class="summary">${sentencesHtml(w, summary)}</div>`, 'numbered', 'summary'));
  body.push(section('The map', await mapFigure(w)));
  if (inputs.kind === 'entity') {
    const code = inputs.subject.entity!.code;
    body.push(section('Scores and their uncertainty', entityScores(w, code)));
    body.push(section('Crime-area threat matrix', entityMatrix(w, code)));
    body.push(section('Trends', entityTrends(w, code)));
    body.push(section('Drivers', entityDrivers(w, code)));
    body.push(section('Where assistance is needed', entityAssistance(w, code)));
    body.push(section('Anomaly flags', anomaliesSection(w)));
    body.push(section('Data quality and confidence', entityQuality(w, code)));
  } else {
    body.push(section('The states of the region', regionStates(w)));
    body.push(section('Crime-area threat matrix', regionMatrix(w)));
    body.push(section('Trends', regionTrends(w)));
    body.push(section('Drivers', regionDrivers(w)));
    body.push(section('Where assistance is needed', regionAssistance(w)));
    body.push(section('Anomaly flags', anomaliesSection(w)));
    body.push(section('Data quality and confidence', regionQuality(w)));
  }
  body.push(section('Methodology', methodologyAnnex(w), 'annex'));
  body.push(section('Provenance', provenanceAnnex(w), 'annex'));
  body.push(banner(w));
  // Sorted keys: the stored inputs may come back with their keys in another order.
  const sources = Object.fromEntries(Object.keys(inputs.sources).sort().map((k) => [k, inputs.sources[k]]));
  const sourcesJson = JSON.stringify(sources).replace(/</g, '\\u003c');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="ThreatLens report renderer ${escapeHtml(inputs.rendererVersion)}">
<meta name="threatlens-reference" content="${escapeHtml(r.reference)}">
<meta name="threatlens-handling" content="${escapeHtml(r.handling.level)}">
<title>${escapeHtml(r.title)}</title>
<style>${STYLE}${pageStyle(inputs)}</style>
<script type="application/json" id="report-sources">${sourcesJson}</script>
</head>
<body class="handling-${escapeHtml(r.handling.level)}">
${body.join('\n')}
</body>
</html>
`;
  return { html, summary };
}
