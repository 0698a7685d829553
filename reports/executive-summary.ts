/**
 * The executive summary: templated sentences made only of the report's numbers and labels. Every
 * number is a reference into one of the API answers the report was built from (a `ValueRef`), so
 * the HTML prints it with its source and path; words are fixed template text or labels read from
 * the same answers. A sentence whose inputs are absent (no score, no previous year, no anomaly
 * run) is left out or says that the input is absent; nothing is estimated or filled in.
 */
import { sourceValue, type ReportInputs } from './model.ts';
import { formatValue, type ValueFormat } from './values.ts';

/** A value printed from a source: a number, or a text that may carry numbers (labels, messages). */
export interface ValueRef {
  readonly src: string;
  readonly path: string;
  readonly fmt: ValueFormat;
}
export type Part = string | ValueRef;
export type Sentence = readonly Part[];

const ref = (src: string, path: string, fmt: ValueFormat): ValueRef => ({ src, path, fmt });

/** Plain text of sentences (the stored summary and the search index). */
export function sentencesText(inputs: ReportInputs, sentences: readonly Sentence[]): string {
  return sentences.map((s) => s.map((p) => (typeof p === 'string' ? p : formatValue(sourceValue(inputs, p.src, p.path), p.fmt))).join('')).join(' ');
}

const humanise = (code: string) => code.replace(/_/g, ' ');

function list(items: readonly Part[][]): Part[] {
  if (items.length <= 1) return items[0] ?? [];
  return [...items.slice(0, -1).flatMap((item, i) => (i === 0 ? item : [', ', ...item])), ' and ', ...items.at(-1)!];
}

function get<T>(inputs: ReportInputs, src: string, path: string): T | undefined {
  try {
    return sourceValue(inputs, src, path) as T;
  } catch {
    return undefined;
  }
}

interface ThreatCell {
  readonly crimeArea: string;
  readonly priority: number | null;
  readonly priorityScore: number | null;
}

/** Sentences about one state, shared by entity reports (and, shortened, region reports). */
function stateSentences(inputs: ReportInputs, code: string): Sentence[] {
  const a = `result.entities[entity=${code}]`;
  const root = `${a}.roots[0]`;
  const out: Sentence[] = [];
  const title = ref('assessment', 'result.framework.title', 'text');
  const name = ref('assessment', `${a}.name`, 'text');
  const year = ref('assessment', 'result.year', 'int');
  const score = get<number | null>(inputs, 'assessment', `${root}.score`);
  if (score === null || score === undefined) {
    out.push([name, ' has no score on the ', title, ' in ', year, '.']);
    return out;
  }
  const headline: Part[] = [name, ' scores ', ref('assessment', `${root}.score`, 'f1'), ' out of ten on the ', title, ' in ', year];
  const band = get<string | null>(inputs, 'assessment', `${root}.band`);
  if (band) headline.push(', in the ', band, ' band');
  if (get<number | null>(inputs, 'assessment', `${root}.rank`) !== null) {
    headline.push(', rank ', ref('assessment', `${root}.rank`, 'int'), ' of ', ref('assessment', `${root}.of`, 'int'));
  }
  if (get<unknown>(inputs, 'assessment', `${root}.interval`)) {
    headline.push(' (Monte Carlo rank interval ', ref('assessment', `${root}.interval.rankLow`, 'int'), ' to ', ref('assessment', `${root}.interval.rankHigh`, 'int'), ')');
  }
  out.push([...headline, '.']);

  const trendYears = get<number[]>(inputs, 'assessment', `${root}.trend.years`) ?? [];
  const label = get<string>(inputs, 'assessment', `${root}.trend.label`);
  if (label && trendYears.length > 0) {
    const span: Part[] = [ref('assessment', `${root}.trend.years[0]`, 'int'), ' to ', ref('assessment', `${root}.trend.years[${trendYears.length - 1}]`, 'int')];
    if (label === 'insufficient_data') out.push(['Over ', ...span, ' there are too few years of scores to call a trend.']);
    else out.push(['Over ', ...span, ' the score is ', label, ' (Theil-Sen slope ', ref('assessment', `${root}.trend.slope`, 'sf2'), ' points a year).']);
  }

  const up = get<unknown[]>(inputs, 'assessment', `${root}.drivers.up`) ?? [];
  const down = get<unknown[]>(inputs, 'assessment', `${root}.drivers.down`) ?? [];
  if (up.length > 0 || down.length > 0) {
    const driver = (side: string) => [ref('assessment', `${root}.drivers.${side}[0].label`, 'text'), ' (', ref('assessment', `${root}.drivers.${side}[0].pointsAboveLevel`, 'sf1'), ')'];
    const parts: Part[] = ['The indicator '];
    if (up.length > 0) parts.push('pushing the score up most is ', ...driver('up'));
    if (up.length > 0 && down.length > 0) parts.push('; the one ');
    if (down.length > 0) parts.push('pulling it down most is ', ...driver('down'));
    out.push([...parts, '.']);
  }

  if (get<unknown>(inputs, 'assessment', `${root}.change`)) {
    out.push(['Since ', ref('assessment', `${root}.change.fromYear`, 'int'), ' the score has changed by ', ref('assessment', `${root}.change.change`, 'sf1'), ' points.']);
  }

  const cells = (get<ThreatCell[]>(inputs, 'assessment', `${a}.threatMatrix.cells`) ?? []).filter((c) => c.priority !== null).slice(0, 2);
  if (cells.length > 0) {
    const items = cells.map((c) => {
      const cell = `${a}.threatMatrix.cells[crimeArea=${c.crimeArea}]`;
      return [humanise(c.crimeArea), ' (priority score ', ref('assessment', `${cell}.priorityScore`, 'f1'), ', ', ref('assessment', `${cell}.priorityClass`, 'text'), ')'];
    });
    out.push([cells.length === 1 ? 'The highest-priority crime area is ' : 'The highest-priority crime areas are ', ...list(items), '.']);
  }
  return out;
}

