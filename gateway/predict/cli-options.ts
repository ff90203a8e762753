/**
 * Options of `tillgate predict replay|train|eval|simulate` (DESIGN §3.5, §3.7): one schema per
 * subcommand for flags, `TILLGATE_*` env vars and a config file (lib/config.ts). Data comes from a
 * §3.7 file (`--input`) or the fleet simulator (`--seeds`); fleets are bounded (sim/fleet.ts).
 */
import { z } from 'zod';
import type { OptionSpecs } from '../../lib/config.js';
import { DEFAULT_SCORER_MAX_SUBJECTS } from './scorer.js';
import { DEFAULT_FLEET, MAX_FLEET_DAYS, MAX_FLEET_STORES, MAX_FLEET_TERMINALS_PER_STORE } from './sim/fleet.js';
import { DEFAULT_TRAIN } from './train/train.js';

/** Most seeds one command simulates: each is a whole fleet. */
export const MAX_SEEDS = 64;
/** The seeds the shipped model was trained on; held-out evaluations must use others. */
export const DEFAULT_TRAIN_SEEDS = [1, 2] as const;
/**
 * Seeds of the documented held-out evaluation: never used in training or in choosing a model.
 * Eight fleets (864 failures at 20 stores × 5 terminals × 14 days), so that recall is known to
 * about ±0.02 (one standard error) rather than ±0.04 with two.
 */
export const DEFAULT_EVAL_SEEDS = [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008] as const;

const seedList = z
  .array(z.string().regex(/^\d{1,9}$/, 'seeds are whole numbers').transform(Number))
  .min(1)
  .max(MAX_SEEDS);

const fleetShape = {
  seeds: seedList.optional(),
  stores: z.number().int().min(1).max(MAX_FLEET_STORES).default(DEFAULT_FLEET.stores),
  terminalsPerStore: z.number().int().min(1).max(MAX_FLEET_TERMINALS_PER_STORE).default(DEFAULT_FLEET.terminalsPerStore),
  days: z.number().positive().max(MAX_FLEET_DAYS).default(DEFAULT_FLEET.days),
  sampleIntervalS: z.number().min(1).max(3_600).default(DEFAULT_FLEET.sampleIntervalMs / 1000),
};

const fleetSpecs: OptionSpecs = {
  seeds: { type: 'list', doc: 'simulate fleets with these seeds instead of reading --input (e.g. 1,2,3)' },
  stores: { type: 'number', doc: `simulated stores per seed (default ${DEFAULT_FLEET.stores}, at most ${MAX_FLEET_STORES})` },
  terminalsPerStore: { type: 'number', doc: `simulated terminals per store (default ${DEFAULT_FLEET.terminalsPerStore})` },
  days: { type: 'number', doc: `simulated days (default ${DEFAULT_FLEET.days})` },
  sampleIntervalS: { type: 'number', doc: `seconds between a simulated terminal's health samples (default ${DEFAULT_FLEET.sampleIntervalMs / 1000})` },
};

const inputOrSeeds = (o: { input?: string | undefined; seeds?: number[] | undefined }) => (o.input === undefined) !== (o.seeds === undefined);
const INPUT_OR_SEEDS = { path: ['input'], message: 'give --input FILE or --seeds (one of them)' };

export const replaySpecs: OptionSpecs = {
  input: { type: 'string', doc: 'JSON-lines file of §3.7 records in time order ("-" = standard input)' },
  model: { type: 'string', doc: 'risk model JSON (default: the model shipped with tillgate)' },
  maxSubjects: { type: 'number', doc: `terminals and WAN links tracked at once (default ${DEFAULT_SCORER_MAX_SUBJECTS})` },
};
export const replaySchema = z.object({
  input: z.string().min(1),
  model: z.string().min(1).optional(),
  maxSubjects: z.number().int().min(1).max(1_000_000).default(DEFAULT_SCORER_MAX_SUBJECTS),
});

export const trainSpecs: OptionSpecs = {
  input: { type: 'string', doc: 'JSON-lines file of §3.7 records to learn from' },
  ...fleetSpecs,
  output: { type: 'string', doc: 'where to write the model JSON' },
  seed: { type: 'number', doc: 'seed of the negative-sample draw (training is deterministic for a seed; default 1)' },
  l2: { type: 'number', doc: `L2 penalty per unit of sample weight (default ${DEFAULT_TRAIN.l2})` },
  negativeRate: { type: 'number', doc: `share of negative samples kept (default ${DEFAULT_TRAIN.negativeRate})` },
  precisionTarget: { type: 'number', doc: `warning thresholds: the most failures caught at this precision on the training data (default ${DEFAULT_TRAIN.precisionTarget})` },
  report: { type: 'string', doc: 'also write the threshold sweep the thresholds were chosen from (JSON) to this file' },
};
export const trainSchema = z
  .object({
    input: z.string().min(1).optional(),
    ...fleetShape,
    output: z.string().min(1),
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
    l2: z.number().min(0).max(10).default(DEFAULT_TRAIN.l2),
    negativeRate: z.number().gt(0).max(1).default(DEFAULT_TRAIN.negativeRate),
    precisionTarget: z.number().gt(0).max(1).default(DEFAULT_TRAIN.precisionTarget),
    report: z.string().min(1).optional(),
  })
  .refine(inputOrSeeds, INPUT_OR_SEEDS);

export const evalSpecs: OptionSpecs = {
  input: { type: 'string', doc: 'JSON-lines file of §3.7 records to evaluate on' },
  ...fleetSpecs,
  model: { type: 'string', doc: 'evaluate this model ("default": the shipped one) on all of the data; without it, train on the first part and evaluate on the rest' },
  trainFraction: { type: 'number', doc: 'without --model: the share of the time span trained on (default 0.5)' },
  seed: { type: 'number', doc: 'training seed for the time split (default 1)' },
  json: { type: 'boolean', doc: 'print the whole report as JSON instead of a table' },
};
export const evalSchema = z
  .object({
    input: z.string().min(1).optional(),
    ...fleetShape,
    model: z.string().min(1).optional(),
    trainFraction: z.number().gt(0).lt(1).default(0.5),
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
    json: z.boolean().default(false),
  })
  .refine(inputOrSeeds, INPUT_OR_SEEDS);

export const simulateFleetSpecs: OptionSpecs = {
  ...fleetSpecs,
  output: { type: 'string', doc: 'where to write the §3.7 JSON lines ("-" = standard output)' },
};
export const simulateFleetSchema = z.object({ ...fleetShape, seeds: seedList, output: z.string().min(1) });
