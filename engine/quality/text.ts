/**
 * The data-quality report as text for a terminal: a summary table of indicators and batches, then
 * per indicator the missingness pattern, level shifts, out-of-range values and duplicates. Long
 * lists are cut at `maxLines` with a note (the JSON format has everything).
 */
import type { IndicatorQuality, QualityReport } from './types.ts';

const TABLE_CODE_WIDTH = 44;
const integer = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const num = (n: number) => integer.format(n);
const pct = (share: number) => `${Math.round(share * 100)}%`;
const pad = (text: string | number, width: number) => String(text).padStart(width);
const padEnd = (text: string | number, width: number) => String(text).padEnd(width);

/** Up to 4 significant digits, without exponent for everyday magnitudes. */
export function formatValue(value: number | null): string {
  if (value === null) return 'missing';
  if (value !== 0 && (Math.abs(value) >= 1e7 || Math.abs(value) < 1e-3)) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

function cut<T>(items: readonly T[], maxLines: number, line: (item: T) => string): string[] {
  const lines = items.slice(0, maxLines).map(line);
  if (items.length > maxLines) lines.push(`... and ${num(items.length - maxLines)} more (--format json lists all)`);
  return lines;
}

/** A line with the decades labelled above a pattern that starts at `from`. */
function yearRuler(from: number, to: number, indent: number): string {
  const chars = Array.from({ length: to - from + 1 }, () => ' ');
  for (let year = from; year <= to; year++) {
    const label = String(year);
    const at = year - from;
    if (year % 10 === 0 && at + label.length <= chars.length) chars.splice(at, label.length, ...label);
  }
  return ' '.repeat(indent) + chars.join('').trimEnd();
}

function indicatorSection(q: IndicatorQuality, maxLines: number): string[] {
  const worst = q.criteria.filter((c) => c.grade === q.grade).map((c) => c.criterion).join(', ');
  const lines = [`${q.indicator}: ${q.name} (${q.unit})  grade ${q.grade}${q.grade === 'A' ? '' : ` (set by ${worst})`}`];
  const first = q.coverage.byYear[0]?.year;
  const last = q.coverage.byYear[q.coverage.byYear.length - 1]?.year;
  if (first === undefined || last === undefined) {
    lines.push('  no participating state has a value in the window');
  } else {
    lines.push(
      `  years ${first}-${last}; states with data ${q.coverage.states} of ${q.coverage.ofStates}` +
        (q.missing.absentStates.length > 0 ? `; absent: ${q.missing.absentStates.join(' ')}` : ''),
    );
    lines.push(`  latest year ${q.latest.latestYear ?? '-'} (median over states ${q.latest.medianLatestYear ?? '-'}); censored ${num(q.censored)}`);
    lines.push(`  missing cells ${num(q.missing.cells)} of ${num(q.coverage.cellsExpected)}; ${q.missing.completeStates} states complete; pattern (# value, < censored, . missing):`);
    const partial = q.missing.pattern.filter((p) => p.missing < last - first + 1);
    const absent = q.missing.pattern.length - partial.length;
    if (partial.length > 0) {
      lines.push(yearRuler(first, last, 10));
      lines.push(...cut(partial, maxLines * 3, (p) => `    ${padEnd(p.entity, 6)}${p.marks}  ${p.missing} missing`));
    }
    if (absent > 0) lines.push(`    (${absent} absent states not drawn)`);
  }
  if (q.levelShifts.count > 0) {
    lines.push(`  level shifts (${q.levelShifts.count} of ${num(q.levelShifts.changesTested)} year-on-year changes; ${q.levelShifts.withSourceChange} at a source change):`);
    lines.push(
      ...cut(q.levelShifts.shifts, maxLines, (s) =>
        `    ${padEnd(s.entity, 6)} ${s.fromYear}->${s.toYear}  ${formatValue(s.fromValue)} -> ${formatValue(s.toValue)}  x${formatValue(Math.exp(s.logChange))}  ${s.kind}` +
          (s.sourceChange ? `  coincides with source change ${s.sourceChange}` : ''),
      ),
    );
  }
  if (q.outOfRange.count > 0) {
    lines.push(`  out of range [${q.outOfRange.plausibleMin ?? '-inf'}, ${q.outOfRange.plausibleMax ?? 'inf'}]: ${q.outOfRange.count}`);
    lines.push(...cut(q.outOfRange.values, maxLines, (v) => `    ${padEnd(v.entity, 6)} ${v.period}  ${formatValue(v.value)}  (batch ${v.batchId})`));
  }
  if (q.duplicates.count > 0) {
    lines.push(`  same entity-period in several batches with different values: ${q.duplicates.count}`);
    lines.push(
      ...cut(q.duplicates.values, maxLines, (d) =>
        `    ${padEnd(d.entity, 6)} ${d.period}  ${d.values.map((v) => `batch ${v.batchId}: ${v.qualifier ?? ''}${formatValue(v.value)}`).join(', ')}`,
      ),
    );
  }
  return lines;
}

export function formatQualityText(report: QualityReport, options: { maxLines?: number } = {}): string {
  const maxLines = options.maxLines ?? 20;
  const s = report.scope;
  const o = report.overall;
  const lines = [
    'ThreatLens data-quality report',
    `scope: ${s.batch === null ? 'all batches' : `batch ${s.batch}`}, ${s.indicator ?? 'all indicators'}, ` +
      `years ${s.years ? `${s.years.from}-${s.years.to}` : '-'}, reference year ${s.referenceYear ?? '-'}, ${s.states} participating states`,
    `overall grade ${o.grade ?? '-'} (${Object.entries(o.gradeCounts).map(([g, n]) => `${g} ${n}`).join(', ')}): ${num(o.indicators)} indicators, ` +
      `${num(o.observations)} observations, ${num(o.censored)} censored, ${num(o.outOfRange)} out of range, ${num(o.duplicates)} conflicting duplicates, ` +
      `${num(o.levelShifts)} level shifts (${num(o.levelShiftsWithSourceChange)} at a source change)`,
    `method: level shift when |log change - median| > ${report.method.levelShiftK} x 1.4826 MAD (scale at least ${report.method.levelShiftMinScale}, ` +
      `series of ${report.method.levelShiftMinChanges}+ changes); coverage grade over the last ${report.method.gradeWindowYears} years`,
    '',
  ];
  if (report.indicators.length === 0) {
    lines.push('no observations in scope');
    return `${lines.join('\n')}\n`;
  }
  // Long codes (UNODC's environmental categories) are shortened in the table, not in the sections.
  const width = Math.min(TABLE_CODE_WIDTH, Math.max(9, ...report.indicators.map((i) => i.indicator.length)));
  const code = (text: string) => (text.length > width ? `${text.slice(0, width - 1)}~` : text);
  lines.push(`${padEnd('indicator', width)}  grade  states  cover  latest  median  out-of-range  dups  shifts (src)  censored`);
  for (const q of report.indicators) {
    lines.push(
      `${padEnd(code(q.indicator), width)}  ${pad(q.grade, 5)}  ${pad(`${q.coverage.states}/${q.coverage.ofStates}`, 6)}  ${pad(pct(q.coverage.share), 5)}  ` +
        `${pad(q.latest.latestYear ?? '-', 6)}  ${pad(q.latest.medianLatestYear ?? '-', 6)}  ${pad(num(q.outOfRange.count), 12)}  ${pad(num(q.duplicates.count), 4)}  ` +
        `${pad(`${num(q.levelShifts.count)} (${num(q.levelShifts.withSourceChange)})`, 12)}  ${pad(num(q.censored), 8)}`,
    );
  }
  lines.push('', 'batches (observations of the participating states and their sub-national entities):');
  lines.push('    id  grade  observations  indicators  censored  out-of-range  conflicts  source (file)');
  for (const b of report.batches) {
    lines.push(
      `  ${pad(b.id, 4)}  ${pad(b.admiralty, 5)}  ${pad(num(b.observations), 12)}  ${pad(num(b.indicators), 10)}  ${pad(num(b.censored), 8)}  ` +
        `${pad(num(b.outOfRange), 12)}  ${pad(num(b.conflicts), 9)}  ${b.source} (${b.fileName})${b.synthetic ? ' SYNTHETIC' : ''}`,
    );
  }
  lines.push('', 'states (what each participating state has; the batches with nothing on it):');
  lines.push('  state  indicators  observations  years      batches with data  no data in batches');
  for (const st of report.states) {
    lines.push(
      `  ${padEnd(st.state, 5)}  ${pad(num(st.indicators), 10)}  ${pad(num(st.observations), 12)}  ${padEnd(st.years ? `${st.years.from}-${st.years.to}` : '-', 9)}  ` +
        `${pad(`${st.batchesWithData.length} of ${st.batchesWithData.length + st.batchesWithout.length}`, 17)}  ${st.batchesWithout.join(', ') || '-'}`,
    );
  }
  for (const q of report.indicators) lines.push('', ...indicatorSection(q, maxLines));
  return `${lines.join('\n')}\n`;
}
