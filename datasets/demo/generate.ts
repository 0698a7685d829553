/**
 * A seeded generator of a realistic SYNTHETIC panel: the 57 OSCE participating states, 2000-2024,
 * the indicators of ./catalogue.ts. It exists so that ThreatLens runs, and can be evaluated, with
 * nothing downloaded: the ground truth of what was planted is written beside the data.
 *
 * The model:
 * - Latent factors per country: an organised-crime level `oc`, a governance level `gov` and a
 *   wealth level, each drawn around its sub-region's mean (osce.ts), with gov and wealth pulled
 *   against oc, so that indicators come out correlated with sensible signs (markets and corruption
 *   offences rise with oc; governance and resilience fall).
 * - Trends: oc and gov drift linearly per country (some escalate, some improve) with AR(1) noise;
 *   cyber offences rise everywhere; property crime falls, as it did in Europe.
 * - Indicators: rates are log-normal around a linear predictor in the factors plus a fixed country
 *   effect (and, for heroin, a trafficking-route effect by sub-region); percentages are logistic;
 *   GI-TOC-style scores (1-10 in 0.5 steps) exist only for the 2021 and 2023 editions; WGI-style
 *   estimates are annual except 2001, as the real index. Population is a 2020 table (World Bank
 *   order of magnitude) with a small per-country growth rate. Rounding: rates 3 decimals, scores
 *   0.5 steps, WGI 4 decimals, population whole persons.
 * - Missingness as real data has it: series start late (later in Central Asia and for
 *   microstates), end one or two years early (reporting lag), have random gaps, and some
 *   microstate series do not exist. Homicide, robbery and rule of law (but for WGI's missing
 *   2001) are complete, so that every state has a score in every year.
 * - Reporting breaks: a few series change level from one year on, and their `source` changes in
 *   the same year (a new counting rule), as a real definition change would.
 * - Planted anomalies (about 40, on rate series without a break, never on population or on a
 *   missing cell): spikes (x3-x6), dips (x0.15-x0.3), unit errors (x1000, or /1000 for counts of
 *   100 or more) and multivariate events (four indicators of one state-year up x1.8-x2.4 together),
 *   each recorded with its expected (pre-planting) and planted value.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRandom, type Random } from '../../engine/stats/random.ts';
import { OSCE_PARTICIPATING_STATES, type OsceSubregion } from '../reference/osce.ts';
import { DEMO_INDICATORS } from './catalogue.ts';

export interface DemoOptions {
  readonly seed: number;
  readonly fromYear: number;
  readonly toYear: number;
  /** ISO3 codes; defaults to the 57 participating states. */
  readonly entities: readonly string[];
}

export const DEFAULT_DEMO_OPTIONS: DemoOptions = {
  seed: 20240601,
  fromYear: 2000,
  toYear: 2024,
  entities: OSCE_PARTICIPATING_STATES.map((s) => s.iso3),
};

export interface DemoRow {
  readonly entity: string;
  readonly period: number;
  readonly indicator: string;
  readonly value: number;
  readonly unit: string;
  readonly source: string;
}

export interface PlantedAnomaly {
  readonly entity: string;
  readonly indicator: string;
  readonly period: number;
  readonly kind: 'spike' | 'dip' | 'unit_error' | 'multivariate';
  readonly expectedValue: number;
  readonly plantedValue: number;
}

export interface ReportingBreak {
  readonly entity: string;
  readonly indicator: string;
  readonly fromPeriod: number;
  readonly factor: number;
  readonly sourceBefore: string;
  readonly sourceAfter: string;
}

export interface DemoTruth {
  readonly seed: number;
  readonly synthetic: true;
  readonly description: string;
  readonly anomalies: PlantedAnomaly[];
  readonly breaks: ReportingBreak[];
}

