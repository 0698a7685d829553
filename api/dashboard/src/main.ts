/**
 * The crime map: wires the controls (framework, layer, year), the map, the ranking table, the
 * country panel and the comparison to the API. The map is drawn first (boundaries and one small
 * request), the ranking with its Monte Carlo intervals after it.
 */
import { api, apiKey, onRefused, purpose, query, setApiKey, setPurpose, type ApiResult } from './api.ts';
import { setupCompare } from './compare.ts';
import { byId, h, humanise } from './dom.ts';
import { createMap, describeState, type CrimeMap, type MapGeometry } from './map.ts';
import { closePanel, openPanel } from './panel.ts';
import { download, renderTable, sortRows, tableRows, toCsv, type SortKey, type TableState } from './table.ts';
import type { FrameworkSummary, Indicator, MapLayer, SimpleRiskScores, Summary } from './types.ts';

const params = new URLSearchParams(location.search);
const build = document.querySelector<HTMLMetaElement>('meta[name="threatlens-build"]')?.content ?? '';

interface Controls {
  framework: string;
  layer: string;
  year: number;
  entity: string | null;
}

const controls: Controls = { framework: '', layer: '', year: 0, entity: null };
const table: TableState = { summary: null, summaryProblem: null, layer: null, subregion: params.get('subregion') ?? '', sort: 'rank', descending: false };
let map: CrimeMap;
let frameworks: readonly FrameworkSummary[] = [];
let years: readonly number[] = [];
let mapRequest = 0;
let summaryRequest = 0;
let firstPaint = false;

function status(text: string): void {
  byId('status').textContent = text;
}

function syncUrl(): void {
  const q = query({ framework: controls.framework, layer: controls.layer, year: controls.year, entity: controls.entity, subregion: table.subregion || undefined });
  history.replaceState(null, '', `${location.pathname}?${q}`);
}

function refreshTable(): void {
  const rows = sortRows(tableRows(table, map.entities), table.sort, table.descending);
  renderTable(
    byId<HTMLTableElement>('ranking-table'),
    table,
    rows,
    (key: SortKey) => {
      table.descending = table.sort === key ? !table.descending : key === 'score' || key === 'value';
      table.sort = key;
      refreshTable();
      byId('ranking-table').querySelector<HTMLButtonElement>(`button[data-sort="${key}"]`)?.focus();
    },
    select,
  );
  byId('ranking-count').textContent = `${rows.length} of ${map.entities.length} states shown`;
}

function requestMap(): Promise<ApiResult<MapLayer>> {
  const { framework, layer, year } = controls;
  return api<MapLayer>(`/v1/dashboard/map?${query({ framework: framework || undefined, year: year || undefined, layer })}`);
}

/** Colours the map with the answer for the current controls (or one already on its way). */
async function loadMap(answer?: Promise<ApiResult<MapLayer>>): Promise<void> {
  const token = ++mapRequest;
  const svg = byId('map');
  svg.setAttribute('aria-busy', 'true');
  const result = await (answer ?? requestMap());
  if (token !== mapRequest) return;
  svg.setAttribute('aria-busy', 'false');
  if (result.ok) {
    table.layer = result.data;
    // The answer names what it shows exactly: the framework and year when none was asked, node:overall as the root's id.
    controls.framework = result.data.framework;
    controls.year = result.data.year;
    controls.layer = result.data.layer;
    const menu = byId<HTMLSelectElement>('layer');
    if ([...menu.options].some((o) => o.value === result.data.layer)) menu.value = result.data.layer;
    map.update(result.data, '');
    byId('synthetic-banner').hidden = !result.data.synthetic;
  } else {
    table.layer = null;
    map.update(null, result.notVisible ? `not visible to you (${result.message})` : `the map could not be loaded: ${result.message}`);
  }
  svg.setAttribute('data-ready', result.ok ? `${controls.framework}|${controls.layer}|${controls.year}` : 'unavailable');
  refreshTable();
  if (!firstPaint) {
    firstPaint = true;
    // The first coloured map is on screen after the next frame: the test reads this mark.
    requestAnimationFrame(() => requestAnimationFrame(() => performance.mark('threatlens:map-painted')));
  }
}

async function loadSummary(): Promise<void> {
  const token = ++summaryRequest;
  const { framework, year } = controls;
  table.summary = null;
  table.summaryProblem = null;
  refreshTable();
  const result = await api<Summary>(`/v1/dashboard/summary?${query({ framework, year })}`);
  if (token !== summaryRequest) return;
  if (result.ok) table.summary = result.data;
  else table.summaryProblem = result.notVisible ? `not visible to you (${result.message})` : result.message;
  byId('ranking-table').setAttribute('data-ready', `${framework}|${year}`);
  refreshTable();
}

