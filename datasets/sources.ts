/**
 * The publishers' public addresses that `threatlens fetch` downloads from, and the format each
 * file is ingested with. Offline machines download the same files by hand and run `ingest`.
 */
import type { LayoutFormat } from '../engine/ingest/layout.ts';

export interface FetchSource {
  /** The SOURCE argument of `threatlens fetch`. */
  readonly id: string;
  readonly title: string;
  /** The publisher's public address. */
  readonly url: string;
  /** The name the file is saved under (the name the publisher's own download uses). */
  readonly fileName: string;
  readonly ingestFormat: LayoutFormat;
  /** `file`: saved byte for byte; `worldbank-json`: World Bank API pages written as a tidy CSV. */
  readonly kind: 'file' | 'worldbank-json';
}

export const FETCH_SOURCES: readonly FetchSource[] = Object.freeze([
  {
    id: 'owid-homicide',
    title: 'UNODC intentional homicide rate via Our World in Data (grapher homicide-rate-unodc, full CSV)',
    url: 'https://ourworldindata.org/grapher/homicide-rate-unodc.csv?v=1&csvType=full&useColumnShortNames=false',
    fileName: 'homicide-rate-unodc.csv',
    ingestFormat: 'owid',
    kind: 'file',
  },
  {
    // The SDMX 2.1 dissemination API's TSV: the bulk layout (`freq,iccs,unit,geo\TIME_PERIOD`) the eurostat connector reads.
    id: 'eurostat-crim-off-cat',
    title: 'Eurostat crim_off_cat: police-recorded offences by offence category (SDMX 2.1 TSV)',
    url: 'https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1/data/crim_off_cat?format=TSV&compressed=false',
    fileName: 'estat_crim_off_cat.tsv',
    ingestFormat: 'eurostat',
    kind: 'file',
  },
  {
    // The JSON API rather than the zipped CSV download: no unzip, and one page holds every economy-year.
    id: 'worldbank-population',
    title: 'World Bank WDI SP.POP.TOTL: total population (API v2, JSON)',
    url: 'https://api.worldbank.org/v2/country/all/indicator/SP.POP.TOTL?format=json&per_page=20000',
    fileName: 'pop_by_country.csv',
    ingestFormat: 'auto',
    kind: 'worldbank-json',
  },
]);

/** `THREATLENS_FETCH_BASE_OWID_HOMICIDE` for the source `owid-homicide`. */
export function baseEnvName(id: string): string {
  return `THREATLENS_FETCH_BASE_${id.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

/**
 * The address to download from: the publisher's, or the same path and query on another origin
 * when THREATLENS_FETCH_BASE_<SOURCE> (this source) or THREATLENS_FETCH_MIRROR (every source) is
 * set, e.g. `http://mirror.example:8080` (an internal mirror, or a local server in tests).
 */
export function sourceUrl(source: FetchSource, env: NodeJS.ProcessEnv = process.env): URL {
  const url = new URL(source.url);
  const base = env[baseEnvName(source.id)] || env.THREATLENS_FETCH_MIRROR;
  if (!base) return url;
  const mirror = new URL(base);
  const prefix = mirror.pathname.replace(/\/$/, '');
  return new URL(`${prefix}${url.pathname}${url.search}`, mirror.origin);
}