const SUBREGION_MEANS: Readonly<Record<OsceSubregion, { oc: number; gov: number; wealth: number }>> = {
  'North America': { oc: 0.3, gov: 0.9, wealth: 1.3 },
  'Northern Europe': { oc: -0.7, gov: 1.4, wealth: 1.2 },
  'Western Europe': { oc: -0.2, gov: 1.1, wealth: 1.3 },
  'Southern Europe': { oc: 0.2, gov: 0.4, wealth: 0.6 },
  'Central Europe': { oc: -0.1, gov: 0.5, wealth: 0.3 },
  'South-Eastern Europe': { oc: 0.7, gov: -0.3, wealth: -0.4 },
  'Eastern Europe': { oc: 0.8, gov: -0.8, wealth: -0.5 },
  'South Caucasus': { oc: 0.4, gov: -0.3, wealth: -0.7 },
  'Central Asia': { oc: 0.8, gov: -1.1, wealth: -1.0 },
};

/** Approximate populations in 2020 (millions), World Bank order of magnitude. */
const POPULATION_2020: Readonly<Record<string, number>> = {
  ALB: 2.84, AND: 0.077, ARM: 2.96, AUT: 8.92, AZE: 10.1, BLR: 9.38, BEL: 11.5, BIH: 3.28, BGR: 6.93, CAN: 38.0,
  HRV: 4.05, CYP: 1.21, CZE: 10.7, DNK: 5.83, EST: 1.33, FIN: 5.53, FRA: 67.4, GEO: 3.72, DEU: 83.2, GRC: 10.7,
  VAT: 0.0008, HUN: 9.75, ISL: 0.366, IRL: 4.99, ITA: 59.4, KAZ: 18.8, KGZ: 6.58, LVA: 1.9, LIE: 0.039, LTU: 2.79,
  LUX: 0.63, MLT: 0.516, MDA: 2.62, MCO: 0.038, MNG: 3.29, MNE: 0.621, NLD: 17.4, MKD: 2.07, NOR: 5.38, POL: 37.9,
  PRT: 10.3, ROU: 19.3, RUS: 144.1, SMR: 0.034, SRB: 6.91, SVK: 5.46, SVN: 2.1, ESP: 47.4, SWE: 10.4, CHE: 8.64,
  TJK: 9.54, TUR: 84.3, TKM: 6.03, UKR: 44.1, GBR: 67.2, USA: 331.5, UZB: 34.2,
};

const MICROSTATES = new Set(['AND', 'LIE', 'MCO', 'SMR', 'VAT']);
const GOCI_EDITIONS = [2021, 2023];
/** Always reported, so that every state has at least two scored crime areas every year. */
const COMPLETE_SERIES = new Set(['homicide_rate', 'robbery_rate', 'wgi_rule_of_law']);

type Shape = 'rate' | 'percent' | 'goci' | 'wgi' | 'score100' | 'population';

/** How an indicator depends on the latent factors: loadings, noise and timing. */
interface IndicatorModel {
  readonly shape: Shape;
  readonly base: number;
  readonly oc?: number;
  readonly gov?: number;
  readonly wealth?: number;
  /** Change of the linear predictor per year. */
  readonly trend?: number;
  /** Sd of the fixed country effect and of the yearly noise. */
  readonly countrySd: number;
  readonly noiseSd: number;
  /** Additive effect on the predictor by sub-region (trafficking routes, regional markets). */
  readonly subregion?: Partial<Record<OsceSubregion, number>>;
  /** Series start no earlier than this year. */
  readonly firstYear?: number;
  readonly source: string;
}

