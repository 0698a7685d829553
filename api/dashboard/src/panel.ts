/**
 * The country panel: score and band with the Monte Carlo interval, rank interval, confidence and
 * its reasons, the trend, the drivers, the change since the previous year as a waterfall, the
 * threat matrix, recent anomaly flags, the narrative and the provenance. Every number is the
 * API's (GET /v1/dashboard/country, GET /v1/anomalies); nothing is recomputed here.
 */
import { api, query } from './api.ts';
import { divergingBars, trendChart, waterfall } from './charts.ts';
import { byId, fmt, h, humanise, signed } from './dom.ts';
import { bandIndex } from './palette.ts';
import type { Country } from './types.ts';

interface AnomalyFlag {
  readonly entity?: string;
  readonly indicator?: string;
  readonly period?: string;
  readonly severity?: string;
  readonly score?: number;
  readonly reason?: string;
  readonly detector?: string;
  readonly likelyCause?: string;
}

function anomalyList(body: unknown): AnomalyFlag[] {
  if (Array.isArray(body)) return body as AnomalyFlag[];
  if (body && typeof body === 'object') {
    for (const key of ['flags', 'anomalies', 'items', 'results']) {
      const v = (body as Record<string, unknown>)[key];
      if (Array.isArray(v)) return v as AnomalyFlag[];
    }
  }
  return [];
}

/** The anomaly section's content from GET /v1/anomalies: recent flags, none, not visible, or no such route. */
function anomalyContent(answer: Awaited<ReturnType<typeof api<unknown>>>): HTMLElement {
  if (answer.ok) {
    const flags = anomalyList(answer.data)
      .filter((f) => f.severity !== 'none')
      .sort((a, b) => String(b.period ?? '').localeCompare(String(a.period ?? '')))
      .slice(0, 8);
    return flags.length === 0
      ? h('p', { 'data-status': 'none' }, 'No anomaly flags for this state.')
      : h('ul', { class: 'flags', 'data-status': 'flags' }, ...flags.map((f) => h('li', {}, h('strong', {}, `${f.period ?? ''} ${f.indicator ?? ''}`), ` — ${f.severity ?? ''}${f.score !== undefined ? ` (${fmt(f.score, 2)})` : ''}${f.likelyCause ? `, ${f.likelyCause.replaceAll('_', ' ')}` : ''}${f.reason ? `: ${f.reason}` : ''}`)));
  }
  if (answer.notFound) return h('p', { 'data-status': 'unavailable' }, 'Anomaly detection not available.');
  if (answer.notVisible) return h('p', { class: 'not-visible', 'data-status': 'withheld' }, `Not visible to you (${answer.message}).`);
  return h('p', { class: 'error', 'data-status': 'error' }, `Anomaly flags could not be loaded: ${answer.message}`);
}

function section(id: string, title: string, ...content: (Node | string | null)[]): HTMLElement {
  return h('section', { class: 'panel-section', id, 'aria-labelledby': `${id}-h` }, h('h3', { id: `${id}-h` }, title), ...content);
}

function bandBadge(band: string | null): HTMLElement {
  const i = bandIndex(band);
  return h('span', { class: `badge ${i === null ? 'no-data' : `band-${i}`}` }, band ?? 'no band');
}

export interface PanelContext {
  readonly framework: string;
  readonly year: number;
  readonly entity: string;
  readonly name: string;
}

