/**
 * Source grades of ingestion batches. Two schemes: the Admiralty (NATO) code, source reliability
 * A-F and information credibility 1-6 (`B2`), and Europol's 4x4, source A, B, C, X and
 * information 1-4 (`europol:A1`). A batch takes an explicit grade when one is given, otherwise
 * the default of its connector: what the publisher and its method deserve, not a judgement of any
 * single value.
 */
import { ThreatLensError } from '../errors.ts';

export type GradingScheme = 'admiralty' | 'europol_4x4';

export interface SourceGrade {
  readonly scheme: GradingScheme;
  /** Admiralty A-F; Europol A, B, C, X. */
  readonly source: string;
  /** Admiralty 1-6; Europol 1-4. */
  readonly information: string;
}

/** The grade a batch was stored with, and why. */
export interface BatchGrade extends SourceGrade {
  /** True when no grade was given and the connector's default applied. */
  readonly isDefault: boolean;
  readonly reason: string;
}

const ADMIRALTY = /^([A-F])([1-6])$/;
const EUROPOL = /^([ABCX])([1-4])$/;

/**
 * Parses `B2` (Admiralty) or `europol:A1` (Europol 4x4; `europol-`, `europol_4x4:` also accepted).
 *
 * @example parseGrade('b2') // { scheme: 'admiralty', source: 'B', information: '2' }
 * @example parseGrade('europol:X4') // { scheme: 'europol_4x4', source: 'X', information: '4' }
 */
export function parseGrade(text: string): SourceGrade {
  const trimmed = text.trim().toUpperCase();
  const europol = /^EUROPOL(?:_4X4)?[:\-](.*)$/.exec(trimmed);
  if (europol) {
    const match = EUROPOL.exec(europol[1]!.trim());
    if (!match) {
      throw new ThreatLensError('TL_BAD_OPTION', `grade "${text}" is not a Europol 4x4 code: a source letter A, B, C or X and an information digit 1-4, e.g. europol:B2`);
    }
    return { scheme: 'europol_4x4', source: match[1]!, information: match[2]! };
  }
  const match = ADMIRALTY.exec(trimmed);
  if (!match) {
    throw new ThreatLensError(
      'TL_BAD_OPTION',
      `grade "${text}" is not an Admiralty code (a source letter A-F and an information digit 1-6, e.g. B2) nor a Europol one (europol:A1)`,
    );
  }
  return { scheme: 'admiralty', source: match[1]!, information: match[2]! };
}

/**
 * Default Admiralty grade by connector (the batch's format), with the reason. Official
 * statistical series are `A`; the information digit says how far values are comparable and
 * confirmed. Generic uploads cannot be judged from the file: `F6`, so that an analyst grades them.
 */
export const DEFAULT_GRADES: Readonly<Record<string, { readonly grade: string; readonly reason: string }>> = {
  wdi: { grade: 'A1', reason: 'World Bank WDI official series, confirmed by UN population estimates' },
  eurostat: { grade: 'A1', reason: 'Eurostat official statistics, validated with national statistical institutes' },
  'unodc-cts': { grade: 'A2', reason: 'UNODC official series from national submissions; definitions differ between countries' },
  'unodc-glotip': { grade: 'A2', reason: 'UNODC official series of detected victims and offenders; detection depends on national effort' },
  'unodc-seizures': { grade: 'A2', reason: 'UNODC official series of reported seizures; reporting varies between years' },
  wgi: { grade: 'A2', reason: 'World Bank composite estimates from perception surveys, published with standard errors' },
  goci: { grade: 'B2', reason: 'GI-TOC expert scores: a reputable publisher, judgement rather than measurement' },
  owid: { grade: 'B2', reason: 'Our World in Data re-publication of an official series: transcription adds a step' },
  'mps-borough': { grade: 'B2', reason: 'Metropolitan Police recorded crime via a third-party copy; counting rules change (fraud from 2013)' },
  long: { grade: 'F6', reason: 'generic long upload: its source cannot be judged from the file; grade it with --grade' },
  wide: { grade: 'F6', reason: 'generic wide upload: its source cannot be judged from the file; grade it with --grade' },
};

/** For a connector with no entry: the store's historical default. */
export const FALLBACK_GRADE = { grade: 'C3', reason: 'no default for this connector: fairly reliable, possibly true' } as const;

/** The grade of a batch: the explicit one when given (it always wins), else the connector's default. */
export function batchGrade(format: string, explicit?: string): BatchGrade {
  if (explicit !== undefined) return { ...parseGrade(explicit), isDefault: false, reason: 'given explicitly' };
  const { grade, reason } = DEFAULT_GRADES[format] ?? FALLBACK_GRADE;
  return { ...parseGrade(grade), isDefault: true, reason };
}

/** `B2` or `europol:A1`, as parseGrade reads it. */
export function formatGrade(grade: SourceGrade): string {
  return `${grade.scheme === 'europol_4x4' ? 'europol:' : ''}${grade.source}${grade.information}`;
}

/**
 * The grade of something computed from several batches (a derived rate): the weakest source
 * letter and the weakest information digit among them. Grades of different schemes cannot be
 * compared: the result is then Admiralty `F6` (cannot be judged).
 *
 * @example worstGrade([parseGrade('A1'), parseGrade('B2')]) // B2
 */
export function worstGrade(grades: readonly SourceGrade[]): SourceGrade {
  const scheme = grades[0]?.scheme ?? 'admiralty';
  if (grades.length === 0 || grades.some((g) => g.scheme !== scheme)) return { scheme: 'admiralty', source: 'F', information: '6' };
  // A < B < C < X (Europol) and A < ... < F (Admiralty); digits rise as credibility falls.
  const max = (values: string[]) => values.reduce((a, b) => (b > a ? b : a));
  return { scheme, source: max(grades.map((g) => g.source)), information: max(grades.map((g) => g.information)) };
}