function select(entity: string): void {
  controls.entity = entity;
  syncUrl();
  map.highlight(entity);
  const name = map.entities.find((e) => e.code === entity)?.name ?? entity;
  void openPanel({ framework: controls.framework, year: controls.year, entity, name }, () => {
    controls.entity = null;
    syncUrl();
    map.highlight(null);
    closePanel();
    document.querySelector<HTMLElement>(`[data-entity="${entity}"]`)?.focus();
  });
}

function showTooltip(entity: string | null, at: { x: number; y: number } | null): void {
  const tip = byId('tooltip');
  if (!entity || !at) {
    tip.hidden = true;
    return;
  }
  const name = map.entities.find((e) => e.code === entity)?.name ?? entity;
  const st = map.stateOf(entity);
  const ranked = table.summary?.states.find((x) => x.entity === entity);
  tip.replaceChildren(
    h('strong', {}, name),
    h('span', { 'data-field': 'value' }, describeState(st, table.layer, name).slice(name.length + 2)),
    ...(ranked && ranked.rank !== null ? [h('span', { 'data-field': 'rank' }, `rank ${ranked.rank} of ${ranked.of}${ranked.interval ? ` (90%: ${ranked.interval.rankLow}–${ranked.interval.rankHigh})` : ''}`)] : []),
    h('span', { class: 'hint' }, 'click or Enter for the panel'),
  );
  tip.hidden = false;
  tip.setAttribute('data-entity', entity);
  const pad = 14;
  const { innerWidth: w, innerHeight: hgt } = window;
  const box = tip.getBoundingClientRect();
  tip.style.left = `${Math.min(at.x + pad, w - box.width - 4)}px`;
  tip.style.top = `${Math.min(at.y + pad, hgt - box.height - 4)}px`;
}

function fillLayers(indicators: readonly Indicator[], areas: readonly string[]): void {
  const select = byId<HTMLSelectElement>('layer');
  const fw = frameworks.find((f) => f.id === controls.framework);
  const group = (label: string, items: readonly [string, string][]) => h('optgroup', { label }, ...items.map(([v, t]) => h('option', { value: v }, t)));
  select.replaceChildren(
    group(`Framework: ${fw?.title ?? controls.framework}`, (fw?.nodes ?? []).map((n, i) => [`node:${n}`, i === 0 ? `${humanise(n)} (overall)` : humanise(n)])),
    group('Crime areas (simple composite)', areas.map((a) => [`area:${a}`, humanise(a)])),
    group('Indicators', [...indicators].filter((i) => i.crimeArea !== 'context').sort((a, b) => a.name.localeCompare(b.name)).map((i) => [`indicator:${i.code}`, `${i.name} (${i.unit})`])),
  );
  const wanted = controls.layer && [...select.options].some((o) => o.value === controls.layer) ? controls.layer : `node:${fw?.nodes[0] ?? 'risk'}`;
  controls.layer = wanted;
  select.value = wanted;
}

function setupKey(): void {
  const form = byId<HTMLFormElement>('key-form');
  const input = byId<HTMLInputElement>('api-key');
  const purposeInput = byId<HTMLInputElement>('api-purpose');
  purposeInput.value = purpose() ?? '';
  const state = byId('key-state');
  const show = () => (state.textContent = `${apiKey() ? 'A key is set for this tab.' : 'No key: the server answers only if it runs in demo mode.'}${purpose() ? ' Purpose stated.' : ''}`);
  show();
  // A new key or purpose changes what the caller may see: start again with it (it is kept in sessionStorage).
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (input.value.trim()) setApiKey(input.value.trim());
    setPurpose(purposeInput.value.trim() || null);
    input.value = '';
    location.reload();
  });
  byId('key-clear').addEventListener('click', () => {
    setApiKey(null);
    setPurpose(null);
    location.reload();
  });
  onRefused((code, message) => {
    const banner = byId('access');
    banner.hidden = false;
    banner.textContent = `Some values are not visible to you (HTTP ${code}: ${message}). They are shown as "not visible", never as zero. Enter an API key with the rights to see them.`;
  });
}