function assistanceSentences(inputs: ReportInputs, code: string): Sentence[] {
  const out: Sentence[] = [];
  const row = `overall[entity=${code}]`;
  const gap = get<number | null>(inputs, 'assistance', `${row}.gap`);
  if (gap === null || gap === undefined) {
    out.push(['The gap between threat and resilience cannot be computed: a threat or resilience score is missing.']);
  } else {
    const parts: Part[] = ['The gap between threat and resilience is ', ref('assistance', `${row}.gap`, 'sf1'), ' points'];
    if (get<unknown>(inputs, 'assistance', `${row}.interval`)) parts.push(' (Monte Carlo interval ', ref('assistance', `${row}.interval.low`, 'sf1'), ' to ', ref('assistance', `${row}.interval.high`, 'sf1'), ')');
    parts.push(', rank ', ref('assistance', `${row}.rank`, 'int'), ' by size among the participating states');
    if (get<unknown>(inputs, 'assistance', `${row}.rankInterval`)) parts.push(' (rank interval ', ref('assistance', `${row}.rankInterval.low`, 'int'), ' to ', ref('assistance', `${row}.rankInterval.high`, 'int'), ')');
    out.push([...parts, '.']);
    const areas = (get<{ crimeArea: string; rows: { entity: string; gap: number | null }[] }[]>(inputs, 'assistance', 'crimeAreas') ?? [])
      .map((x) => ({ area: x.crimeArea, gap: x.rows.find((r) => r.entity === code)?.gap ?? null }))
      .filter((x): x is { area: string; gap: number } => x.gap !== null)
      .sort((x, y) => y.gap - x.gap || x.area.localeCompare(y.area));
    const top = areas[0];
    if (top) {
      const r = `crimeAreas[crimeArea=${top.area}].rows[entity=${code}]`;
      out.push(['Its largest crime-area gap is in ', humanise(top.area), ' (', ref('assistance', `${r}.gap`, 'sf1'), ' points, rank ', ref('assistance', `${r}.rank`, 'int'), ').']);
    }
  }
  const capacity = `dataCapacity.rows[entity=${code}]`;
  if (get<unknown>(inputs, 'assistance', capacity)) {
    out.push([
      'Of the framework\'s ', ref('assistance', 'dataCapacity.indicators', 'int'), ' indicators, ',
      ref('assistance', `${capacity}.missing.length`, 'int'), ' have no value in ',
      ref('assistance', 'dataCapacity.window.from', 'int'), '-', ref('assistance', 'dataCapacity.window.to', 'int'),
      ' and ', ref('assistance', `${capacity}.stale.length`, 'int'), ' are stale (latest value more than ',
      ref('assistance', 'method.staleAfterYears', 'int'), ' years old).',
    ]);
  }
  return out;
}

