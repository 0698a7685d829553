/**
 * `threatlens train|models|jobs|anomalies`: the model lifecycle and the detections from the
 * command line. Training runs here, in a worker thread, as a job in the store (so the API's
 * `GET /v1/jobs/:id` shows it too), with a progress bar on stderr.
 */
import { Option, type Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { ThreatLensError } from '../engine/errors.ts';
import type { Store } from '../engine/store/database.ts';
import { getJob, jobView, listJobs, requestJobCancel } from '../engine/store/jobs.ts';
import { getModel, listModels, promoteModel, rollbackModel } from '../engine/store/models.ts';
import { queryAnomalies, type FlagSeverity } from '../engine/store/anomalies.ts';
import { JobRunner } from '../models/job-runner.ts';
import { currentDetections } from '../models/detection.ts';
import { isModelCard, modelCardMarkdown } from '../models/model-card.ts';
import { MODEL_TYPES } from '../models/registry.ts';
import { queueTraining, TRAIN_JOB_KIND, trainingJobHandler } from '../models/training-job.ts';
import { ALL_DATA } from '../engine/access/roles.ts';

type WithStore = <T>(work: (store: Store) => Promise<T>) => Promise<T>;

const actor = () => `cli:${process.env.USER ?? 'unknown'}`;
const stderr = (line: string) => process.stderr.write(`${line}\n`);

function parseJsonOption(name: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ThreatLensError('TL_BAD_OPTION', `${name} is not valid JSON (${(error as Error).message}): ${text}`);
  }
}

