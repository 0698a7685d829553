/**
 * Compare two states in one year, or one state in two years: both sides' scores, bands, rank
 * intervals and node scores, and the difference split into indicator contributions by the engine
 * (GET /v1/dashboard/compare), drawn as a waterfall from side a to side b.
 */
import { api, query } from './api.ts';
import { waterfall } from './charts.ts';
import { byId, fmt, h, humanise, signed } from './dom.ts';
import { bandIndex } from './palette.ts';
import type { CompareSide, Comparison } from './types.ts';

export interface CompareSetup {
  readonly entities: readonly { code: string; name: string }[];
  readonly years: readonly number[];
  framework(): string;
  year(): number;
}

function sideCard(side: CompareSide, label: string): HTMLElement {
  const i = bandIndex(side.band);
  return h(
    'div',
    { class: 'compare-side', 'data-side': label },
    h('h3', {}, `${label}: ${side.name}, ${side.year}`),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Score'),
      h('dd', { 'data-field': 'score' }, side.score === null ? 'no score' : fmt(side.score, 2), ' ', h('span', { class: `badge ${i === null ? 'no-data' : `band-${i}`}` }, side.band ?? 'no band')),
      h('dt', {}, 'Rank'),
      h('dd', { 'data-field': 'rank' }, side.rank === null ? 'not ranked' : `${side.rank} of ${side.of}`, side.interval ? ` (90%: ${side.interval.rankLow}–${side.interval.rankHigh})` : ''),
      h('dt', {}, 'Confidence'),
      h('dd', {}, side.confidence),
    ),
    h('table', { class: 'data nodes' }, h('tbody', {}, ...Object.entries(side.nodeScores).map(([node, v]) => h('tr', {}, h('th', { scope: 'row' }, humanise(node)), h('td', {}, v === null ? 'no score' : fmt(v, 3)))))),
  );
}

export function setupCompare(setup: CompareSetup): void {
  const form = byId<HTMLFormElement>('compare-form');
  const a = byId<HTMLSelectElement>('compare-a');
  const b = byId<HTMLSelectElement>('compare-b');
  const yearA = byId<HTMLSelectElement>('compare-year-a');
  const yearB = byId<HTMLSelectElement>('compare-year-b');
  const out = byId('compare-result');
  const options = (select: HTMLSelectElement, items: readonly [string, string][]) => select.replaceChildren(...items.map(([v, t]) => h('option', { value: v }, t)));
  const states = setup.entities.map((e) => [e.code, e.name] as [string, string]);
  options(a, states);
  options(b, states);
  const years = [...setup.years].reverse().map((y) => [String(y), String(y)] as [string, string]);
  options(yearA, years);
  options(yearB, years);
  a.value = 'DEU';
  b.value = 'FRA';
  yearA.value = String(setup.year());
  yearB.value = String(setup.year());

  const modeInputs = form.querySelectorAll<HTMLInputElement>('input[name="compare-mode"]');
  const syncMode = () => {
    const mode = form.querySelector<HTMLInputElement>('input[name="compare-mode"]:checked')?.value ?? 'states';
    byId('compare-b-field').hidden = mode === 'years';
    byId('compare-year-b-field').hidden = mode === 'states';
  };
  modeInputs.forEach((i) => i.addEventListener('change', syncMode));
  syncMode();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const mode = form.querySelector<HTMLInputElement>('input[name="compare-mode"]:checked')?.value ?? 'states';
    const params = {
      framework: setup.framework(),
      a: a.value,
      year: Number(yearA.value),
      b: mode === 'states' ? b.value : a.value,
      yearB: mode === 'years' ? Number(yearB.value) : Number(yearA.value),
    };
    out.setAttribute('aria-busy', 'true');
    out.replaceChildren(h('p', { class: 'loading' }, 'Comparing…'));
    const result = await api<Comparison>(`/v1/dashboard/compare?${query(params)}`);
    out.setAttribute('aria-busy', 'false');
    if (!result.ok) {
      out.replaceChildren(h('p', { class: result.notVisible ? 'not-visible' : 'error' }, result.notVisible ? `Not visible to you: ${result.message}` : `No comparison: ${result.message}`));
      return;
    }
    const c = result.data;
    const d = c.difference;
    const label = (side: CompareSide) => `${side.name} ${side.year}`;
    out.replaceChildren(
      h('div', { class: 'compare-sides' }, sideCard(c.a, 'A'), sideCard(c.b, 'B')),
      d
        ? waterfall(
            'chart-compare',
            {
              startLabel: label(c.a),
              start: d.from,
              endLabel: label(c.b),
              end: d.to,
              steps: d.contributions.map((x) => ({ label: x.label, value: x.points })),
              residual: d.residual,
            },
            `From ${label(c.a)} (${fmt(d.from, 2)}) to ${label(c.b)} (${fmt(d.to, 2)}): ${signed(d.change)} points, split into indicator contributions (exact; residual ${d.residual.toExponential(1)}).`,
          )
        : h('p', {}, c.note ?? 'Nothing to decompose.'),
    );
  });
}