function confidenceSentence(inputs: ReportInputs, code: string): Sentence | null {
  const c = `result.entities[entity=${code}].confidence`;
  const level = get<string>(inputs, 'assessment', `${c}.level`);
  if (!level) return null;
  const reasons = get<{ level: string | null }[]>(inputs, 'assessment', `${c}.reasons`) ?? [];
  const worst = reasons.findIndex((r) => r.level !== null && r.level !== 'high');
  return worst < 0 ? ['Confidence in the assessment is ', level, '.'] : ['Confidence in the assessment is ', level, ': ', ref('assessment', `${c}.reasons[${worst}].message`, 'text'), '.'];
}

function anomalySentence(inputs: ReportInputs, who: Part): Sentence {
  const section = inputs.anomalies;
  const window: Part[] = [ref('inputs', 'anomalies.window.from', 'int'), ' to ', ref('inputs', 'anomalies.window.to', 'int')];
  if (section.run === null) return ['No anomaly detection run is stored: the values behind this report have not been screened for anomalies.'];
  const stale: Part[] = section.run.upToDate ? [] : [' (the run predates the current data)'];
  if (section.total === 0) return ['The latest anomaly run', ...stale, ' flags no value of ', who, ' in ', ...window, '.'];
  return [
    'The latest anomaly run', ...stale, ' flags ', ref('inputs', 'anomalies.total', 'int'), ' values of ', who, ' in ', ...window,
    '; the highest scored is ', ref('inputs', 'anomalies.flags[0].label', 'text'), ' in ', ref('inputs', 'anomalies.flags[0].period', 'text'), ' (', section.flags[0]!.severity, ').',
  ];
}

function handlingSentence(inputs: ReportInputs): Sentence | null {
  const level = inputs.report.handling.level;
  if (level === 'public') return null;
  const agencies: Part = inputs.report.handling.allowedAgencies.length === 0 ? 'no agency (every input batch is not shared with one common agency)' : ref('report', 'handling.allowedAgencies', 'list');
  return [`This report draws on ${level === 'owner' ? 'owner-only' : 'restricted'} data and is itself ${level === 'owner' ? 'owner-only' : 'restricted'}: it may be released only to `, agencies, '.'];
}

/** The summary of a report about one state. */
export function entitySummary(inputs: ReportInputs): Sentence[] {
  const code = inputs.subject.entity!.code;
  return [
    ...stateSentences(inputs, code),
    ...assistanceSentences(inputs, code),
    confidenceSentence(inputs, code),
    anomalySentence(inputs, ref('assessment', `result.entities[entity=${code}].name`, 'text')),
    handlingSentence(inputs),
  ].filter((s): s is Sentence => s !== null);
}