/** CSV columns of `threatlens anomalies --format csv`. */
export const ANOMALY_CSV_COLUMNS = ['entity', 'indicator', 'period', 'detector', 'score', 'severity'] as const;

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function registerModelCommands(program: Command, withStore: WithStore, integer: (name: string) => (text: string) => number): void {
  program
    .command('train')
    .description(`train a new version of a model on the current data and register it as a candidate (types: ${Object.keys(MODEL_TYPES).join(', ')})`)
    .argument('<model>', 'registry name, e.g. autoencoder or isolation-forest (the type unless --type says otherwise)')
    .option('--type <type>', 'model type, for a new name')
    .option('--params <json>', 'hyperparameters as JSON, e.g. \'{"epochs": 50}\' (defaults for the rest)')
    .option('--seed <n>', 'seed (recorded with the version)', integer('seed'))
    .action(async (model: string, opts: { type?: string; params?: string; seed?: number }) => {
      await withStore(async (store) => {
        const job = await queueTraining(store, {
          name: model,
          ...(opts.type !== undefined ? { type: opts.type } : {}),
          ...(opts.params !== undefined ? { hyperparameters: parseJsonOption('--params', opts.params) } : {}),
          ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
          requestedBy: actor(),
        });
        stderr(`job ${job.id}: training ${model} (${(job.params as { type: string }).type}) on the current data`);
        const bar = process.stderr.isTTY
          ? new SingleBar({ format: '  {bar} {percentage}% | {message}', hideCursor: true }, Presets.shades_classic)
          : undefined;
        bar?.start(100, 0, { message: 'queued' });
        let lastLine = '';
        const runner = new JobRunner({
          store,
          handlers: {
            [TRAIN_JOB_KIND]: async (claimed, context) =>
              trainingJobHandler(claimed, {
                ...context,
                progress: async (update) => {
                  if (bar) bar.update(Math.round(update.percent), { message: update.message ?? '' });
                  else if (update.message && update.message !== lastLine) {
                    lastLine = update.message;
                    stderr(`  ${Math.round(update.percent)}% ${update.message}`);
                  }
                  return context.progress(update);
                },
              }),
          },
          progressEveryMs: 200,
        });
        // Ctrl-C cancels the job (nothing is registered) instead of leaving it "running".
        const onSigint = () => void requestJobCancel(store.db, job.id);
        process.once('SIGINT', onSigint);
        try {
          await runner.runOne();
        } finally {
          process.off('SIGINT', onSigint);
          bar?.stop();
        }
        const done = await getJob(store.db, job.id);
        console.log(JSON.stringify(jobView(done), null, 2));
        if (done.state !== 'succeeded') {
          throw new ThreatLensError('TL_BAD_OPTION', `job ${done.id} ${done.state}: ${done.error ?? ''}; the registry is unchanged`);
        }
      });
    });

  const models = program.command('models').description('the model registry: versions, promotion, rollback, model cards');
  models
    .command('list')
    .description('every version (newest first per name), with status and evaluation')
    .argument('[name]', 'only this model')
    .action(async (name?: string) => {
      await withStore(async (store) => {
        const rows = await listModels(store.db, name);
        console.log(
          JSON.stringify(
            rows.map((m) => ({ name: m.name, version: m.version, type: m.type, status: m.status, seed: m.seed, dataVersion: m.dataVersion, trainedBy: m.trainedBy, createdAt: m.createdAt, evaluation: (m.metrics as { evaluation?: unknown }).evaluation ?? null })),
            null,
            2,
          ),
        );
      });
    });
  models
    .command('card')
    .description('the model card of a version, as Markdown')
    .argument('<name>')
    .argument('<version>', 'version', integer('version'))
    .action(async (name: string, version: number) => {
      await withStore(async (store) => {
        const model = await getModel(store.db, name, version);
        if (!model) throw new ThreatLensError('TL_NOT_FOUND', `no model ${name} version ${version}`);
        if (!isModelCard(model.modelCard)) throw new ThreatLensError('TL_NOT_FOUND', `model ${name} version ${version} has no model card`);
        console.log(modelCardMarkdown(model.modelCard, { version, status: model.status }));
      });
    });
  models
    .command('promote')
    .description('make a version the production model (the current one is retired); audited')
    .argument('<name>')
    .argument('<version>', 'version', integer('version'))
    .action(async (name: string, version: number) => {
      await withStore(async (store) => console.log(JSON.stringify(await promoteModel(store.db, name, version, actor(), { role: 'operator' }), null, 2)));
    });
  models
    .command('rollback')
    .description('put the previous production version back; audited')
    .argument('<name>')
    .action(async (name: string) => {
      await withStore(async (store) => console.log(JSON.stringify(await rollbackModel(store.db, name, actor(), { role: 'operator' }), null, 2)));
    });

  const jobs = program.command('jobs').description('training jobs');
  jobs
    .command('list')
    .description('recent jobs, newest first')
    .action(async () => {
      await withStore(async (store) => console.log(JSON.stringify((await listJobs(store.db)).map(jobView), null, 2)));
    });
  jobs
    .command('show')
    .argument('<id>', 'job id', integer('id'))
    .action(async (id: number) => {
      await withStore(async (store) => console.log(JSON.stringify(jobView(await getJob(store.db, id)), null, 2)));
    });

  program
    .command('anomalies')
    .description('anomaly flags of the production detectors (run on the current store when no stored run is up to date)')
    .option('--entity <iso3>', 'one state')
    .option('--indicator <code>', 'one indicator')
    .option('--from <year>', 'first year', integer('from'))
    .option('--to <year>', 'last year', integer('to'))
    .addOption(new Option('--severity <level>', 'lowest severity shown').choices(['low', 'medium', 'high']).default('low'))
    .option('--detector <name>', 'ensemble (default), a member detector, or all', 'ensemble')
    .addOption(new Option('--format <format>', 'output').choices(['json', 'csv']).default('json'))
    .action(async (opts: { entity?: string; indicator?: string; from?: number; to?: number; severity: FlagSeverity; detector: string; format: 'json' | 'csv' }) => {
      await withStore(async (store) => {
        // The operator's command line reads every batch, as the other CLI commands do.
        const { run, fresh } = await currentDetections(store, { scope: ALL_DATA, actor: actor() });
        stderr(`anomaly run ${run.id} over data version ${run.dataVersion}${fresh ? ' (just computed)' : ' (stored, up to date)'}`);
        const flags = await queryAnomalies(store.db, {
          runId: run.id,
          severity: opts.severity,
          ...(opts.entity !== undefined ? { entity: opts.entity.toUpperCase() } : {}),
          ...(opts.indicator !== undefined ? { indicator: opts.indicator } : {}),
          ...(opts.from !== undefined ? { from: opts.from } : {}),
          ...(opts.to !== undefined ? { to: opts.to } : {}),
          ...(opts.detector !== 'all' ? { detector: opts.detector } : {}),
        });
        if (opts.format === 'csv') {
          const lines = [ANOMALY_CSV_COLUMNS.join(',')];
          for (const f of flags) lines.push([f.entity, f.indicator, f.period, f.detector, f.score.toFixed(6), f.severity].map(csvField).join(','));
          process.stdout.write(`${lines.join('\n')}\n`);
        } else {
          console.log(JSON.stringify({ run, flags: flags.map(({ runId: _r, ...f }) => f) }, null, 2));
        }
      });
    });
}
