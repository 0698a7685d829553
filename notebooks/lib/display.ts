/**
 * Rich outputs for the notebooks: tables and notes as Jupyter MIME bundles (HTML for JupyterLab
 * and code hosts, Markdown, and aligned plain text for terminals and diffs), and a JSON summary
 * that the notebook runner and its test read back from the executed notebook.
 */
import { escapeXml, JUPYTER_DISPLAY } from './charts.ts';

export interface Displayable {
  [JUPYTER_DISPLAY](): Record<string, unknown>;
}

export type Cell = string | number | null | undefined;

export interface TableOptions {
  /** Column headers, in order; default: the keys of the first row. */
  readonly columns?: readonly string[];
  /** Decimals for non-integer numbers (default 2). */
  readonly decimals?: number;
  /** Columns aligned left (text); the others are aligned right. Default: columns whose first value is a string. */
  readonly textColumns?: readonly string[];
  readonly caption?: string;
}

/**
 * Formats a number for a table: integers from 10,000 up with thousands separators (so that years
 * stay 2023), other integers as they are, the rest with `decimals`; NaN as a dash.
 */
export function formatCell(value: Cell, decimals = 2): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Number.isNaN(value)) return '–';
  if (Number.isInteger(value)) return Math.abs(value) >= 10_000 ? value.toLocaleString('en-GB') : String(value);
  return value.toFixed(decimals);
}

/** A table of plain rows as an HTML, Markdown and plain-text bundle. */
export function table(rows: readonly Readonly<Record<string, Cell>>[], options: TableOptions = {}): Displayable & { readonly markdown: string; readonly plain: string } {
  const columns = options.columns ?? Object.keys(rows[0] ?? {});
  const textColumns = new Set(options.textColumns ?? columns.filter((c) => typeof rows[0]?.[c] === 'string'));
  const cells = rows.map((r) => columns.map((c) => formatCell(r[c], options.decimals)));
  const caption = options.caption ? `${options.caption}\n\n` : '';
  const md = [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map((c) => (textColumns.has(c) ? ':--' : '--:')).join(' | ')} |`,
    ...cells.map((r) => `| ${r.map((v) => v.replace(/\|/g, '\\|')).join(' | ')} |`),
  ].join('\n');
  const widths = columns.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j]!.length)));
  const pad = (v: string, j: number) => (textColumns.has(columns[j]!) ? v.padEnd(widths[j]!) : v.padStart(widths[j]!));
  const plain = [columns.map(pad).join('  '), ...cells.map((r) => r.map(pad).join('  '))].join('\n');
  const align = (c: string) => (textColumns.has(c) ? 'left' : 'right');
  const html = [
    '<table>',
    options.caption ? `<caption>${escapeXml(options.caption)}</caption>` : '',
    `<thead><tr>${columns.map((c) => `<th style="text-align:${align(c)}">${escapeXml(c)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...cells.map((r) => `<tr>${r.map((v, j) => `<td style="text-align:${align(columns[j]!)}">${escapeXml(v)}</td>`).join('')}</tr>`),
    '</tbody></table>',
  ].join('');
  return {
    markdown: caption + md,
    plain: caption + plain,
    [JUPYTER_DISPLAY]: () => ({ 'text/html': html, 'text/markdown': caption + md, 'text/plain': caption + plain }),
  };
}

type JupyterNamespace = { display(value: unknown, options?: { raw?: boolean }): Promise<void> };

/**
 * Shows values in the notebook, in order, as display_data messages sent while the cell runs.
 * Why not the cell's last expression: Deno's kernel sends that execute_result after the cell
 * returns, and a headless client (nbconvert, nbclient) can read the kernel as idle first and lose
 * it. Outside a Jupyter kernel (Node, tests) it prints each value's plain text.
 */
export async function show(...values: readonly Displayable[]): Promise<void> {
  const jupyter = (globalThis as { Deno?: { jupyter?: JupyterNamespace } }).Deno?.jupyter;
  for (const value of values) {
    if (jupyter) await jupyter.display(value);
    else console.log(String(value[JUPYTER_DISPLAY]()['text/plain'] ?? ''));
  }
  // Deno's kernel queues display messages and can report the cell finished before sending them;
  // a short pause lets it send them first (Deno's own kernel waits 5 ms for console output).
  if (jupyter) await new Promise((resolve) => setTimeout(resolve, SHOW_FLUSH_MS));
}

/** How long `show` waits for the kernel to send its displays (ms). */
export const SHOW_FLUSH_MS = 25;

/** A note in Markdown (numbers computed in the cell), with the same text as plain text. */
export function note(markdown: string): Displayable {
  return { [JUPYTER_DISPLAY]: () => ({ 'text/markdown': markdown, 'text/plain': markdown }) };
}

/**
 * The notebook's key results as JSON, for the runner's test (test/notebooks.test.ts), which reads
 * them back from the executed notebook. Shown to readers as indented text.
 */
export function summary(key: string, values: Readonly<Record<string, unknown>>): Displayable {
  const document = { [key]: values };
  return { [JUPYTER_DISPLAY]: () => ({ 'application/json': document, 'text/plain': JSON.stringify(document, null, 2) }) };
}
