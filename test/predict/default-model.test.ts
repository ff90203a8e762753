/**
 * The model the package ships is the one the documented command trains: its `trained` field
 * records the seeds, fleet and settings, and docs/failure-prediction.md gives the same command.
 * Training is deterministic for a seed (train.test.ts), so anyone can run that command and get
 * this file back byte for byte.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EVAL_SEEDS, DEFAULT_TRAIN_SEEDS } from '../../gateway/predict/cli-options.js';
import { defaultModel } from '../../gateway/predict/model/default.js';

const SHIPPED_COMMAND = `tillgate predict train --seeds ${DEFAULT_TRAIN_SEEDS.join(',')} --stores 20 --days 14 --negative-rate 0.01 --output gateway/predict/model/default-model.json`;
const HELD_OUT_COMMAND = `tillgate predict eval --seeds ${DEFAULT_EVAL_SEEDS.join(',')} --stores 20 --days 14 --model default`;

describe('shipped model', () => {
  it('default model - was trained by the command the documentation gives, on seeds the held-out evaluation does not use', () => {
    const trained = defaultModel().trained as { seeds?: number[]; fleet?: { stores: number; terminalsPerStore: number; days: number }; negativeRate?: number; seed?: number };
    expect(trained.seeds).toEqual([...DEFAULT_TRAIN_SEEDS]);
    expect(trained.fleet).toMatchObject({ stores: 20, terminalsPerStore: 5, days: 14 });
    expect(trained.negativeRate).toBe(0.01);
    expect(trained.seed).toBe(1);
    const doc = readFileSync(new URL('../../docs/failure-prediction.md', import.meta.url), 'utf8');
    expect(doc).toContain(SHIPPED_COMMAND);
    expect(doc).toContain(HELD_OUT_COMMAND);
    // The held-out seeds of the documented evaluation and of evaluation.test.ts.
    for (const seed of [...DEFAULT_EVAL_SEEDS, 2001]) expect(trained.seeds).not.toContain(seed);
  });
});
