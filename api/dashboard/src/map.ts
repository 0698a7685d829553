/**
 * The choropleth of the 57 participating states as SVG (inspectable, printable, exportable): Natural
 * Earth boundaries (world-atlas) projected by d3-geo at build time (api/dashboard/geometry.ts) in two
 * frames of equal-area conic projections, Europe to Central Asia and Mongolia, and North America
 * as an inset, so that Europe is not shrunk to fit the Pacific. States too small to see are also
 * marked by points and listed as buttons under the map.
 */
import { byId, fmt, h, s } from './dom.ts';
import { BAND_COLOURS, NO_DATA_FILL, NO_DATA_SWATCH, WITHHELD_FILL, WITHHELD_SWATCH } from './palette.ts';
import type { LegendClass, MapLayer, MapState } from './types.ts';

/** map.json, written by the build (api/dashboard/geometry.ts MapGeometry). */
export interface MapGeometry {
  readonly width: number;
  readonly height: number;
  readonly frames: readonly { readonly id: string; readonly label: string; readonly x0: number; readonly y0: number; readonly x1: number; readonly y1: number }[];
  readonly states: readonly { readonly id: string; readonly name: string; readonly subregion: string; readonly frame: string; readonly d: string }[];
  readonly context: readonly { readonly name: string; readonly frame: string; readonly d: string }[];
  readonly markers: readonly { readonly id: string; readonly x: number; readonly y: number }[];
}

/** Before the first answer: neither a class nor 'no data' nor 'not visible'. */
const LOADING_FILL = '#ececec';

export interface MapHandlers {
  hover(entity: string | null, at: { x: number; y: number } | null): void;
  select(entity: string): void;
}

export interface CrimeMap {
  /** The 57 states of the map, by name. */
  readonly entities: readonly { readonly code: string; readonly name: string; readonly subregion: string | null }[];
  /** Colours the states; `layer` null means nothing could be read (all shown as not visible). */
  update(layer: MapLayer | null, reason: string): void;
  highlight(entity: string | null): void;
  stateOf(entity: string): MapState | undefined;
}

function fillOf(state: MapState | undefined): string {
  if (!state || state.status === 'withheld') return WITHHELD_FILL;
  if (state.status === 'no_data' || state.band === null) return NO_DATA_FILL;
  return BAND_COLOURS[state.band]!;
}

export function describeState(state: MapState | undefined, layer: MapLayer | null, name: string): string {
  if (!state || state.status === 'withheld') return `${name}: not visible to you`;
  if (state.status === 'no_data' || state.value === null) return `${name}: no data${layer ? ` for ${layer.year}` : ''}`;
  const cls = layer?.legend[state.band ?? -1]?.label;
  return `${name}: ${fmt(state.value, 3)}${layer ? ` (${layer.unit})` : ''}${cls ? `, ${cls}` : ''}`;
}

