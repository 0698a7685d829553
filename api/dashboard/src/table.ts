/**
 * The ranking table beside the map: every state's score, band, rank and 90% rank interval (drawn
 * as a bar on the 1..N scale), confidence and the map layer's value; sortable by any column,
 * filterable by sub-region, exportable to CSV with the numbers exactly as the API gave them.
 */
import { fmt, h, s } from './dom.ts';
import { bandIndex } from './palette.ts';
import type { MapLayer, MapState, Summary, SummaryState } from './types.ts';

export type SortKey = 'rank' | 'name' | 'subregion' | 'score' | 'interval' | 'confidence' | 'value';

export interface TableState {
  summary: Summary | null;
  /** Why the summary is missing (not visible, error), shown in the table. */
  summaryProblem: string | null;
  layer: MapLayer | null;
  subregion: string;
  sort: SortKey;
  descending: boolean;
}

export interface Row {
  readonly entity: string;
  readonly name: string;
  readonly subregion: string | null;
  readonly s: SummaryState | null;
  readonly m: MapState | null;
}

const CONFIDENCE_ORDER: Readonly<Record<string, number>> = { high: 0, medium: 1, low: 2 };

const COLUMNS: readonly { key: SortKey; label: string; title: string }[] = [
  { key: 'rank', label: 'Rank', title: 'rank of the framework score, 1 = highest risk' },
  { key: 'name', label: 'State', title: 'participating state' },
  { key: 'subregion', label: 'Sub-region', title: 'ThreatLens sub-region' },
  { key: 'score', label: 'Score', title: 'framework score 0-10 and band' },
  { key: 'interval', label: '90% rank interval', title: 'Monte Carlo 5th to 95th percentile rank' },
  { key: 'confidence', label: 'Confidence', title: 'confidence level of the score' },
  { key: 'value', label: 'Map value', title: 'value of the layer shown on the map' },
];

export function tableRows(state: TableState, entities: readonly { code: string; name: string; subregion: string | null }[]): Row[] {
  const summary = new Map((state.summary?.states ?? []).map((x) => [x.entity, x]));
  const layer = new Map((state.layer?.states ?? []).map((x) => [x.entity, x]));
  return entities
    .filter((e) => state.subregion === '' || e.subregion === state.subregion)
    .map((e) => ({ entity: e.code, name: e.name, subregion: e.subregion, s: summary.get(e.code) ?? null, m: layer.get(e.code) ?? null }));
}

function sortValue(row: Row, key: SortKey): number | string | null {
  switch (key) {
    case 'rank':
      return row.s?.rank ?? null;
    case 'name':
      return row.name;
    case 'subregion':
      return row.subregion;
    case 'score':
      return row.s?.score ?? null;
    case 'interval':
      return row.s?.interval ? row.s.interval.rankLow + row.s.interval.rankHigh / 1000 : null;
    case 'confidence':
      return row.s ? CONFIDENCE_ORDER[row.s.confidence] ?? null : null;
    case 'value':
      return row.m?.status === 'ok' ? row.m.value : null;
  }
}

/** Sorted rows; missing values always last, whatever the direction; ties by name. */
export function sortRows(rows: readonly Row[], key: SortKey, descending: boolean): Row[] {
  return [...rows].sort((a, b) => {
    const va = sortValue(a, key);
    const vb = sortValue(b, key);
    if (va === null || vb === null) return va === null ? (vb === null ? a.name.localeCompare(b.name) : 1) : -1;
    const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
    return (descending ? -c : c) || a.name.localeCompare(b.name);
  });
}

function intervalBar(x: SummaryState): SVGSVGElement {
  const W = 120;
  const H = 14;
  const n = Math.max(1, x.of);
  const pos = (r: number) => 2 + ((r - 1) / Math.max(1, n - 1)) * (W - 4);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'interval-bar', role: 'img', 'aria-label': x.interval ? `rank interval ${x.interval.rankLow} to ${x.interval.rankHigh} of ${x.of}` : 'no interval' });
  svg.append(s('line', { x1: 2, x2: W - 2, y1: H / 2, y2: H / 2, class: 'track' }));
  if (x.interval) {
    const { rankLow, rankHigh } = x.interval;
    svg.append(s('rect', { x: pos(rankLow), y: 3, width: Math.max(2, pos(rankHigh) - pos(rankLow)), height: H - 6, class: 'range' }));
    if (x.rank !== null) svg.append(s('line', { x1: pos(x.rank), x2: pos(x.rank), y1: 1, y2: H - 1, class: 'nominal' }));
  }
  return svg;
}