/** Renders the panel for one state; resolves when its main numbers are in the page. */
export async function openPanel(ctx: PanelContext, onClose: () => void): Promise<void> {
  const panel = byId('panel');
  const body = byId('panel-body');
  panel.hidden = false;
  panel.setAttribute('data-entity', ctx.entity);
  panel.setAttribute('aria-busy', 'true');
  byId('panel-title').textContent = `${ctx.name}, ${ctx.year}`;
  body.replaceChildren(h('p', { class: 'loading' }, 'Loading the assessment…'));
  const close = byId<HTMLButtonElement>('panel-close');
  close.onclick = () => onClose();
  byId('panel-title').focus();

  const country = await api<Country>(`/v1/dashboard/country?${query({ framework: ctx.framework, year: ctx.year, entity: ctx.entity })}`);
  // Asked after the assessment, and not awaited: anomaly detection may run on demand for seconds.
  const anomalies = api<unknown>(`/v1/anomalies?${query({ entity: ctx.entity })}`);
  // A newer click may have replaced this panel while the answers were on their way.
  const current = () => panel.getAttribute('data-entity') === ctx.entity && byId('panel-title').textContent === `${ctx.name}, ${ctx.year}`;
  if (!current()) return;
  panel.setAttribute('aria-busy', 'false');

  if (!country.ok) {
    const text = country.notVisible
      ? `Not visible to you: ${country.message}. Enter an API key with the rights to see this state's assessment.`
      : country.notFound || country.status === 400
        ? `No assessment: ${country.message}`
        : `The assessment could not be loaded: ${country.message}`;
    body.replaceChildren(h('p', { class: country.notVisible ? 'not-visible' : 'error', 'data-status': country.notVisible ? 'withheld' : 'error' }, text));
    return;
  }
  const c = country.data;
  const iv = c.interval;
  const headline = section(
    'panel-score',
    'Score',
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Score'),
      h('dd', { 'data-field': 'score' }, c.score === null ? 'no score' : `${fmt(c.score, 2)} of 10`, ' ', bandBadge(c.band)),
      h('dt', {}, `${c.intervalLevel}% score interval`),
      h('dd', { 'data-field': 'score-interval' }, iv ? `${fmt(iv.scoreLow, 2)} to ${fmt(iv.scoreHigh, 2)}` : 'not computed'),
      h('dt', {}, 'Rank'),
      h('dd', { 'data-field': 'rank' }, c.rank === null ? 'not ranked' : `${c.rank} of ${c.of}`),
      h('dt', {}, `${c.intervalLevel}% rank interval`),
      h('dd', { 'data-field': 'rank-interval' }, iv ? `${iv.rankLow} to ${iv.rankHigh} (median ${iv.rankMedian})` : 'not computed'),
      h('dt', {}, 'Framework'),
      h('dd', {}, `${c.framework.title} (${c.framework.id} ${c.framework.version}), root "${c.root}"`),
    ),
    h('p', { class: 'note' }, `Intervals: 5th to 95th percentile of ${c.provenance.method.runs} Monte Carlo runs over normalisation, aggregation, imputation and weights (seed ${c.provenance.method.seed}).`),
    h('table', { class: 'data nodes' }, h('caption', {}, 'Scores of the framework\'s nodes'), h('tbody', {}, ...Object.entries(c.nodeScores).map(([node, v]) => h('tr', {}, h('th', { scope: 'row' }, humanise(node)), h('td', {}, v === null ? 'no score' : fmt(v, 3)))))),
  );

  const confidence = section(
    'panel-confidence',
    'Confidence',
    h('p', {}, h('span', { class: `badge confidence-${c.confidence.level}`, 'data-field': 'confidence' }, c.confidence.level)),
    h('ul', { class: 'reasons' }, ...c.confidence.reasons.map((r) => h('li', { 'data-level': r.level ?? 'not assessed' }, h('strong', {}, `${humanise(r.factor)} (${r.level ?? 'not assessed'}): `), r.message))),
  );

  const trend = section(
    'panel-trend',
    'Trend',
    trendChart(
      'chart-trend',
      { history: c.history, fit: c.trend, thresholds: c.bandThresholds, label: c.trend.label },
      `${c.name}: score ${c.history[0]?.year ?? ''}–${c.year}, trend ${c.trend.label.replaceAll('_', ' ')}${c.trend.slope !== null ? ` (Theil-Sen ${signed(c.trend.slope, 3)} a year)` : ''}. ${c.trend.reason}.`,
    ),
  );

  const drivers = section(
    'panel-drivers',
    'Drivers',
    divergingBars(
      'chart-drivers',
      c.drivers.map((d) => ({ label: d.label, value: d.pointsAboveLevel, note: `${d.raw === null ? 'no raw value' : `${fmt(d.raw, 3)} ${d.unit ?? ''}`}, normalised ${fmt(d.normalised, 2)}, weight ${fmt(d.weight, 3)}${d.imputed ? `, imputed (${d.imputed})` : ''}${d.grades.length ? `, grade ${d.grades.join('/')}` : ''}` })),
      `What each indicator adds to ${c.name}'s score compared with that indicator at the score's own level (score points; the largest 12 drawn, all in the table).`,
      'points',
    ),
  );

  const change = section(
    'panel-change',
    c.change ? `Change since ${c.change.fromYear}` : 'Change',
    c.change
      ? waterfall(
          'chart-change',
          {
            startLabel: `Score ${c.change.fromYear}`,
            start: c.change.from,
            endLabel: `Score ${c.change.toYear}`,
            end: c.change.to,
            steps: c.change.contributions.map((x) => ({ label: x.label, value: x.points })),
            residual: c.change.residual,
          },
          `Waterfall: ${c.name}'s score went from ${fmt(c.change.from, 2)} in ${c.change.fromYear} to ${fmt(c.change.to, 2)} in ${c.change.toYear} (${signed(c.change.change)}), split into indicator contributions.`,
        )
      : h('p', {}, 'No previous year with a score: no change to split.'),
  );

  const matrix = section(
    'panel-matrix',
    'Threat matrix',
    h('p', { class: 'note' }, `Capacity (resilience) ${c.threatMatrix.capacity === null ? 'unknown' : `${fmt(c.threatMatrix.capacity, 2)} of 10`}. Priority = scale × harm / 5 × trend factor × (1 − capacity / 20).`),
    h(
      'table',
      { class: 'data matrix' },
      h('caption', {}, `Crime areas of ${c.name} by priority`),
      h('thead', {}, h('tr', {}, ...['#', 'crime area', 'scale', 'trend', 'harm', 'priority'].map((x) => h('th', { scope: 'col' }, x)))),
      h(
        'tbody',
        {},
        ...c.threatMatrix.cells.map((cell) =>
          h('tr', {}, h('td', {}, cell.priority ?? '–'), h('th', { scope: 'row' }, humanise(cell.crimeArea)), h('td', {}, cell.scale === null ? 'no data' : fmt(cell.scale, 2)), h('td', {}, cell.trend.replaceAll('_', ' ')), h('td', {}, cell.harm), h('td', {}, cell.priorityScore === null ? 'no data' : `${fmt(cell.priorityScore, 2)} (${cell.priorityClass})`)),
        ),
      ),
    ),
  );

  const flags = section('panel-anomalies', 'Recent anomaly flags', h('p', { 'data-status': 'loading' }, 'Loading anomaly flags…'));
  void anomalies.then((answer) => {
    if (current()) flags.replaceChildren(flags.firstElementChild!, anomalyContent(answer));
  });

  const narrative = section('panel-narrative', 'Narrative', h('p', { class: 'narrative' }, c.narrative));

  const provenance = section(
    'panel-provenance',
    'Provenance',
    h('p', { class: 'note', 'data-field': 'scope' }, `Computed from ${c.dataScope === 'public' ? 'public data only' : `the data shared with ${c.dataScope.replace(/^agency:/, 'agency ')}`}; data version ${c.provenance.dataVersion}; framework ${c.provenance.framework.id} ${c.provenance.framework.version} (parameters ${c.provenance.framework.paramsHash}).`),
    h(
      'table',
      { class: 'data provenance' },
      h('caption', {}, 'Batches behind the framework\'s indicators, with their source grades (Admiralty: source A–F, information 1–6)'),
      h('thead', {}, h('tr', {}, ...['batch', 'source', 'file', 'grade', 'indicators'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, ...c.provenance.batches.map((b) => h('tr', {}, h('td', {}, b.id), h('td', {}, b.source, b.synthetic ? ' (synthetic)' : ''), h('td', {}, b.fileName), h('td', { 'data-field': 'grade' }, b.grade), h('td', {}, b.indicators)))),
    ),
  );

  body.replaceChildren(
    ...(c.synthetic ? [h('p', { class: 'synthetic' }, 'Synthetic demo data: not real statistics.')] : []),
    headline,
    confidence,
    trend,
    drivers,
    change,
    matrix,
    flags,
    narrative,
    provenance,
  );
}

export function closePanel(): void {
  const panel = byId('panel');
  panel.hidden = true;
  panel.removeAttribute('data-entity');
}