export function createMap(container: HTMLElement, geometry: MapGeometry, handlers: MapHandlers): CrimeMap {
  const { width, height } = geometry;
  const svg = s('svg', {
    id: 'map-svg',
    viewBox: `0 0 ${width} ${height}`,
    role: 'group',
    'aria-labelledby': 'map-svg-title',
    'aria-describedby': 'map-svg-desc',
    preserveAspectRatio: 'xMidYMid meet',
  });
  const title = s('title', { id: 'map-svg-title' }, 'Crime map of the 57 OSCE participating states');
  const desc = s('desc', { id: 'map-svg-desc' }, 'Loading…');
  const defs = s(
    'defs',
    {},
    s('pattern', { id: 'pattern-no-data', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
      s('rect', { width: 6, height: 6, fill: NO_DATA_SWATCH }), s('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: '#ffffff', 'stroke-width': 2 })),
    s('pattern', { id: 'pattern-withheld', width: 6, height: 6, patternUnits: 'userSpaceOnUse' },
      s('rect', { width: 6, height: 6, fill: WITHHELD_SWATCH }), s('path', { d: 'M0,0 L6,6 M6,0 L0,6', stroke: '#a8a8a8', 'stroke-width': 1 })),
    ...geometry.frames.map((f) => s('clipPath', { id: `clip-${f.id}` }, s('rect', { x: f.x0, y: f.y0, width: f.x1 - f.x0, height: f.y1 - f.y0 }))),
  );
  svg.append(title, desc, defs);

  for (const f of geometry.frames) {
    const g = s('g', { 'clip-path': `url(#clip-${f.id})`, class: 'frame', 'data-frame': f.id });
    g.append(s('rect', { x: f.x0, y: f.y0, width: f.x1 - f.x0, height: f.y1 - f.y0, class: 'sea' }));
    const ctx = s('g', { class: 'context', 'aria-hidden': 'true' });
    for (const c of geometry.context) if (c.frame === f.id) ctx.append(s('path', { d: c.d }, s('title', {}, `${c.name} (not a participating state)`)));
    g.append(ctx);
    const layer = s('g', { class: 'states' });
    for (const st of geometry.states) {
      if (st.frame !== f.id) continue;
      layer.append(s('path', { d: st.d, class: 'state', 'data-entity': st.id, tabindex: 0, role: 'button', 'aria-label': st.name, fill: LOADING_FILL }));
    }
    g.append(layer);
    svg.append(g);
    svg.append(s('rect', { x: f.x0, y: f.y0, width: f.x1 - f.x0, height: f.y1 - f.y0, class: 'frame-border', 'aria-hidden': 'true' }));
    if (f.label) svg.append(s('text', { x: f.x0 + 6, y: f.y0 + 14, class: 'frame-label', 'aria-hidden': 'true' }, f.label));
  }
  const markers = s('g', { class: 'markers', 'aria-hidden': 'true' });
  for (const m of geometry.markers) markers.append(s('circle', { cx: m.x, cy: m.y, r: 4.5, class: 'marker', 'data-marker-for': m.id, fill: LOADING_FILL }));
  svg.append(markers);
  container.replaceChildren(svg);
  const names = new Map(geometry.states.map((st) => [st.id, st.name]));

  const strip = byId('small-states');
  strip.replaceChildren(
    h('span', { class: 'strip-label' }, 'Small states:'),
    ...geometry.markers.map(({ id }) => h('button', { type: 'button', class: 'small-state', 'data-entity': id }, h('span', { class: 'swatch', 'data-swatch-for': id, 'aria-hidden': 'true' }), names.get(id) ?? id)),
  );
  let current: MapLayer | null = null;
  const byEntity = new Map<string, MapState>();

  const pointer = (event: MouseEvent) => ({ x: event.clientX, y: event.clientY });
  const entityOf = (target: EventTarget | null) => (target instanceof Element ? target.closest('[data-entity]')?.getAttribute('data-entity') ?? null : null);
  const onEnter = (event: Event) => {
    const entity = entityOf(event.target);
    if (!entity) return;
    if (event instanceof MouseEvent) handlers.hover(entity, pointer(event));
    else {
      const box = (event.target as Element).getBoundingClientRect();
      handlers.hover(entity, { x: box.x + box.width / 2, y: box.y + box.height / 2 });
    }
  };
  for (const root of [svg, strip]) {
    root.addEventListener('mouseover', onEnter);
    root.addEventListener('mousemove', (event) => {
      const entity = entityOf(event.target);
      if (entity) handlers.hover(entity, pointer(event as MouseEvent));
    });
    root.addEventListener('mouseout', (event) => {
      if (!entityOf((event as MouseEvent).relatedTarget)) handlers.hover(null, null);
    });
    root.addEventListener('focusin', onEnter);
    root.addEventListener('focusout', () => handlers.hover(null, null));
    root.addEventListener('click', (event) => {
      const entity = entityOf(event.target);
      if (entity) handlers.select(entity);
    });
    root.addEventListener('keydown', (event) => {
      const e = event as KeyboardEvent;
      if (e.key !== 'Enter' && e.key !== ' ') return;
      const entity = entityOf(e.target);
      if (entity && e.target instanceof SVGElement) {
        e.preventDefault();
        handlers.select(entity);
      }
    });
  }

  return {
    entities: geometry.states.map((st) => ({ code: st.id, name: st.name, subregion: st.subregion || null })).sort((x, y) => x.name.localeCompare(y.name)),
    update(layer, reason) {
      current = layer;
      byEntity.clear();
      for (const st of layer?.states ?? []) byEntity.set(st.entity, st);
      const counts = [0, 0, 0, 0, 0];
      let missing = 0;
      let withheld = 0;
      for (const node of svg.querySelectorAll<SVGPathElement>('path.state')) {
        const entity = node.getAttribute('data-entity')!;
        const st = byEntity.get(entity);
        node.setAttribute('fill', fillOf(st));
        node.setAttribute('data-status', st?.status ?? 'withheld');
        node.setAttribute('data-band', st?.band === null || st?.band === undefined ? '' : String(st.band));
        node.setAttribute('aria-label', describeState(st, layer, names.get(entity) ?? entity));
        if (!st || st.status === 'withheld') withheld++;
        else if (st.status === 'no_data' || st.band === null) missing++;
        else counts[st.band]!++;
      }
      for (const node of svg.querySelectorAll<SVGCircleElement>('circle.marker')) node.setAttribute('fill', fillOf(byEntity.get(node.getAttribute('data-marker-for')!)));
      for (const node of strip.querySelectorAll<HTMLElement>('[data-swatch-for]')) {
        const st = byEntity.get(node.getAttribute('data-swatch-for')!);
        node.className = `swatch ${!st || st.status === 'withheld' ? 'withheld' : st.band === null ? 'no-data' : `band-${st.band}`}`;
      }
      for (const node of strip.querySelectorAll<HTMLElement>('button[data-entity]')) {
        const entity = node.getAttribute('data-entity')!;
        node.setAttribute('aria-label', describeState(byEntity.get(entity), layer, names.get(entity) ?? entity));
      }
      title.textContent = layer ? `Crime map: ${layer.title}, ${layer.year}` : 'Crime map of the 57 OSCE participating states';
      desc.textContent = layer
        ? `${layer.legend.map((c, b) => `${counts[b]} states ${c.label}`).join('; ')}; ${missing} with no data; ${withheld} not visible. Classes: ${layer.classification}. The ranking table lists every value.`
        : `No values are shown: ${reason}`;
      renderLegend(layer, reason);
    },
    highlight(entity) {
      for (const node of svg.querySelectorAll('.selected')) node.classList.remove('selected');
      if (!entity) return;
      const node = svg.querySelector(`path.state[data-entity="${entity}"]`);
      if (node) {
        node.classList.add('selected');
        node.parentNode?.appendChild(node); // drawn last, so its outline is on top
      }
    },
    stateOf(entity) {
      return byEntity.get(entity) ?? (current ? undefined : { entity, name: names.get(entity) ?? entity, subregion: null, value: null, band: null, status: 'withheld' });
    },
  };
}

function rangeText(c: LegendClass, kind: MapLayer['kind']): string {
  if (kind !== 'indicator') {
    if (c.from === null) return `below ${fmt(c.to)}`;
    if (c.to === null) return `${fmt(c.from)} and above`;
    return `${fmt(c.from)} to below ${fmt(c.to)}`;
  }
  if (c.from === null || c.to === null) return 'no state';
  return c.from === c.to ? fmt(c.from, 3) : `${fmt(c.from, 3)} to ${fmt(c.to, 3)}`;
}

function renderLegend(layer: MapLayer | null, reason: string): void {
  const legend = byId('legend');
  const items: HTMLElement[] = [];
  if (layer) {
    legend.setAttribute('aria-label', `Legend: ${layer.title}, ${layer.year}; ${layer.classification}`);
    for (const c of layer.legend) {
      items.push(h('li', { 'data-band': c.band }, h('span', { class: `swatch band-${c.band}`, 'aria-hidden': 'true' }), h('span', { class: 'legend-label' }, c.label), h('span', { class: 'legend-range' }, rangeText(c, layer.kind))));
    }
  }
  items.push(h('li', { 'data-band': 'no-data' }, h('span', { class: 'swatch no-data', 'aria-hidden': 'true' }), h('span', { class: 'legend-label' }, 'no data'), h('span', { class: 'legend-range' }, 'no value for the year in the data you may see (not zero)')));
  items.push(h('li', { 'data-band': 'withheld' }, h('span', { class: 'swatch withheld', 'aria-hidden': 'true' }), h('span', { class: 'legend-label' }, 'not visible'), h('span', { class: 'legend-range' }, layer ? 'the API refused this to you (no key, or a role without access)' : reason)));
  legend.replaceChildren(
    h('p', { class: 'legend-title' }, layer ? `${layer.title} (${layer.unit}), ${layer.year}` : 'No layer'),
    h('ul', {}, ...items),
    ...(layer ? [h('p', { class: 'legend-note' }, `Classes: ${layer.classification}.`)] : []),
  );
}
