/**
 * The indicators of the SYNTHETIC demo panel. Codes, units and ranges follow the real sources
 * they imitate (UNODC rates per 100,000, GI-TOC 1-10 scores, WGI estimates), so that the demo
 * exercises the same paths as real data. Context indicators (population) are never scored; their
 * polarity is required by the type but means nothing.
 */
import type { CrimeArea, IndicatorDefinition, Polarity } from '../../engine/types.ts';

const SOURCE = 'SYNTHETIC demo generator';
const PER_100K = 'per 100,000 population';
const KG_PER_100K = 'kg per 100,000 population';
const GOCI_SCALE = 'score 1-10 (GI-TOC scale)';

function indicator(
  code: string,
  name: string,
  unit: string,
  crimeArea: CrimeArea,
  polarity: Polarity,
  plausible: [number, number],
  description: string,
): IndicatorDefinition {
  return { code, name, unit, crimeArea, polarity, description, source: SOURCE, plausibleMin: plausible[0], plausibleMax: plausible[1] };
}

export const DEMO_INDICATORS: readonly IndicatorDefinition[] = [
  indicator('homicide_rate', 'Intentional homicide rate', PER_100K, 'homicide', 'higher_worse', [0, 100], 'Victims of intentional homicide per 100,000 population (UNODC definition).'),
  indicator('homicide_attempted_rate', 'Attempted intentional homicide', PER_100K, 'homicide', 'higher_worse', [0, 200], 'Police-recorded attempted intentional homicides per 100,000 population.'),
  indicator('homicide_oc_share', 'Homicides linked to organised crime', 'percent of homicides', 'homicide', 'higher_worse', [0, 100], 'Share of intentional homicides attributed to organised criminal groups or gangs.'),
  indicator('drug_offences_rate', 'Drug trafficking offences', PER_100K, 'drugs', 'higher_worse', [0, 2000], 'Police-recorded drug trafficking offences per 100,000 population.'),
  indicator('seizures_cocaine_kg_per_100k', 'Cocaine seizures', KG_PER_100K, 'drugs', 'higher_worse', [0, 100000], 'Cocaine-type substances seized, kilograms per 100,000 population.'),
  indicator('seizures_cannabis_kg_per_100k', 'Cannabis seizures', KG_PER_100K, 'drugs', 'higher_worse', [0, 100000], 'Cannabis-type substances seized, kilograms per 100,000 population.'),
  indicator('seizures_synthetic_kg_per_100k', 'Synthetic drug seizures', KG_PER_100K, 'drugs', 'higher_worse', [0, 100000], 'Amphetamine-type stimulants and new psychoactive substances seized, kilograms per 100,000 population.'),
  indicator('seizures_heroin_kg_per_100k', 'Heroin seizures', KG_PER_100K, 'drugs', 'higher_worse', [0, 100000], 'Heroin and other opiates seized, kilograms per 100,000 population.'),
  indicator('tip_victims_rate', 'Detected victims of trafficking in persons', PER_100K, 'trafficking_in_persons', 'higher_worse', [0, 500], 'Detected victims of trafficking in persons per 100,000 population (UNODC GLOTIP definition).'),
  indicator('tip_prosecutions_rate', 'Persons prosecuted for trafficking in persons', PER_100K, 'trafficking_in_persons', 'higher_worse', [0, 200], 'Persons prosecuted for trafficking in persons per 100,000 population.'),
  indicator('tip_convictions_rate', 'Persons convicted of trafficking in persons', PER_100K, 'trafficking_in_persons', 'higher_worse', [0, 100], 'Persons convicted of trafficking in persons per 100,000 population.'),
  indicator('firearms_seized_rate', 'Firearms seized', PER_100K, 'firearms', 'higher_worse', [0, 5000], 'Firearms seized by law enforcement per 100,000 population.'),
  indicator('firearms_trafficking_offences_rate', 'Illicit firearms trafficking offences', PER_100K, 'firearms', 'higher_worse', [0, 200], 'Police-recorded offences of illicit manufacturing of or trafficking in firearms per 100,000 population.'),
  indicator('firearm_homicide_share', 'Homicides by firearm', 'percent of homicides', 'firearms', 'higher_worse', [0, 100], 'Share of intentional homicides committed with a firearm.'),
  indicator('cyber_offences_rate', 'Cyber-dependent offences', PER_100K, 'cybercrime', 'higher_worse', [0, 10000], 'Unlawful access, interception or interference with computer systems per 100,000 population.'),
  indicator('cyber_fraud_rate', 'Cyber-related fraud', PER_100K, 'cybercrime', 'higher_worse', [0, 20000], 'Police-recorded fraud offences committed online per 100,000 population.'),
  indicator('cyber_extortion_rate', 'Cyber extortion', PER_100K, 'cybercrime', 'higher_worse', [0, 2000], 'Police-recorded ransomware and online extortion offences per 100,000 population.'),
  indicator('bribery_offences_rate', 'Bribery offences', PER_100K, 'corruption', 'higher_worse', [0, 1000], 'Police-recorded bribery offences per 100,000 population.'),
  indicator('money_laundering_rate', 'Money-laundering offences', PER_100K, 'corruption', 'higher_worse', [0, 1000], 'Police-recorded money-laundering offences per 100,000 population.'),
  indicator('corruption_perception', 'Perceived integrity of the public sector', 'score 0-100', 'corruption', 'higher_better', [0, 100], 'Expert and survey perception of public-sector integrity; higher is cleaner.'),
  indicator('goci_market_human_trafficking', 'Human trafficking market', GOCI_SCALE, 'organised_crime', 'higher_worse', [1, 10], 'Expert score of the human-trafficking criminal market (GI-TOC method), published in 2021 and 2023.'),
  indicator('goci_market_arms_trafficking', 'Arms trafficking market', GOCI_SCALE, 'organised_crime', 'higher_worse', [1, 10], 'Expert score of the arms-trafficking criminal market.'),
  indicator('goci_market_cocaine', 'Cocaine trade', GOCI_SCALE, 'organised_crime', 'higher_worse', [1, 10], 'Expert score of the cocaine criminal market.'),
  indicator('goci_market_synthetic_drugs', 'Synthetic drug trade', GOCI_SCALE, 'organised_crime', 'higher_worse', [1, 10], 'Expert score of the synthetic-drug criminal market.'),
  indicator('goci_actor_criminal_networks', 'Criminal networks', GOCI_SCALE, 'organised_crime', 'higher_worse', [1, 10], 'Expert score of the influence of criminal networks.'),
  indicator('goci_actor_state_embedded', 'State-embedded actors', GOCI_SCALE, 'organised_crime', 'higher_worse', [1, 10], 'Expert score of the influence of state-embedded criminal actors.'),
  indicator('burglary_rate', 'Burglary', PER_100K, 'property', 'higher_worse', [0, 5000], 'Police-recorded burglaries per 100,000 population.'),
  indicator('theft_rate', 'Theft', PER_100K, 'property', 'higher_worse', [0, 15000], 'Police-recorded thefts (excluding burglary and vehicle theft) per 100,000 population.'),
  indicator('robbery_rate', 'Robbery', PER_100K, 'property', 'higher_worse', [0, 2000], 'Police-recorded robberies per 100,000 population.'),
  indicator('vehicle_theft_rate', 'Theft of a motor vehicle', PER_100K, 'property', 'higher_worse', [0, 3000], 'Police-recorded thefts of motor vehicles per 100,000 population.'),
  indicator('goci_res_law_enforcement', 'Law enforcement (resilience)', GOCI_SCALE, 'resilience', 'higher_better', [1, 10], 'Expert score of law-enforcement capacity against organised crime.'),
  indicator('goci_res_judicial', 'Judicial system and detention (resilience)', GOCI_SCALE, 'resilience', 'higher_better', [1, 10], 'Expert score of the judicial system and detention.'),
  indicator('goci_res_aml', 'Anti-money laundering (resilience)', GOCI_SCALE, 'resilience', 'higher_better', [1, 10], 'Expert score of anti-money-laundering capacity.'),
  indicator('goci_res_international_cooperation', 'International cooperation (resilience)', GOCI_SCALE, 'resilience', 'higher_better', [1, 10], 'Expert score of international cooperation against organised crime.'),
  indicator('wgi_rule_of_law', 'Rule of law', 'estimate -2.5 to 2.5', 'governance', 'higher_better', [-2.5, 2.5], 'Worldwide Governance Indicators-style estimate; higher is better.'),
  indicator('wgi_control_of_corruption', 'Control of corruption', 'estimate -2.5 to 2.5', 'governance', 'higher_better', [-2.5, 2.5], 'Worldwide Governance Indicators-style estimate; higher is better.'),
  indicator('wgi_government_effectiveness', 'Government effectiveness', 'estimate -2.5 to 2.5', 'governance', 'higher_better', [-2.5, 2.5], 'Worldwide Governance Indicators-style estimate; higher is better.'),
  // Context: a covariate, never scored, so its polarity is only there because the type requires one.
  indicator('population', 'Population', 'persons', 'context', 'higher_worse', [100, 2e9], 'Total population; used to turn counts into rates, never scored.'),
];
