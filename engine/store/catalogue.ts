/**
 * Reference data in the store: entities (countries), the indicator catalogue and agencies.
 * Seeding is idempotent: it runs on every start and only adds or refreshes rows.
 */
import type { Kysely } from 'kysely';
import { countryEntities, resolveCountry } from '../../datasets/reference/countries.ts';
import { BUILTIN_INDICATORS } from '../../datasets/reference/indicators.ts';
import { SUBNATIONAL_ALIASES, SUBNATIONAL_ENTITIES } from '../../datasets/reference/subnational.ts';
import type { CatalogueView } from '../ingest/layout.ts';
import { normaliseHeader } from '../ingest/layout.ts';
import type { EntityDefinition, IndicatorDefinition } from '../types.ts';
import type { Database } from './schema.ts';

/** The agency that owns public reference data and the demo data. */
export const PUBLIC_AGENCY = 'public';

export async function seedReferenceData(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await upsertEntities(trx, countryEntities());
    // Sub-national entities after the countries they belong to (parent_code references them).
    await upsertEntities(trx, SUBNATIONAL_ENTITIES);
    await registerIndicators(trx, BUILTIN_INDICATORS);
    await ensureAgency(trx, PUBLIC_AGENCY, 'Public sources (no restriction)');
  });
}

export async function upsertEntities(db: Kysely<Database>, entities: readonly EntityDefinition[]): Promise<void> {
  if (entities.length === 0) return;
  await db
    .insertInto('entities')
    .values(
      entities.map((e) => ({
        code: e.code,
        name: e.name,
        kind: e.kind,
        osce_status: e.osceStatus,
        subregion: e.subregion,
        iso2: e.iso2,
        parent_code: e.parent ?? null,
      })),
    )
    .onConflict((oc) =>
      oc.column('code').doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        osce_status: eb.ref('excluded.osce_status'),
        subregion: eb.ref('excluded.subregion'),
        iso2: eb.ref('excluded.iso2'),
      })),
    )
    .execute();
}

export async function registerIndicators(db: Kysely<Database>, indicators: readonly IndicatorDefinition[]): Promise<void> {
  if (indicators.length === 0) return;
  await db
    .insertInto('indicators')
    .values(
      indicators.map((i) => ({
        code: i.code,
        name: i.name,
        unit: i.unit,
        crime_area: i.crimeArea,
        polarity: i.polarity,
        description: i.description ?? null,
        source: i.source ?? null,
        plausible_min: i.plausibleMin ?? null,
        plausible_max: i.plausibleMax ?? null,
      })),
    )
    .onConflict((oc) =>
      oc.column('code').doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        unit: eb.ref('excluded.unit'),
        crime_area: eb.ref('excluded.crime_area'),
        polarity: eb.ref('excluded.polarity'),
        description: eb.ref('excluded.description'),
        source: eb.ref('excluded.source'),
        plausible_min: eb.ref('excluded.plausible_min'),
        plausible_max: eb.ref('excluded.plausible_max'),
      })),
    )
    .execute();
}

export async function ensureAgency(db: Kysely<Database>, code: string, name = code): Promise<void> {
  await db.insertInto('agencies').values({ code, name }).onConflict((oc) => oc.column('code').doNothing()).execute();
}

export async function listIndicators(db: Kysely<Database>) {
  return db.selectFrom('indicators').selectAll().orderBy('code').execute();
}

export async function listEntities(db: Kysely<Database>, filter: { osceStatus?: string; kind?: string } = {}) {
  let query = db.selectFrom('entities').selectAll().orderBy('code');
  if (filter.osceStatus) query = query.where('osce_status', '=', filter.osceStatus as never);
  if (filter.kind) query = query.where('kind', '=', filter.kind as never);
  return query.execute();
}

/** A snapshot of the catalogue for validating an input file against it. */
export async function loadCatalogueView(db: Kysely<Database>): Promise<CatalogueView> {
  const [indicators, entities] = await Promise.all([
    db.selectFrom('indicators').select(['code', 'name', 'unit']).execute(),
    db.selectFrom('entities').select('code').execute(),
  ]);
  const entityCodes = new Set(entities.map((e) => e.code));
  const cache = new Map<string, string | null>();
  return {
    indicatorUnits: new Map(indicators.map((i) => [i.code, i.unit])),
    indicatorNames: new Map(indicators.map((i) => [normaliseHeader(i.name), i.code])),
    resolveEntity(text: string) {
      let code = cache.get(text);
      if (code === undefined) {
        const upper = text.trim().toUpperCase();
        const resolved = SUBNATIONAL_ALIASES[upper] ?? (entityCodes.has(upper) ? upper : resolveCountry(text));
        code = resolved && entityCodes.has(resolved) ? resolved : null;
        cache.set(text, code);
      }
      return code;
    },
  };
}