const POLICE = 'SYNTHETIC: national police statistics';
const MODELS: Readonly<Record<string, IndicatorModel>> = {
  homicide_rate: { shape: 'rate', base: 0.4, oc: 0.55, gov: -0.25, wealth: -0.1, countrySd: 0.25, noiseSd: 0.08, source: 'SYNTHETIC: vital statistics and police records' },
  homicide_attempted_rate: { shape: 'rate', base: 0.9, oc: 0.45, gov: -0.2, countrySd: 0.35, noiseSd: 0.12, source: POLICE },
  homicide_oc_share: { shape: 'percent', base: -1.6, oc: 0.8, gov: -0.3, countrySd: 0.4, noiseSd: 0.15, source: POLICE },
  drug_offences_rate: { shape: 'rate', base: 3.5, oc: 0.2, gov: 0.1, wealth: 0.3, countrySd: 0.5, noiseSd: 0.1, source: POLICE },
  seizures_cocaine_kg_per_100k: { shape: 'rate', base: -1.0, oc: 0.7, wealth: 0.3, countrySd: 0.9, noiseSd: 0.35, source: 'SYNTHETIC: customs and police seizure records' },
  seizures_cannabis_kg_per_100k: { shape: 'rate', base: 1.0, oc: 0.5, countrySd: 0.8, noiseSd: 0.3, source: 'SYNTHETIC: customs and police seizure records' },
  seizures_synthetic_kg_per_100k: { shape: 'rate', base: -1.5, oc: 0.6, trend: 0.05, countrySd: 0.9, noiseSd: 0.4, source: 'SYNTHETIC: customs and police seizure records' },
  // Opiates follow the northern and Balkan routes from Afghanistan, hence the route effects.
  seizures_heroin_kg_per_100k: {
    shape: 'rate', base: -2.0, oc: 0.5, trend: -0.02, countrySd: 0.8, noiseSd: 0.35,
    subregion: { 'Central Asia': 1.6, 'South Caucasus': 0.6, 'South-Eastern Europe': 0.8, 'Eastern Europe': 0.3 },
    source: 'SYNTHETIC: customs and police seizure records',
  },
  tip_victims_rate: { shape: 'rate', base: -0.7, oc: 0.5, gov: 0.1, countrySd: 0.5, noiseSd: 0.2, firstYear: 2003, source: 'SYNTHETIC: national referral mechanism' },
  tip_prosecutions_rate: { shape: 'rate', base: -1.8, oc: 0.3, gov: 0.3, countrySd: 0.4, noiseSd: 0.25, firstYear: 2003, source: 'SYNTHETIC: prosecution service' },
  tip_convictions_rate: { shape: 'rate', base: -2.4, oc: 0.3, gov: 0.35, countrySd: 0.4, noiseSd: 0.25, firstYear: 2004, source: 'SYNTHETIC: court statistics' },
  firearms_seized_rate: { shape: 'rate', base: 2.5, oc: 0.5, countrySd: 0.6, noiseSd: 0.2, source: POLICE },
  firearms_trafficking_offences_rate: { shape: 'rate', base: -0.6, oc: 0.55, gov: -0.1, countrySd: 0.6, noiseSd: 0.25, firstYear: 2005, source: POLICE },
  firearm_homicide_share: { shape: 'percent', base: -1.0, oc: 0.5, gov: -0.2, countrySd: 0.5, noiseSd: 0.12, source: POLICE },
  cyber_offences_rate: { shape: 'rate', base: 1.2, wealth: 0.6, trend: 0.12, countrySd: 0.6, noiseSd: 0.2, firstYear: 2008, source: POLICE },
  cyber_fraud_rate: { shape: 'rate', base: 2.3, wealth: 0.5, trend: 0.1, countrySd: 0.6, noiseSd: 0.2, firstYear: 2010, source: POLICE },
  cyber_extortion_rate: { shape: 'rate', base: -1.0, oc: 0.2, wealth: 0.5, trend: 0.15, countrySd: 0.6, noiseSd: 0.25, firstYear: 2012, source: POLICE },
  bribery_offences_rate: { shape: 'rate', base: 0.5, oc: 0.4, gov: -0.2, countrySd: 0.6, noiseSd: 0.2, source: POLICE },
  money_laundering_rate: { shape: 'rate', base: 0.3, oc: 0.3, gov: 0.2, wealth: 0.2, countrySd: 0.6, noiseSd: 0.25, source: 'SYNTHETIC: financial intelligence unit' },
  corruption_perception: { shape: 'score100', base: 50, oc: -5, gov: 15, countrySd: 3, noiseSd: 1.5, source: 'SYNTHETIC: expert and survey perception index' },
  goci_market_human_trafficking: { shape: 'goci', base: 4.8, oc: 1.1, gov: -0.4, countrySd: 0.6, noiseSd: 0.3, source: 'SYNTHETIC: organised crime index (expert panel)' },
  goci_market_arms_trafficking: { shape: 'goci', base: 4.2, oc: 1.2, gov: -0.3, countrySd: 0.7, noiseSd: 0.3, source: 'SYNTHETIC: organised crime index (expert panel)' },
  goci_market_cocaine: { shape: 'goci', base: 4.5, oc: 1.0, wealth: 0.3, countrySd: 0.8, noiseSd: 0.3, source: 'SYNTHETIC: organised crime index (expert panel)' },
  goci_market_synthetic_drugs: { shape: 'goci', base: 4.6, oc: 1.0, countrySd: 0.8, noiseSd: 0.3, source: 'SYNTHETIC: organised crime index (expert panel)' },
  goci_actor_criminal_networks: { shape: 'goci', base: 5.0, oc: 1.3, countrySd: 0.5, noiseSd: 0.3, source: 'SYNTHETIC: organised crime index (expert panel)' },
  goci_actor_state_embedded: { shape: 'goci', base: 4.0, oc: 0.8, gov: -1.2, countrySd: 0.5, noiseSd: 0.3, source: 'SYNTHETIC: organised crime index (expert panel)' },
  burglary_rate: { shape: 'rate', base: 5.5, oc: 0.1, wealth: 0.2, trend: -0.03, countrySd: 0.4, noiseSd: 0.08, source: POLICE },
  theft_rate: { shape: 'rate', base: 7.0, oc: 0.05, wealth: 0.3, trend: -0.025, countrySd: 0.4, noiseSd: 0.06, source: POLICE },
  robbery_rate: { shape: 'rate', base: 3.5, oc: 0.3, wealth: -0.1, trend: -0.03, countrySd: 0.5, noiseSd: 0.1, source: POLICE },
  vehicle_theft_rate: { shape: 'rate', base: 4.5, wealth: 0.3, trend: -0.04, countrySd: 0.5, noiseSd: 0.1, source: POLICE },
  goci_res_law_enforcement: { shape: 'goci', base: 5.0, oc: -0.4, gov: 1.3, countrySd: 0.5, noiseSd: 0.3, source: 'SYNTHETIC: organised crime index (expert panel)' },
  goci_res_judicial: { shape: 'goci', base: 4.8, oc: -0.4, gov: 1.4, countrySd: 0.5, noiseSd: 0.3, source: 'SYNTHETIC: organised crime index (expert panel)' },
  goci_res_aml: { shape: 'goci', base: 4.9, oc: -0.3, gov: 1.2, wealth: 0.3, countrySd: 0.5, noiseSd: 0.3, source: 'SYNTHETIC: organised crime index (expert panel)' },
  goci_res_international_cooperation: { shape: 'goci', base: 5.8, gov: 1.0, countrySd: 0.6, noiseSd: 0.3, source: 'SYNTHETIC: organised crime index (expert panel)' },
  wgi_rule_of_law: { shape: 'wgi', base: 0, gov: 0.9, countrySd: 0.15, noiseSd: 0.06, source: 'SYNTHETIC: governance indicators' },
  wgi_control_of_corruption: { shape: 'wgi', base: 0, oc: -0.1, gov: 0.9, countrySd: 0.2, noiseSd: 0.07, source: 'SYNTHETIC: governance indicators' },
  wgi_government_effectiveness: { shape: 'wgi', base: 0.1, gov: 0.8, wealth: 0.15, countrySd: 0.2, noiseSd: 0.06, source: 'SYNTHETIC: governance indicators' },
  population: { shape: 'population', base: 0, countrySd: 0, noiseSd: 0, source: 'SYNTHETIC: population estimates' },
};

