/**
 * UNODC World Drug Report drug seizures (statistical annex table "Drug seizures, 2018-2022",
 * sheet `Export`): a title row, then `Region, SubRegion, Country, DrugGroup, DrugSubGroup,
 * DrugName, Reference year, Kilograms, msCode`, one row per country x drug x year (a drug may
 * have several rows: they are summed).
 *
 * Indicators, kilograms, never scored (quantities seized measure enforcement as much as
 * trafficking): `unodc_seizures_<group>_kg`, the drug group's total, and
 * `unodc_seizures_<group>_<subgroup>_kg`, the sum of the subgroup's drugs, or the subgroup's own
 * total row ("Cocaine (total of the above, ...)") where it has one. The group total is the file's
 * own total row ("Reported total ...", or a drug named "Total ...") where it has one, otherwise
 * the sum of its subgroups (flagged `sum` when several rows made it). Zeros are real zeros; empty cells are
 * missing. Countries by `msCode` (ISO3); rows without one are dropped as aggregates.
 */
import { resolveCountry } from '../../datasets/reference/countries.ts';
import type { RowReading, SummedLayout } from './summed.ts';
import { slugify } from './unodc-cts.ts';

/** DrugGroup as the file writes it (quotes straightened, lower case) -> short code and name. */
export const SEIZURE_GROUPS: readonly { readonly group: string; readonly slug: string; readonly name: string; readonly subgroups: readonly string[] }[] = [
  { group: 'amphetamine-type stimulants (excluding "ecstasy")', slug: 'ats', name: 'Amphetamine-type stimulants (excluding ecstasy)', subgroups: ['Amphetamine', 'Methamphetamine', 'Non-specified amphetamine-type stimulants', 'Other stimulants', 'Prescription stimulants'] },
  { group: '"ecstasy"-type substances', slug: 'ecstasy', name: 'Ecstasy-type substances', subgroups: ['"Ecstasy"-type substances'] },
  { group: 'cannabis-type drugs (excluding synthetic cannabinoids)', slug: 'cannabis', name: 'Cannabis-type drugs', subgroups: ['Cannabis herb (marijuana)', 'Cannabis oil', 'Cannabis plants', 'Cannabis resin (hashish)', 'Cannabis seed', 'Other types of cannabis', 'Synthetic cannabinoids under international control'] },
  { group: 'cocaine-type', slug: 'cocaine', name: 'Cocaine-type drugs', subgroups: ['Coca-type', 'Cocaine', 'Other coca/cocaine-type drugs', 'Other/non-specified coca/cocaine-type drugs OR Miscellaneous coca/cocaine-type drugs'] },
  { group: 'opioids', slug: 'opioids', name: 'Opioids', subgroups: ['Opiates', 'Opioids', 'Other illicit opiates', 'Other illicit opioids', 'Pharmaceutical opioids'] },
  { group: 'sedatives and tranquillizers', slug: 'sedatives', name: 'Sedatives and tranquillizers', subgroups: ['Barbiturates', 'Benzodiazepines', 'GBL/GHB', 'Methaqualone', 'Non-specified sedatives and tranquillizers', 'Other sedatives and tranquillizers'] },
  { group: 'hallucinogens', slug: 'hallucinogens', name: 'Hallucinogens', subgroups: ['LSD', 'Non-specified hallucinogens', 'Other Hallucinogens'] },
  { group: 'nps', slug: 'nps', name: 'New psychoactive substances', subgroups: ['Aminoindanes', 'Ketamine and phencyclidine-type substances', 'Other NPS', 'Phenethylamines', 'Piperazines', 'Plant-based NPS', 'Synthetic cannabinoids (Spice)', 'Synthetic cathinones', 'Tryptamines'] },
  { group: 'precursors', slug: 'precursors', name: 'Precursors', subgroups: ['Non-specified precursors', 'Precursors'] },
  { group: 'solvents and inhalants', slug: 'solvents', name: 'Solvents and inhalants', subgroups: ['Solvents and Inhalants'] },
  { group: 'any other drugs/substances', slug: 'other', name: 'Any other drugs and substances', subgroups: ['Other miscellaneous', 'Substances not under int. control', 'Synthetic cannabinoids under international control'] },
];