function valueCell(m: MapState | null, layer: MapLayer | null): HTMLTableCellElement {
  if (!m || m.status === 'withheld') return h('td', { class: 'not-visible', 'data-status': 'withheld' }, 'not visible');
  if (m.status === 'no_data' || m.value === null) return h('td', { class: 'no-data', 'data-status': 'no_data' }, 'no data');
  return h('td', { class: 'num', 'data-status': 'ok' }, h('span', { class: `swatch band-${m.band}`, 'aria-hidden': 'true' }), ` ${fmt(m.value, 3)}`, layer ? h('span', { class: 'visually-hidden' }, ` ${layer.unit}`) : null);
}

export function renderTable(table: HTMLTableElement, state: TableState, rows: readonly Row[], onSort: (key: SortKey) => void, onSelect: (entity: string) => void): void {
  const head = h(
    'tr',
    {},
    ...COLUMNS.map((c) =>
      h(
        'th',
        { scope: 'col', 'aria-sort': state.sort === c.key ? (state.descending ? 'descending' : 'ascending') : 'none', 'data-key': c.key },
        h('button', { type: 'button', class: 'sort', title: `sort by ${c.title}`, 'data-sort': c.key }, c.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, state.sort === c.key ? (state.descending ? ' ▼' : ' ▲') : '')),
      ),
    ),
  );
  const problem = state.summaryProblem;
  const body = rows.map((r) => {
    const x = r.s;
    const band = bandIndex(x?.band ?? null);
    const notVisible = !x && problem !== null;
    return h(
      'tr',
      { 'data-entity': r.entity },
      h('td', { class: 'num', 'data-field': 'rank' }, x?.rank ?? (notVisible ? 'not visible' : '–')),
      h('th', { scope: 'row' }, h('button', { type: 'button', class: 'state-link', 'data-entity': r.entity, title: `open the panel of ${r.name}` }, r.name)),
      h('td', {}, r.subregion ?? ''),
      x && x.score !== null
        ? h('td', { class: 'num', 'data-field': 'score' }, fmt(x.score, 2), ' ', h('span', { class: `badge band-${band}` }, x.band ?? ''))
        : h('td', { class: notVisible ? 'not-visible' : 'no-data', 'data-field': 'score' }, notVisible ? 'not visible' : 'no data'),
      h('td', { 'data-field': 'interval' }, x ? intervalBar(x) : '', x?.interval ? h('span', { class: 'interval-text' }, ` ${x.interval.rankLow}–${x.interval.rankHigh}`) : null),
      h('td', { 'data-field': 'confidence' }, x ? h('span', { class: `badge confidence-${x.confidence}` }, x.confidence) : notVisible ? 'not visible' : '–'),
      valueCell(r.m, state.layer),
    );
  });
  table.replaceChildren(
    h('caption', {}, state.summary ? `${state.summary.framework.title}, ${state.summary.year}: ${rows.length} states${state.subregion ? ` in ${state.subregion}` : ''}` : problem ? `Ranking not visible: ${problem}` : 'Loading the ranking…'),
    h('thead', {}, head),
    h('tbody', {}, ...body),
  );
  table.querySelectorAll<HTMLButtonElement>('button.sort').forEach((b) => (b.onclick = () => onSort(b.dataset.sort as SortKey)));
  table.querySelectorAll<HTMLButtonElement>('button.state-link').forEach((b) => (b.onclick = () => onSelect(b.dataset.entity!)));
}

/** RFC 4180: quote a field holding a comma, a quote or a line break. */
function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const t = String(v);
  return /[",\r\n]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
}

export const CSV_COLUMNS = ['entity', 'name', 'subregion', 'score', 'band', 'rank', 'of', 'rank_low', 'rank_median', 'rank_high', 'score_low', 'score_high', 'confidence', 'map_layer', 'map_value', 'map_class', 'map_status'] as const;

/** The rows shown (filter and order as on screen), numbers exactly as the API sent them. */
export function toCsv(rows: readonly Row[], layer: MapLayer | null): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    const x = r.s;
    const iv = x?.interval;
    const m = r.m;
    lines.push(
      [
        r.entity, r.name, r.subregion, x?.score, x?.band, x?.rank, x?.of, iv?.rankLow, iv?.rankMedian, iv?.rankHigh, iv?.scoreLow, iv?.scoreHigh, x?.confidence,
        layer?.layer, m?.status === 'ok' ? m.value : null, m?.status === 'ok' && m.band !== null ? layer?.legend[m.band]?.label : null, m?.status ?? 'withheld',
      ].map(csvField).join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