/** The summary of a report about a region: its range of scores, high bands, largest gap, data gaps. */
export function regionSummary(inputs: ReportInputs): Sentence[] {
  const year = String(inputs.report.year);
  const scoresSrc = `scores-${year}`;
  const states = inputs.subject.states.map((s) => s.code);
  const out: Sentence[] = [];
  const scored = states
    .map((code) => ({ code, score: get<number | null>(inputs, scoresSrc, `scores[entity=${code}].score`) ?? null }))
    .filter((s): s is { code: string; score: number } => s.score !== null)
    .sort((x, y) => x.score - y.score || x.code.localeCompare(y.code));
  const region = inputs.subject.region!;
  const title = ref('assessment', 'result.framework.title', 'text');
  const named = (code: string): Part => ref(scoresSrc, `scores[entity=${code}].name`, 'text');
  if (scored.length === 0) {
    out.push(['No state of ', region, ' has a score on the ', title, ' in ', ref('report', 'year', 'int'), '.']);
  } else {
    const low = scored[0]!;
    const high = scored.at(-1)!;
    out.push([
      'The ', ref('report', 'entities.length', 'int'), ' participating states of ', region, ' score between ',
      ref(scoresSrc, `scores[entity=${low.code}].score`, 'f1'), ' (', named(low.code), ') and ', ref(scoresSrc, `scores[entity=${high.code}].score`, 'f1'), ' (', named(high.code),
      ') out of ten on the ', title, ' in ', ref('report', 'year', 'int'), '.',
    ]);
    const highBand = states.filter((code) => ['high', 'very high'].includes(get<string>(inputs, scoresSrc, `scores[entity=${code}].band`) ?? ''));
    out.push(highBand.length === 0 ? ['No state of the region is in the high or very high band.'] : ['In the high or very high band: ', ...list(highBand.map((c) => [named(c)])), '.']);
  }
  const gaps = states
    .map((code) => ({ code, gap: get<number | null>(inputs, 'assistance', `overall[entity=${code}].gap`) ?? null }))
    .filter((g): g is { code: string; gap: number } => g.gap !== null)
    .sort((x, y) => y.gap - x.gap || x.code.localeCompare(y.code));
  if (gaps[0]) {
    const r = `overall[entity=${gaps[0].code}]`;
    out.push(['The largest gap between threat and resilience in the region is ', named(gaps[0].code), '\'s: ', ref('assistance', `${r}.gap`, 'sf1'), ' points, rank ', ref('assistance', `${r}.rank`, 'int'), ' among the participating states.']);
  }
  const firstAreas = new Map<string, string[]>();
  for (const code of states) {
    const first = (get<ThreatCell[]>(inputs, 'assessment', `result.entities[entity=${code}].threatMatrix.cells`) ?? []).find((c) => c.priority === 1);
    if (first) firstAreas.set(first.crimeArea, [...(firstAreas.get(first.crimeArea) ?? []), code]);
  }
  if (firstAreas.size > 0) {
    const items = [...firstAreas].sort((x, y) => y[1].length - x[1].length || x[0].localeCompare(y[0])).map(([area, codes]) => [humanise(area), ' (', ...list(codes.map((c) => [named(c)])), ')']);
    out.push(['The crime area ranked first is ', ...items.flatMap((item, i) => (i === 0 ? item : ['; ', ...item])), '.']);
  }
  const capacity = states
    .map((code) => ({ code, share: get<number>(inputs, 'assistance', `dataCapacity.rows[entity=${code}].gapShare`) }))
    .filter((c): c is { code: string; share: number } => c.share !== undefined)
    .sort((x, y) => y.share - x.share || x.code.localeCompare(y.code));
  if (capacity[0] && capacity[0].share > 0) {
    const r = `dataCapacity.rows[entity=${capacity[0].code}]`;
    out.push([named(capacity[0].code), ' has the most missing or stale statistics: ', ref('assistance', `${r}.missing.length`, 'int'), ' of ', ref('assistance', 'dataCapacity.indicators', 'int'), ' indicators missing and ', ref('assistance', `${r}.stale.length`, 'int'), ' stale.']);
  }
  out.push(anomalySentence(inputs, `the states of ${region}`));
  const handling = handlingSentence(inputs);
  if (handling) out.push(handling);
  return out;
}

export function executiveSummary(inputs: ReportInputs): Sentence[] {
  return inputs.kind === 'entity' ? entitySummary(inputs) : regionSummary(inputs);
}