async function start(): Promise<void> {
  setupKey();
  // The first coloured map needs only the geometry and one request, both asked at once: without a
  // framework or year in the address, the server answers with its defaults and names them. The
  // scored years, frameworks and indicators (for the controls) load beside it.
  controls.framework = params.get('framework') ?? '';
  controls.year = Number(params.get('year')) || 0;
  // `node:overall` is the framework's first root, whatever its id; the answer names it.
  controls.layer = params.get('layer') ?? 'node:overall';
  const firstAnswer = requestMap();
  const geometry = fetch(`map.json?v=${build}`).then((r) => {
    if (!r.ok) throw new Error(`map.json: HTTP ${r.status}`);
    return r.json() as Promise<MapGeometry>;
  });
  const simpleAnswer = api<SimpleRiskScores>('/v1/risk-scores');
  const frameworksAnswer = api<{ frameworks: FrameworkSummary[] }>('/v1/frameworks');
  const indicatorsAnswer = api<{ indicators: Indicator[] }>('/v1/indicators');
  map = createMap(byId('map'), await geometry, { hover: showTooltip, select });
  const firstMap = loadMap(firstAnswer);

  const simple = await simpleAnswer;
  years = simple.ok ? simple.data.availableYears : [];
  if (!simple.ok) {
    await firstMap;
    const reason = simple.notVisible ? `not visible to you (${simple.message})` : simple.message;
    map.update(null, reason);
    byId('map').setAttribute('data-ready', 'unavailable');
    table.summaryProblem = reason;
    status(`The map cannot be drawn: ${simple.message}`);
    refreshTable();
    byId('ranking-table').setAttribute('data-ready', 'unavailable');
    return;
  }
  const [fws, inds] = await Promise.all([frameworksAnswer, indicatorsAnswer]);
  await firstMap;
  frameworks = fws.ok ? fws.data.frameworks : [];
  const areas = simple.data.availableNodes.filter((n) => n !== 'overall');
  const indicators = inds.ok ? inds.data.indicators : [];
  if (!years.includes(controls.year)) controls.year = years[years.length - 1] ?? controls.year;
  if (frameworks.length > 0 && !frameworks.some((f) => f.id === controls.framework)) {
    // A framework named in the address that the server does not have: fall back to the first.
    controls.framework = frameworks[0]!.id;
    controls.layer = 'node:overall';
    void loadMap();
  }
  const frameworkSelect = byId<HTMLSelectElement>('framework');
  frameworkSelect.replaceChildren(...frameworks.map((f) => h('option', { value: f.id }, f.title)));
  frameworkSelect.value = controls.framework;
  fillLayers(indicators, areas);

  const slider = byId<HTMLInputElement>('year');
  const output = byId<HTMLOutputElement>('year-value');
  if (years.length > 0) {
    slider.min = String(years[0]);
    slider.max = String(years[years.length - 1]);
    slider.disabled = false;
  }
  slider.value = String(controls.year);
  output.value = String(controls.year);

  const subregions = [...new Set(map.entities.map((e) => e.subregion).filter((x): x is string => x !== null))].sort();
  const filter = byId<HTMLSelectElement>('subregion');
  filter.replaceChildren(h('option', { value: '' }, 'All sub-regions'), ...subregions.map((r) => h('option', { value: r }, r)));
  filter.value = table.subregion;
  filter.addEventListener('change', () => {
    table.subregion = filter.value;
    syncUrl();
    refreshTable();
  });

  let pending: number | undefined;
  const setYear = (year: number, delay: number) => {
    output.value = String(year);
    if (year === controls.year) return;
    clearTimeout(pending);
    pending = window.setTimeout(() => {
      controls.year = year;
      syncUrl();
      status(`Year ${year}`);
      void loadMap();
      void loadSummary();
      if (controls.entity) select(controls.entity);
    }, delay);
  };
  // Arrow keys fire both events on every step: one short wait lets a run of steps load one year.
  slider.addEventListener('input', () => setYear(Number(slider.value), 200));
  slider.addEventListener('change', () => setYear(Number(slider.value), 200));
  frameworkSelect.addEventListener('change', () => {
    controls.framework = frameworkSelect.value;
    controls.layer = '';
    fillLayers(indicators, areas);
    syncUrl();
    void loadMap();
    void loadSummary();
    if (controls.entity) select(controls.entity);
  });
  byId<HTMLSelectElement>('layer').addEventListener('change', (event) => {
    controls.layer = (event.target as HTMLSelectElement).value;
    syncUrl();
    void loadMap();
  });
  byId('export-csv').addEventListener('click', () => {
    const rows = sortRows(tableRows(table, map.entities), table.sort, table.descending);
    download(`threatlens-${controls.framework}-${controls.year}${table.subregion ? `-${table.subregion.replaceAll(' ', '_')}` : ''}.csv`, toCsv(rows, table.layer));
    status(`Exported ${rows.length} rows as CSV.`);
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !byId('panel').hidden) byId('panel-close').click();
  });
  setupCompare({ entities: map.entities, years, framework: () => controls.framework, year: () => controls.year });

  syncUrl();
  status(`Showing ${controls.year}.`);
  void loadSummary();
  const entity = params.get('entity');
  if (entity && map.entities.some((e) => e.code === entity)) select(entity);
}

start().catch((error: unknown) => {
  status(`The dashboard failed to start: ${String(error)}`);
  console.error(error);
});