const BREAK_SOURCE = 'SYNTHETIC: ministry of interior (new counting rules)';

interface Country {
  readonly iso3: string;
  readonly subregion: OsceSubregion;
  readonly micro: boolean;
  readonly centralAsia: boolean;
  /** Latent organised-crime and governance level per year index. */
  readonly oc: Float64Array;
  readonly gov: Float64Array;
  readonly wealth: number;
  readonly population: number;
  readonly growth: number;
}

function latentCountry(iso3: string, subregion: OsceSubregion, years: number, random: Random): Country {
  const mean = SUBREGION_MEANS[subregion];
  const oc0 = mean.oc + random.normal(0, 0.6);
  const gov0 = mean.gov - 0.35 * (oc0 - mean.oc) + random.normal(0, 0.4);
  const wealth = mean.wealth + 0.4 * (gov0 - mean.gov) + random.normal(0, 0.4);
  const ocSlope = random.normal(0, 0.025);
  const govSlope = random.normal(0, 0.015);
  const oc = new Float64Array(years);
  const gov = new Float64Array(years);
  let ocNoise = 0;
  let govNoise = 0;
  for (let t = 0; t < years; t++) {
    ocNoise = 0.7 * ocNoise + random.normal(0, 0.05);
    govNoise = 0.7 * govNoise + random.normal(0, 0.04);
    oc[t] = oc0 + ocSlope * t + ocNoise;
    gov[t] = gov0 + govSlope * t + govNoise;
  }
  return {
    iso3,
    subregion,
    micro: MICROSTATES.has(iso3),
    centralAsia: subregion === 'Central Asia',
    oc,
    gov,
    wealth,
    population: (POPULATION_2020[iso3] ?? 1) * 1e6,
    growth: random.normal(0.003, 0.006),
  };
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const logistic = (x: number) => 1 / (1 + Math.exp(-x));

function rounded(shape: Shape, value: number): number {
  switch (shape) {
    case 'rate':
      return Math.round(value * 1000) / 1000;
    case 'percent':
    case 'score100':
      return Math.round(value * 10) / 10;
    case 'goci':
      return clamp(Math.round(value * 2) / 2, 1, 10);
    case 'wgi':
      return Math.round(clamp(value, -2.5, 2.5) * 10000) / 10000;
    case 'population':
      return Math.round(value);
  }
}

/** Which years a series reports: a start, a reporting lag at the end, gaps, or nothing at all. */
function observedYears(code: string, model: IndicatorModel, country: Country, from: number, to: number, random: Random): Set<number> {
  const years = new Set<number>();
  if (model.shape === 'goci') {
    for (const edition of GOCI_EDITIONS) if (edition >= from && edition <= to) years.add(edition);
    return years;
  }
  if (model.shape === 'population' || COMPLETE_SERIES.has(code)) {
    for (let y = from; y <= to; y++) if (!(model.shape === 'wgi' && y === 2001)) years.add(y);
    return years;
  }
  const sparse = country.micro || country.centralAsia;
  if (country.micro && model.shape === 'rate' && random.next() < 0.6) return years; // series does not exist
  let start = Math.max(from, model.firstYear ?? from) + Math.max(0, Math.round(random.normal(1.5, 2.5)));
  if (sparse) start += random.int(2, 6);
  const end = model.shape === 'wgi' ? to - random.int(0, 2) : to - random.int(0, 3);
  const gapRate = sparse ? 0.1 : 0.04;
  for (let y = start; y <= end; y++) {
    if (model.shape === 'wgi' && y === 2001) continue;
    if (random.next() < gapRate) continue;
    years.add(y);
  }
  return years;
}

export function generateDemoPanel(options: Partial<DemoOptions> = {}): { rows: DemoRow[]; truth: DemoTruth } {
  const { seed, fromYear, toYear, entities } = { ...DEFAULT_DEMO_OPTIONS, ...options };
  const random = createRandom(seed);
  const nYears = toYear - fromYear + 1;
  const subregions = new Map(OSCE_PARTICIPATING_STATES.map((s) => [s.iso3, s.subregion as OsceSubregion]));
  const countries = entities.map((iso3) => latentCountry(iso3, subregions.get(iso3) ?? 'Central Europe', nYears, random));

  // values[entity][indicator] = Map(year -> value), plus the source per year.
  type Series = { values: Map<number, number>; sources: Map<number, string> };
  const panel = new Map<string, Map<string, Series>>();
  for (const country of countries) {
    const bySeries = new Map<string, Series>();
    for (const indicator of DEMO_INDICATORS) {
      const model = MODELS[indicator.code];
      if (!model) throw new Error(`demo generator has no model for ${indicator.code}`);
      const countryEffect = random.normal(0, model.countrySd);
      const years = observedYears(indicator.code, model, country, fromYear, toYear, random);
      const values = new Map<number, number>();
      const sources = new Map<number, string>();
      for (let t = 0; t < nYears; t++) {
        const year = fromYear + t;
        // Draw the noise for every year so that missingness does not shift the random stream.
        const noise = random.normal(0, model.noiseSd);
        if (!years.has(year)) continue;
        const predictor =
          model.base +
          (model.oc ?? 0) * country.oc[t]! +
          (model.gov ?? 0) * country.gov[t]! +
          (model.wealth ?? 0) * country.wealth +
          (model.trend ?? 0) * t +
          (model.subregion?.[country.subregion] ?? 0) +
          countryEffect +
          noise;
        let value: number;
        switch (model.shape) {
          case 'rate':
            value = Math.exp(predictor);
            break;
          case 'percent':
            value = 100 * logistic(predictor);
            break;
          case 'score100':
            value = clamp(predictor, 0, 100);
            break;
          case 'goci':
          case 'wgi':
            value = predictor;
            break;
          case 'population':
            value = country.population * (1 + country.growth) ** (year - 2020);
            break;
        }
        values.set(year, rounded(model.shape, value));
        sources.set(year, model.source);
      }
      bySeries.set(indicator.code, { values, sources });
    }
    panel.set(country.iso3, bySeries);
  }

  const rateCodes = DEMO_INDICATORS.filter((i) => MODELS[i.code]!.shape === 'rate' && !COMPLETE_SERIES.has(i.code)).map((i) => i.code);

  // Reporting breaks: a level shift from one year on, with a new source from that year.
  const breaks: ReportingBreak[] = [];
  const brokenSeries = new Set<string>();
  for (let attempt = 0; breaks.length < 8 && attempt < 1000; attempt++) {
    const entity = random.pick(entities);
    const indicator = random.pick(rateCodes);
    const key = `${entity}|${indicator}`;
    const series = panel.get(entity)!.get(indicator)!;
    const years = [...series.values.keys()].sort((a, b) => a - b);
    if (brokenSeries.has(key) || years.length < 10) continue;
    const fromPeriod = years[random.int(4, years.length - 3)]!;
    const factor = random.pick([0.4, 0.5, 2, 2.5]);
    for (const year of years) {
      if (year < fromPeriod) continue;
      series.values.set(year, rounded('rate', series.values.get(year)! * factor));
      series.sources.set(year, BREAK_SOURCE);
    }
    brokenSeries.add(key);
    breaks.push({ entity, indicator, fromPeriod, factor, sourceBefore: MODELS[indicator]!.source, sourceAfter: BREAK_SOURCE });
  }

  // Planted anomalies, on rate series without a break, in cells that have a value.
  const anomalies: PlantedAnomaly[] = [];
  const planted = new Set<string>();
  const plant = (entity: string, indicator: string, year: number, kind: PlantedAnomaly['kind'], factor: number) => {
    const series = panel.get(entity)!.get(indicator)!;
    const expectedValue = series.values.get(year)!;
    const plantedValue = rounded('rate', expectedValue * factor);
    series.values.set(year, plantedValue);
    planted.add(`${entity}|${indicator}|${year}`);
    anomalies.push({ entity, indicator, period: year, kind, expectedValue, plantedValue });
  };
  // Values below 0.1 are skipped: after rounding to 3 decimals a tiny value would barely move.
  const candidate = (entity: string, indicator: string, year: number) =>
    !brokenSeries.has(`${entity}|${indicator}`) &&
    !planted.has(`${entity}|${indicator}|${year}`) &&
    (panel.get(entity)!.get(indicator)!.values.get(year) ?? 0) >= 0.1;
  for (let attempt = 0; anomalies.length < 28 && attempt < 5000; attempt++) {
    const entity = random.pick(entities);
    const indicator = random.pick(rateCodes);
    const year = random.int(fromYear + 3, toYear + 1);
    if (!candidate(entity, indicator, year)) continue;
    if (anomalies.length % 7 === 6) {
      // Every other unit error is a count reported in thousands (/1000), which needs a value of 100
      // or more to stay readable; the others are a rate reported per 100 million (x1000).
      const inThousands = anomalies.length % 14 === 13;
      if (inThousands && panel.get(entity)!.get(indicator)!.values.get(year)! < 100) continue;
      plant(entity, indicator, year, 'unit_error', inThousands ? 1 / 1000 : 1000);
    } else if (random.next() < 0.65) {
      plant(entity, indicator, year, 'spike', 3 + 3 * random.next());
    } else {
      plant(entity, indicator, year, 'dip', 0.15 + 0.15 * random.next());
    }
  }
  for (let events = 0, attempt = 0; events < 3 && attempt < 5000; attempt++) {
    const entity = random.pick(entities);
    const year = random.int(fromYear + 3, toYear + 1);
    const available = rateCodes.filter((code) => candidate(entity, code, year));
    if (available.length < 6) continue;
    for (let k = 0; k < 4; k++) {
      const index = random.int(0, available.length);
      const [indicator] = available.splice(index, 1);
      plant(entity, indicator!, year, 'multivariate', 1.8 + 0.6 * random.next());
    }
    events++;
  }

  const rows: DemoRow[] = [];
  const units = new Map(DEMO_INDICATORS.map((i) => [i.code, i.unit]));
  for (const entity of [...entities].sort()) {
    const bySeries = panel.get(entity)!;
    for (const indicator of DEMO_INDICATORS.map((i) => i.code).sort()) {
      const series = bySeries.get(indicator)!;
      for (const year of [...series.values.keys()].sort((a, b) => a - b)) {
        rows.push({ entity, period: year, indicator, value: series.values.get(year)!, unit: units.get(indicator)!, source: series.sources.get(year)! });
      }
    }
  }
  return {
    rows,
    truth: {
      seed,
      synthetic: true,
      description:
        'SYNTHETIC ThreatLens demo panel. anomalies: values planted on purpose (expectedValue is the value before planting; ' +
        'spike x3-x6, dip x0.15-x0.3, unit_error x1000 or /1000, multivariate x1.8-x2.4 on four indicators of one entity-year). ' +
        'breaks: series whose level changes by `factor` from `fromPeriod` on, with the source changing in the same year.',
      anomalies: anomalies.sort((a, b) => a.entity.localeCompare(b.entity) || a.indicator.localeCompare(b.indicator) || a.period - b.period),
      breaks: breaks.sort((a, b) => a.entity.localeCompare(b.entity) || a.indicator.localeCompare(b.indicator)),
    },
  };
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Writes demo-panel.csv (long layout) and demo-truth.json into `dir`; the same seed gives the same bytes. */
export async function writeDemoFiles(
  dir: string,
  options: Partial<DemoOptions> = {},
): Promise<{ csvPath: string; truthPath: string; rows: number }> {
  const { rows, truth } = generateDemoPanel(options);
  await mkdir(dir, { recursive: true });
  const csvPath = join(dir, 'demo-panel.csv');
  const truthPath = join(dir, 'demo-truth.json');
  const lines = ['entity,period,indicator,value,unit,source'];
  for (const r of rows) lines.push([r.entity, String(r.period), r.indicator, String(r.value), csvField(r.unit), csvField(r.source)].join(','));
  await writeFile(csvPath, `${lines.join('\n')}\n`);
  await writeFile(truthPath, `${JSON.stringify(truth, null, 2)}\n`);
  return { csvPath, truthPath, rows: rows.length };
}
