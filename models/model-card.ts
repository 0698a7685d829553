/**
 * A model card per trained version (after Mitchell et al., "Model Cards for Model Reporting",
 * FAT* 2019): what the model is for and not for, the data it was trained on and that data's
 * version, its metrics, its limitations, and everything needed to train it again (hyperparameters,
 * seed, code version). Stored as JSON in `models.model_card`; rendered as Markdown for people.
 */

export const MODEL_CARD_SCHEMA = 'threatlens.model-card/1';

export interface TrainingDataSummary {
  /** The store's data version (or the demo's seed) the model was trained on. */
  readonly dataVersion: string;
  readonly description: string;
  /** Rows (entity x period) and columns (indicators) of the training panel. */
  readonly rows: number;
  readonly columns: number;
  readonly indicators: readonly string[];
  readonly entities: number;
  readonly periods: { readonly from: string; readonly to: string } | null;
  /** Share of cells that were missing (imputed as input, excluded from the loss). */
  readonly missingShare: number;
}

export interface ModelCard {
  readonly schema: typeof MODEL_CARD_SCHEMA;
  readonly name: string;
  readonly type: string;
  /** The detector name its scores carry (`CellScore.detector`). */
  readonly detector: string;
  readonly description: string;
  readonly intendedUse: string;
  readonly notIntendedFor: readonly string[];
  readonly trainingData: TrainingDataSummary;
  readonly metrics: Record<string, unknown>;
  readonly hyperparameters: Record<string, unknown>;
  readonly seed: number;
  readonly codeVersion: string;
  readonly trainedBy: string;
  readonly createdAt: string;
  readonly limitations: readonly string[];
}

export interface ModelCardInput {
  readonly name: string;
  readonly type: string;
  readonly detector: string;
  readonly description: string;
  readonly intendedUse: string;
  readonly notIntendedFor: readonly string[];
  readonly limitations: readonly string[];
  readonly trainingData: TrainingDataSummary;
  readonly metrics: Record<string, unknown>;
  readonly hyperparameters: Record<string, unknown>;
  readonly seed: number;
  readonly codeVersion: string;
  readonly trainedBy: string;
  readonly createdAt?: Date;
}

export function buildModelCard(input: ModelCardInput): ModelCard {
  return {
    schema: MODEL_CARD_SCHEMA,
    name: input.name,
    type: input.type,
    detector: input.detector,
    description: input.description,
    intendedUse: input.intendedUse,
    notIntendedFor: [...input.notIntendedFor],
    trainingData: { ...input.trainingData, indicators: [...input.trainingData.indicators] },
    metrics: input.metrics,
    hyperparameters: input.hyperparameters,
    seed: input.seed,
    codeVersion: input.codeVersion,
    trainedBy: input.trainedBy,
    createdAt: (input.createdAt ?? new Date()).toISOString(),
    limitations: [...input.limitations],
  };
}

/** True when a stored `model_card` has this module's shape (older or foreign cards are shown raw). */
export function isModelCard(value: unknown): value is ModelCard {
  return typeof value === 'object' && value !== null && (value as { schema?: unknown }).schema === MODEL_CARD_SCHEMA;
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(4);
  if (value === null || value === undefined) return 'n/a';
  if (typeof value === 'string') return value;
  return `\`${JSON.stringify(value)}\``;
}

/** Rows "key | value" of a flat record; nested objects are shown as inline JSON, arrays of numbers by length. */
function table(record: Record<string, unknown>): string[] {
  const entries = Object.entries(record).filter(([, v]) => !(Array.isArray(v) && v.length > 12));
  if (entries.length === 0) return ['(none)'];
  return ['| | |', '|---|---|', ...entries.map(([k, v]) => `| ${k} | ${formatValue(v).replace(/\|/g, '\\|')} |`)];
}

/** The card as Markdown; `version` and `status` come from the registry row, not the card. */
export function modelCardMarkdown(card: ModelCard, registry: { version?: number; status?: string } = {}): string {
  const title = `# Model card: ${card.name}${registry.version !== undefined ? ` v${registry.version}` : ''}`;
  const d = card.trainingData;
  const lines = [
    title,
    '',
    `Type \`${card.type}\` (detector \`${card.detector}\`)${registry.status ? `, status **${registry.status}**` : ''}. ` +
      `Trained by ${card.trainedBy} on ${card.createdAt.slice(0, 10)}, code version \`${card.codeVersion}\`, seed ${card.seed}.`,
    '',
    card.description,
    '',
    '## Intended use',
    '',
    card.intendedUse,
    '',
    ...(card.notIntendedFor.length ? ['Not intended for:', '', ...card.notIntendedFor.map((n) => `- ${n}`), ''] : []),
    '## Training data',
    '',
    `${d.description} Data version \`${d.dataVersion}\`: ${d.rows} rows (entity x period) x ${d.columns} indicators, ` +
      `${d.entities} entities${d.periods ? `, periods ${d.periods.from} to ${d.periods.to}` : ''}, ` +
      `${(d.missingShare * 100).toFixed(1)}% of cells missing (imputed as input, left out of the loss).`,
    '',
    `Indicators: ${d.indicators.join(', ')}.`,
    '',
    '## Metrics',
    '',
    ...table(card.metrics),
    '',
    '## Hyperparameters',
    '',
    ...table(card.hyperparameters),
    '',
    '## Limitations',
    '',
    ...card.limitations.map((l) => `- ${l}`),
    '',
  ];
  return lines.join('\n');
}
