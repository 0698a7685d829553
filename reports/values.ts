/**
 * How a report shows a number: every number (and every text that carries one) in a report is read
 * from one of the API answers the report was built from, by a path into that answer, and printed
 * in one of a few formats. The HTML keeps the source, the path and the format on the element
 * (`data-src`, `data-path`, `data-fmt`), so that anyone can check the document against the API
 * (test/reports-document.test.ts does, for every element).
 *
 * Paths: dot-separated names, `[3]` for an array index, `[key=value]` for the element of an array
 * whose `key` is `value` (compared as text), and `length` for an array's length, e.g.
 * `result.entities[entity=ALB].threatMatrix.cells[crimeArea=drugs].scale`.
 */

export type ValueFormat =
  | 'f1' | 'f2' | 'f3' // fixed decimals
  | 'sf1' | 'sf2' // fixed decimals with a + for positive values
  | 'int' // an integer as digits
  | 'intc' // an integer with thousands separated by commas
  | 'pct0' | 'pct1' // a share (0-1) as a percentage, without the % sign
  | 'p3' // a p-value: three decimals, `<0.001` below
  | 'date' // the date part of an ISO timestamp
  | 'text' // a string as it is
  | 'json' // any value as JSON.stringify writes it
  | 'list'; // an array of strings joined with ", "

/** What a missing value (null, undefined, NaN) prints as. */
export const MISSING = '–';

export class PathError extends Error {}

/** Splits a path into its steps: names and bracketed selectors. */
export function pathSteps(path: string): string[] {
  const steps: string[] = [];
  const re = /([^.[\]]+)|\[([^\]]+)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) steps.push(m[1] !== undefined ? m[1] : `[${m[2]}]`);
  return steps;
}

/** The value at `path` in `root`; throws a PathError naming the step that fails. */
export function valueAt(root: unknown, path: string): unknown {
  let here: unknown = root;
  for (const step of pathSteps(path)) {
    if (step.startsWith('[')) {
      const inner = step.slice(1, -1);
      if (!Array.isArray(here)) throw new PathError(`${path}: ${step} needs an array`);
      const eq = inner.indexOf('=');
      if (eq < 0) {
        const index = Number(inner);
        if (!Number.isInteger(index) || index < 0 || index >= here.length) throw new PathError(`${path}: no element ${step} (length ${here.length})`);
        here = here[index];
      } else {
        const key = inner.slice(0, eq);
        const wanted = inner.slice(eq + 1);
        const found = here.find((x) => x !== null && typeof x === 'object' && String((x as Record<string, unknown>)[key]) === wanted);
        if (found === undefined) throw new PathError(`${path}: no element with ${key} = ${wanted}`);
        here = found;
      }
    } else if (step === 'length' && Array.isArray(here)) {
      here = here.length;
    } else {
      if (here === null || typeof here !== 'object' || !(step in (here as object))) throw new PathError(`${path}: no field "${step}"`);
      here = (here as Record<string, unknown>)[step];
    }
  }
  return here;
}

function fixed(x: number, digits: number): string {
  const text = x.toFixed(digits);
  return Number(text) === 0 ? (0).toFixed(digits) : text;
}

/** Prints a value in a format; null, undefined and NaN print as MISSING. */
export function formatValue(value: unknown, format: ValueFormat): string {
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return MISSING;
  switch (format) {
    case 'text':
      return String(value);
    case 'json':
      return JSON.stringify(value);
    case 'list':
      return Array.isArray(value) ? (value.length === 0 ? MISSING : value.map(String).join(', ')) : String(value);
    case 'date':
      return String(value).slice(0, 10);
  }
  const x = Number(value);
  if (!Number.isFinite(x)) return MISSING;
  switch (format) {
    case 'f1':
    case 'f2':
    case 'f3':
      return fixed(x, Number(format.slice(1)));
    case 'sf1':
    case 'sf2': {
      const text = fixed(x, Number(format.slice(2)));
      return Number(text) > 0 ? `+${text}` : text;
    }
    case 'int':
      return String(Math.round(x));
    case 'intc':
      return Math.round(x).toLocaleString('en-US');
    case 'pct0':
    case 'pct1':
      return fixed(x * 100, Number(format.slice(3)));
    case 'p3':
      return x < 0.001 ? '<0.001' : x.toFixed(3);
  }
}