const REQUIRED = ['drug group', 'drug sub group', 'drug name', 'reference year', 'kilograms', 'ms code'];
/** Column titles as the file writes them, for messages. */
const TITLES: Readonly<Record<string, string>> = { 'drug group': 'DrugGroup', 'drug sub group': 'DrugSubGroup', 'drug name': 'DrugName', 'reference year': 'Reference year', kilograms: 'Kilograms', 'ms code': 'msCode' };

/** `DrugSubGroup` -> `drug sub group`, `Reference year` -> `reference year`. */
function columnName(text: string): string {
  return text.trim().replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** Curly quotes as straight ones, lower case: the file writes “ecstasy” and "ecstasy". */
function normaliseLabel(text: string): string {
  return text.trim().replace(/[“”]/g, '"').toLowerCase();
}

const BY_GROUP = new Map(SEIZURE_GROUPS.map((g) => [g.group, g]));

export function seizureGroupCode(slug: string): string {
  return `unodc_seizures_${slug}_kg`;
}

export function seizureSubgroupCode(groupSlug: string, subgroup: string): string {
  return `unodc_seizures_${groupSlug}_${slugify(normaliseLabel(subgroup).replace(/"/g, ''))}_kg`;
}

export function looksLikeSeizures(header: readonly string[]): boolean {
  const names = header.map(columnName);
  return REQUIRED.every((r) => names.includes(r));
}

export function missingSeizureColumns(header: readonly string[]): string[] {
  const names = header.map(columnName);
  return REQUIRED.filter((r) => !names.includes(r)).map((r) => TITLES[r]!);
}

/** A row that is the file's total of its group: "Reported total ..." or a drug named "Total ...". */
export function isPublishedTotal(subgroup: string, drugName: string): boolean {
  return /^reported total/i.test(subgroup.trim()) || /^total\b/i.test(drugName.trim());
}

/** A drug name that totals its subgroup: "Cocaine (total of the above, including if unspecified...)". */
export function isSubgroupTotal(drugName: string): boolean {
  return /\(total of the above/i.test(drugName);
}

export function seizuresLayout(header: readonly string[]): SummedLayout {
  const names = header.map(columnName);
  const [group, subgroup, drug, year, kilograms, entity] = REQUIRED.map((r) => names.indexOf(r)) as [number, number, number, number, number, number];
  const read = (fields: readonly string[]): RowReading => {
    const code = fields[entity]!.trim();
    // Regions (CAR, CAS, SAM... with no country name), partial territories and empty codes.
    if (resolveCountry(code) === null) return { kind: 'dropped', reason: 'aggregate' };
    const known = BY_GROUP.get(normaliseLabel(fields[group]!));
    if (!known) return { kind: 'invalid', column: group, message: `"${fields[group]!.trim()}" is not a drug group this connector knows`, value: fields[group]! };
    const total = seizureGroupCode(known.slug);
    if (isPublishedTotal(fields[subgroup]!, fields[drug]!)) {
      return { kind: 'parts', contributions: [{ indicator: total, priority: 1 }], valueText: fields[kilograms]! };
    }
    // "Cocaine (total of the above, ...)" is the subgroup's own total: it beats the subgroup's drugs.
    const priority = isSubgroupTotal(fields[drug]!) ? 1 : 0;
    return { kind: 'parts', contributions: [{ indicator: seizureSubgroupCode(known.slug, fields[subgroup]!), priority, rollUp: total }], valueText: fields[kilograms]! };
  };
  return { kind: 'summed', format: 'unodc-seizures', header, entity, period: year, value: kilograms, indicatorColumn: subgroup, read };
}
