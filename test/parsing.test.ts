/** Pure parsing at the edge: cell values, periods, country names and person-level columns. */
import { describe, expect, it } from 'vitest';
import { resolveCountry, countryEntities } from '../datasets/reference/countries.ts';
import { OSCE_PARTICIPATING_STATES, OSCE_PARTNERS } from '../datasets/reference/osce.ts';
import { findPersonColumns } from '../engine/ingest/person-columns.ts';
import { parseCellValue } from '../engine/ingest/values.ts';
import { formatPeriod, parsePeriod } from '../engine/period.ts';

describe('parseCellValue', () => {
  it.each([
    ['12.5', { kind: 'number', value: 12.5, qualifier: null, flags: [] }],
    [' -0.25 ', { kind: 'number', value: -0.25, qualifier: null, flags: [] }],
    ['1e3', { kind: 'number', value: 1000, qualifier: null, flags: [] }],
    ['<5', { kind: 'number', value: 5, qualifier: '<', flags: [] }],
    ['123 p', { kind: 'number', value: 123, qualifier: null, flags: ['p'] }],
    ['45.1 e', { kind: 'number', value: 45.1, qualifier: null, flags: ['e'] }],
    ['..', { kind: 'missing', flags: [] }],
    [':', { kind: 'missing', flags: [] }],
    [': c', { kind: 'missing', flags: ['c'] }],
    ['', { kind: 'missing', flags: [] }],
  ])('%j', (text, expected) => {
    expect(parseCellValue(text)).toEqual(expected);
  });

  it('explains text and thousands separators', () => {
    expect(parseCellValue('twelve')).toEqual({ kind: 'invalid', reason: '"twelve" is not a number' });
    expect(parseCellValue('1,234')).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/thousands separator/) });
  });
});

describe('periods', () => {
  it.each([
    ['2020', '2020', 'year'],
    ['2020-Q3', '2020-Q3', 'quarter'],
    ['2020q1', '2020-Q1', 'quarter'],
    ['201004', '2010-04', 'month'],
    ['2023-09', '2023-09', 'month'],
  ])('%s -> %s', (text, canonical, kind) => {
    const period = parsePeriod(text);
    expect(period?.kind).toBe(kind);
    expect(formatPeriod(period!)).toBe(canonical);
  });

  it.each(['20', '2020-13', '2020-Q5', 'year 2020', '1066', '3000'])('refuses %s', (text) => {
    expect(parsePeriod(text)).toBeNull();
  });
});

describe('country resolution', () => {
  it('knows the 57 participating states and 11 partners', () => {
    expect(OSCE_PARTICIPATING_STATES).toHaveLength(57);
    expect(new Set(OSCE_PARTICIPATING_STATES.map((s) => s.iso3)).size).toBe(57);
    expect(OSCE_PARTNERS).toHaveLength(11);
    const entities = countryEntities();
    expect(entities.filter((e) => e.osceStatus === 'participating')).toHaveLength(57);
    expect(entities.find((e) => e.code === 'XKX')).toMatchObject({ name: 'Kosovo', iso2: 'XK', osceStatus: null });
  });

  it.each([
    ['Türkiye', 'TUR'],
    ['Turkey', 'TUR'],
    ['Czechia', 'CZE'],
    ['Czech Republic', 'CZE'],
    ['Russian Federation', 'RUS'],
    ['Republic of Moldova', 'MDA'],
    ['United States of America', 'USA'],
    ['Kosovo under UNSCR 1244', 'XKX'],
    ['OWID_KOS', 'XKX'],
    ['KSV', 'XKX'],
    ['XKX', 'XKX'],
    ['ROM', 'ROU'],
    ['ADO', 'AND'],
    ['EL', 'GRC'],
    ['NA', 'NAM'],
    ['Holy See', 'VAT'],
    ['Korea, Rep.', 'KOR'],
    ['Kyrgyz Republic', 'KGZ'],
    ['deu', 'DEU'],
  ])('%s -> %s', (text, iso3) => {
    expect(resolveCountry(text)).toBe(iso3);
  });

  it.each(['WLD', 'EUU', 'Europe (UN)', 'World', 'Narnia', ''])('does not resolve the aggregate or unknown %j', (text) => {
    expect(resolveCountry(text)).toBeNull();
  });
});

describe('person-level columns', () => {
  it('finds columns that identify persons', () => {
    expect(
      findPersonColumns(['entity', 'year', 'First Name', 'surname', 'DOB', 'home_address', 'passport_number', 'email', 'value']),
    ).toEqual(['First Name', 'surname', 'DOB', 'home_address', 'passport_number', 'email']);
  });

  it('leaves aggregate-statistics headers alone', () => {
    expect(findPersonColumns(['Country Name', 'name', 'Indicator Name', 'Year', 'Victims (count)', 'Sex', 'Age', 'Code'])).toEqual([]);
  });
});
