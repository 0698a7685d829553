/**
 * ThreatLens stores aggregate statistics only. A column whose header says it holds data about a
 * person (a name, a birth date, an address, an identity number, contact details) makes the whole
 * file refused: dropping the column silently would hide that person-level data was sent.
 */

const PERSON_PATTERNS: readonly RegExp[] = [
  /^(first|last|given|family|full|middle|maiden|sur|fore|victim|suspect|offender|person|perpetrator|officer)[ _-]?names?$/,
  /^names? of (the )?(victim|suspect|offender|person)/,
  /^(date|place|country)[ _-]?of[ _-]?birth$/,
  /^(dob|birth[ _-]?date|birthday|birth[ _-]?day)$/,
  /(^|[ _-])(home|street|postal|residential)[ _-]?address$/,
  /^address( line)?( ?\d)?$/,
  /^(postcode|post[ _-]?code|zip|zip[ _-]?code)$/,
  /(passport|national[ _-]?id|id[ _-]?card|identity[ _-]?(card|number|no)|personal[ _-]?(id|number|code)|social[ _-]?security|ssn|tax[ _-]?id|driver'?s?[ _-]?licen[cs]e)/,
  /^(e-?mail|email[ _-]?address|phone|telephone|mobile|phone[ _-]?number)$/,
  /^(ip[ _-]?address|imei|licen[cs]e[ _-]?plate|plate[ _-]?number|vehicle[ _-]?registration)$/,
];

/** Returns the headers that look like person-level data, in file order. */
export function findPersonColumns(header: readonly string[]): string[] {
  return header.filter((column) => {
    const name = column.trim().toLowerCase();
    return PERSON_PATTERNS.some((pattern) => pattern.test(name));
  });
}
