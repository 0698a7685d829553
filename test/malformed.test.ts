/**
 * Malformed versions of each publisher's format (issue 3): cut short, a required column missing,
 * a wrong unit, a text value in a number column. Each must be refused with the file, line and
 * column named, and leave batches, observations and the audit log as they were. The fixtures are
 * a few rows in each publisher's real layout (see ../shared/datasets/real/*\/SOURCE.md); the
 * workbook formats are covered in test/unodc-glotip.test.ts, unodc-seizures and goci-xlsx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../datasets/ingest.ts';
import { GOCI_INDICATORS } from '../datasets/reference/goci.ts';
import { ThreatLensError } from '../engine/errors.ts';
import type { LayoutFormat } from '../engine/ingest/layout.ts';
import type { Store } from '../engine/store/database.ts';
import { tempDir, writeFixture } from './support/fixtures.ts';
import { openTestStore, STORE_KINDS } from './support/stores.ts';

const goci2023Columns = GOCI_INDICATORS.filter((i) => i.group !== 'published' && i.editions.includes(2023)).map((i) => i.column);
const gociHeader = ['Country', ...goci2023Columns].map((c) => (c.includes(',') ? `"${c}"` : c)).join(',');
const gociRow = (country: string, cell = '5.0') => [country, ...goci2023Columns.map((_, i) => (i === 3 ? cell : '5.0'))].join(',');

interface Case {
  readonly format: LayoutFormat;
  readonly name: string;
  readonly content: string;
  /** What the error must name: the line and, for a cell, its column. */
  readonly line: number;
  readonly field?: string;
}

const CASES: readonly Case[] = [
  // Our World in Data grapher CSV
  { format: 'owid', name: 'owid-text.csv', line: 3, field: 'Homicide rate per 100,000 population',
    content: 'Entity,Code,Year,"Homicide rate per 100,000 population"\nAlbania,ALB,2020,2.1\nAustria,AUT,2020,many\n' },
  { format: 'owid', name: 'owid-cut.csv', line: 3,
    content: 'Entity,Code,Year,"Homicide rate per 100,000 population"\nAlbania,ALB,2020,2.1\nAustria,AUT' },
  { format: 'owid', name: 'owid-no-year.csv', line: 1,
    content: 'Entity,Code,"Homicide rate per 100,000 population"\nAlbania,ALB,2.1\n' },
  // World Bank Worldwide Governance Indicators
  { format: 'wgi', name: 'wgi-text.csv', line: 3, field: 'estimate',
    content: 'codeindyr,code,countryname,year,indicator,estimate,stddev\nALBcc2020,ALB,Albania,2020,cc,-0.5,0.2\nAUTcc2020,AUT,Austria,2020,cc,good,0.2\n' },
  { format: 'wgi', name: 'wgi-no-estimate.csv', line: 1,
    content: 'codeindyr,code,countryname,year,indicator,stddev\nALBcc2020,ALB,Albania,2020,cc,0.2\n' },
  // UNODC data portal (Crime Trends Survey)
  { format: 'unodc-cts', name: 'cts-text.csv', line: 3, field: 'VALUE',
    content: 'Iso3_code,Country,Region,Subregion,Indicator,Dimension,Category,Sex,Age,Year,Unit of measurement,VALUE,Source\n' +
      'AUT,Austria,Europe,Western Europe,Offences,by type of offence,Corruption,Total,Total,2020,Counts,37,CTS\n' +
      'DEU,Germany,Europe,Western Europe,Offences,by type of offence,Corruption,Total,Total,2020,Counts,about 40,CTS\n' },
  { format: 'unodc-cts', name: 'cts-unit.csv', line: 2, field: 'Category',
    content: 'Iso3_code,Country,Region,Subregion,Indicator,Dimension,Category,Sex,Age,Year,Unit of measurement,VALUE,Source\n' +
      'AUT,Austria,Europe,Western Europe,Offences,by type of offence,Corruption,Total,Total,2020,Kilograms,37,CTS\n' },
  { format: 'unodc-cts', name: 'cts-no-unit.csv', line: 1,
    content: 'Iso3_code,Country,Category,Sex,Age,Year,VALUE\nAUT,Austria,Corruption,Total,Total,2020,37\n' },
  // GI-TOC Global Organized Crime Index, 2023 edition
  { format: 'goci', name: 'goci-text.csv', line: 3, field: goci2023Columns[3],
    content: `${gociHeader}\n${gociRow('Albania')}\n${gociRow('Austria', 'high')}\n` },
  { format: 'goci', name: 'goci-cut.csv', line: 3,
    content: `${gociHeader}\n${gociRow('Albania')}\n${gociRow('Austria').slice(0, 40)}` },
  // Eurostat bulk TSV
  { format: 'eurostat', name: 'eurostat-cut.tsv', line: 3,
    content: 'freq,iccs,unit,geo\\TIME_PERIOD\t2020 \t2021 \nA,ICCS0101,NR,AT\t54 \t59 \nA,ICCS0101,NR,BE' },
  { format: 'eurostat', name: 'eurostat-no-key.tsv', line: 1,
    content: 'geo\t2020 \t2021 \nAT\t54 \t59 \n' },
  // London MPS monthly borough file
  { format: 'mps-borough', name: 'mps-text.csv', line: 3, field: '201005',
    content: 'MajorText,MinorText,BoroughName,201004,201005\nROBBERY,ROBBERY OF PERSONAL PROPERTY,Camden,50,61\nROBBERY,ROBBERY OF PERSONAL PROPERTY,Barnet,40,lots\n' },
  { format: 'mps-borough', name: 'mps-no-borough.csv', line: 1,
    content: 'MajorText,MinorText,201004,201005\nROBBERY,ROBBERY OF PERSONAL PROPERTY,50,61\n' },
];

describe.each(STORE_KINDS)('malformed publisher files on %s', (kind) => {
  let store: Store;
  let dir: string;
  beforeAll(async () => {
    store = await openTestStore(kind);
    dir = await tempDir();
  });
  afterAll(async () => store?.close());

  const counts = async () => {
    const count = async (table: 'ingestion_batches' | 'observations' | 'audit_log') =>
      Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    return { batches: await count('ingestion_batches'), observations: await count('observations'), audit: await count('audit_log') };
  };

  it.each(CASES)('$format: $name is refused with line $line, and nothing is stored', async ({ format, name, content, line, field }) => {
    const before = await counts();
    const path = await writeFixture(dir, name, content);
    for (const requested of [format, 'auto'] as const) {
      const error = await ingestFile(store, path, { format: requested }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, `${name} as ${requested}`).toBeInstanceOf(ThreatLensError);
      const message = (error as ThreatLensError).message;
      expect(message).toContain(name);
      expect(message).toContain(`line ${line}`);
      if (field) expect(message).toContain(`field "${field}"`);
      if (requested === format) break; // auto detection is checked on the cell cases only (a broken header is not detectable)
    }
    expect(await counts()).toEqual(before);
  });
});
