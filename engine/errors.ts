/**
 * One registry of coded errors (after Fastify's lib/errors.js): every error the engine raises on
 * purpose has a stable code, an HTTP status and a title. Codes are never reused for something else.
 * The API turns these into application/problem+json (RFC 9457); the CLI prints code and detail.
 */

export const ERROR_CODES = {
  TL_INPUT_NOT_FOUND: { status: 404, title: 'Input file not found' },
  TL_INPUT_NOT_CSV: { status: 415, title: 'Input is not a CSV file' },
  TL_INPUT_EMPTY: { status: 422, title: 'Input file has no data rows' },
  TL_INPUT_HEADER: { status: 422, title: 'Input header is not a known layout' },
  TL_INPUT_PERSON_DATA: { status: 422, title: 'Input contains columns that identify persons' },
  TL_INPUT_INVALID_ROWS: { status: 422, title: 'Input has invalid rows' },
  TL_INPUT_MALFORMED: { status: 422, title: 'Input is not well-formed CSV' },
  TL_BAD_OPTION: { status: 400, title: 'Invalid option' },
  TL_NOT_FOUND: { status: 404, title: 'Not found' },
  TL_NO_SCORES: { status: 404, title: 'No risk scores for that year' },
  TL_STORE_UNAVAILABLE: { status: 503, title: 'Store unavailable' },
  TL_FETCH_UNREACHABLE: { status: 502, title: 'Publisher not reachable' },
  TL_FETCH_HTTP: { status: 502, title: 'Publisher refused the download' },
  TL_UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  TL_FORBIDDEN: { status: 403, title: 'Not allowed for this role' },
  TL_PURPOSE_REQUIRED: { status: 400, title: 'A stated purpose is required' },
  TL_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  TL_CONFLICT: { status: 409, title: 'Conflict' },
  TL_MODEL_INCOMPLETE: { status: 409, title: 'Model version has no artifacts' },
  TL_MODEL_NO_ROLLBACK: { status: 409, title: 'No earlier production version to roll back to' },
  TL_MODEL_CORRUPT: { status: 500, title: 'Stored model artifact failed its integrity check' },
  TL_RENDERER_UNAVAILABLE: { status: 503, title: 'PDF renderer unavailable' },
  TL_UPLOAD_TOO_LARGE: { status: 413, title: 'Upload too large' },
  TL_DISK_FULL: { status: 507, title: 'Insufficient storage' },
  TL_INSUFFICIENT_MEMORY: { status: 503, title: 'Not enough memory' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where in an input file a problem is: 1-based line, and the column by header name. */
export interface InputLocation {
  readonly file: string;
  readonly line?: number;
  readonly field?: string;
}

/** One problem with one row or field of an input. */
export interface InputIssue extends InputLocation {
  readonly message: string;
  /** The offending text as it was in the file, shortened. */
  readonly value?: string;
}

export function formatIssue(issue: InputIssue): string {
  const where = [issue.file, issue.line !== undefined ? `line ${issue.line}` : undefined, issue.field ? `field "${issue.field}"` : undefined]
    .filter(Boolean)
    .join(', ');
  return `${where}: ${issue.message}`;
}

export class ThreatLensError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly issues: readonly InputIssue[];

  constructor(code: ErrorCode, detail: string, options: { issues?: readonly InputIssue[]; cause?: unknown } = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ThreatLensError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.issues = options.issues ?? [];
  }

  get title(): string {
    return ERROR_CODES[this.code].title;
  }
}
