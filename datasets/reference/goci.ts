/**
 * The Global Organized Crime Index (GI-TOC, ocindex.net) indicators, named exactly as GI-TOC's
 * workbook and CSV columns name them. Every indicator is an expert score from 1 to 10 in steps
 * of 0.5. Editions: 2021 (10 markets, 4 actor types), 2023 and 2025 (15 markets, 5 actor types);
 * 12 resilience indicators in each. The published averages are kept as `ocindex_*` aggregates
 * (crime area `context`, never scored) so that recomputed pillars can be checked against them.
 */
import type { IndicatorDefinition } from '../../engine/types.ts';

export type GociGroup = 'market' | 'actor' | 'resilience' | 'published';

export interface GociIndicator extends IndicatorDefinition {
  readonly column: string;
  readonly group: GociGroup;
  /** Editions in which GI-TOC scores it. */
  readonly editions: readonly number[];
}

const UNIT = 'score 1-10 (GI-TOC)';
const SOURCE = 'GI-TOC Global Organized Crime Index';
const ALL = [2021, 2023, 2025];
const SINCE_2023 = [2023, 2025];

const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');

function goci(column: string, group: GociGroup, editions: readonly number[]): GociIndicator {
  const prefix = { market: 'ocindex_market_', actor: 'ocindex_actor_', resilience: 'ocindex_resilience_', published: 'ocindex_' }[group];
  return {
    code: prefix + slug(column),
    name: group === 'published' ? `${column} (GI-TOC published average)` : `${column} (GI-TOC)`,
    column,
    group,
    editions,
    unit: UNIT,
    crimeArea: group === 'resilience' ? 'resilience' : group === 'published' ? 'context' : 'organised_crime',
    polarity: group === 'resilience' ? 'higher_better' : 'higher_worse',
    description:
      group === 'published'
        ? `GI-TOC's published ${column.toLowerCase()} average, rounded to 2 decimals; kept for validation, not scored.`
        : `GI-TOC expert score of ${column.toLowerCase()}, 1 (lowest) to 10 (highest).`,
    source: SOURCE,
    plausibleMin: 1,
    plausibleMax: 10,
  };
}

export const GOCI_INDICATORS: readonly GociIndicator[] = [
  goci('Human trafficking', 'market', ALL),
  goci('Human smuggling', 'market', ALL),
  goci('Extortion and protection racketeering', 'market', SINCE_2023),
  goci('Arms trafficking', 'market', ALL),
  goci('Trade in counterfeit goods', 'market', SINCE_2023),
  goci('Illicit trade in excisable goods', 'market', SINCE_2023),
  goci('Flora crimes', 'market', ALL),
  goci('Fauna crimes', 'market', ALL),
  goci('Non-renewable resource crimes', 'market', ALL),
  goci('Heroin trade', 'market', ALL),
  goci('Cocaine trade', 'market', ALL),
  goci('Cannabis trade', 'market', ALL),
  goci('Synthetic drug trade', 'market', ALL),
  goci('Cyber-dependent crimes', 'market', SINCE_2023),
  goci('Financial crimes', 'market', SINCE_2023),
  goci('Mafia-style groups', 'actor', ALL),
  goci('Criminal networks', 'actor', ALL),
  goci('State-embedded actors', 'actor', ALL),
  goci('Foreign actors', 'actor', ALL),
  goci('Private sector actors', 'actor', SINCE_2023),
  goci('Political leadership and governance', 'resilience', ALL),
  goci('Government transparency and accountability', 'resilience', ALL),
  goci('International cooperation', 'resilience', ALL),
  goci('National policies and laws', 'resilience', ALL),
  goci('Judicial system and detention', 'resilience', ALL),
  goci('Law enforcement', 'resilience', ALL),
  goci('Territorial integrity', 'resilience', ALL),
  goci('Anti-money laundering', 'resilience', ALL),
  goci('Economic regulatory capacity', 'resilience', ALL),
  goci('Victim and witness support', 'resilience', ALL),
  goci('Prevention', 'resilience', ALL),
  goci('Non-state actors', 'resilience', ALL),
  goci('Criminality', 'published', ALL),
  goci('Criminal markets', 'published', ALL),
  goci('Criminal actors', 'published', ALL),
  goci('Resilience', 'published', ALL),
];
