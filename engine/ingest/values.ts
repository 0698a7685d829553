/**
 * Parsing one cell of a statistical table into a number, a censored bound, or missing.
 * Publishers write `1234.5`, `<5` (censored small counts), `..` or `:` (missing), and
 * sometimes flags after the value (`123 p` provisional, `45 e` estimated).
 */

export type ParsedValue =
  | { readonly kind: 'number'; readonly value: number; readonly qualifier: '<' | '>' | null; readonly flags: readonly string[] }
  | { readonly kind: 'missing'; readonly flags: readonly string[] }
  | { readonly kind: 'invalid'; readonly reason: string };

const NO_FLAGS: readonly string[] = Object.freeze([]);
const MISSING_MARKERS = new Set(['', '..', '...', ':', 'NA', 'N/A', 'n/a', 'NaN', 'null', '-', '—']);
const NUMBER_WITH_FLAGS = /^([<>])?\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-z]{1,3})?$/;

export function parseCellValue(text: string): ParsedValue {
  const trimmed = text.trim();
  if (MISSING_MARKERS.has(trimmed)) return { kind: 'missing', flags: [] };
  const missingWithFlag = /^:\s*([a-z]{1,3})$/.exec(trimmed);
  if (missingWithFlag) return { kind: 'missing', flags: [missingWithFlag[1]!] };
  const match = NUMBER_WITH_FLAGS.exec(trimmed);
  if (!match) {
    if (/\d,\d{3}/.test(trimmed)) return { kind: 'invalid', reason: `"${shorten(trimmed)}" has a thousands separator; write plain numbers such as 1234.5` };
    return { kind: 'invalid', reason: `"${shorten(trimmed)}" is not a number` };
  }
  const value = Number(match[2]);
  if (!Number.isFinite(value)) return { kind: 'invalid', reason: `"${shorten(trimmed)}" is not a finite number` };
  const qualifier = (match[1] as '<' | '>' | undefined) ?? null;
  return { kind: 'number', value, qualifier, flags: match[3] ? [match[3]] : NO_FLAGS };
}

export function shorten(text: string, max = 40): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
