/**
 * World Bank Worldwide Governance Indicators, long format (`codeindyr, code, countryname, year,
 * indicator, estimate, stddev, ...`): `..` is missing; the standard error of each estimate is kept
 * beside it as its own indicator (`<code>_se`); World Bank codes that are not ISO (ADO, ROM, KSV,
 * ZAR, TMP, WBG) are mapped; economies that are not countries today (ANT, the Netherlands
 * Antilles) are dropped and counted.
 */
import { resolveCountry } from '../../datasets/reference/countries.ts';
import type { LongLayout } from './layout.ts';

export const WGI_DIMENSIONS: Readonly<Record<string, { code: string; name: string }>> = {
  va: { code: 'wgi_va', name: 'Voice and accountability' },
  pv: { code: 'wgi_pv', name: 'Political stability and absence of violence/terrorism' },
  ge: { code: 'wgi_ge', name: 'Government effectiveness' },
  rq: { code: 'wgi_rq', name: 'Regulatory quality' },
  rl: { code: 'wgi_rl', name: 'Rule of law' },
  cc: { code: 'wgi_cc', name: 'Control of corruption' },
};

const REQUIRED = ['code', 'year', 'indicator', 'estimate', 'stddev'];

export function looksLikeWgi(header: readonly string[]): boolean {
  const names = header.map((h) => h.trim().toLowerCase());
  return names.includes('codeindyr') && REQUIRED.every((r) => names.includes(r));
}

export function wgiLayout(header: readonly string[]): LongLayout {
  const column = (name: string) => header.findIndex((h) => h.trim().toLowerCase() === name);
  return {
    kind: 'long',
    format: 'wgi',
    header,
    entity: column('code'),
    period: column('year'),
    indicator: column('indicator'),
    value: column('estimate'),
    extraValues: [{ column: column('stddev'), suffix: '_se' }],
    indicatorAliases: new Map(Object.entries(WGI_DIMENSIONS).map(([short, { code }]) => [short, code])),
    aggregateRows: { column: column('code'), isAggregate: (code) => resolveCountry(code) === null },
  };
}
