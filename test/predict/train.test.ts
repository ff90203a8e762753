/** Training: the same records and seed give the same model, byte for byte; a fitted model loads and scores. */
import { describe, expect, it } from 'vitest';
import { fitLogistic } from '../../gateway/predict/train/logistic.js';
import { parseModel } from '../../gateway/predict/model/model.js';
import { simSource } from '../../gateway/predict/sources.js';
import { chooseThresholds, DEFAULT_TRAIN, SILENT_WARN_AT, train } from '../../gateway/predict/train/train.js';
import type { SweepPoint } from '../../gateway/predict/eval/evaluate.js';
import { normal, seededRandom } from '../../lib/random.js';
import { codeOf } from '../support/codes.js';
import { testModel } from './support/test-model.js';

const FLEET = { stores: 2, terminalsPerStore: 4, days: 2, startMs: Date.UTC(2026, 0, 5), sampleIntervalMs: 30_000 };

describe('training', () => {
  it('logistic - recovers the weights of data drawn from a known logistic model', () => {
    const r = seededRandom(9);
    const n = 20_000;
    const x = new Float64Array(n * 2);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x[i * 2] = normal(r);
      x[i * 2 + 1] = normal(r);
      y[i] = r() < 1 / (1 + Math.exp(-(-2 + 1.5 * x[i * 2]! - 1 * x[i * 2 + 1]!))) ? 1 : 0;
    }
    const fit = fitLogistic({ x, y, w: new Float64Array(n).fill(1), rows: n, dims: 2 }, { l2: 0, maxIterations: 50, tolerance: 1e-10 });
    expect(fit.weights[0]! / fit.scale[0]!).toBeCloseTo(1.5, 1);
    expect(fit.weights[1]! / fit.scale[1]!).toBeCloseTo(-1, 1);
  });

  it('train - is deterministic for a seed, and the model it writes loads again', async () => {
    const options = { ...DEFAULT_TRAIN, seed: 7, negativeRate: 0.02 };
    const source = simSource([31], FLEET, { cache: true });
    const a = await train(source, options);
    const b = await train(simSource([31], FLEET), options);
    expect(JSON.stringify(a.model)).toBe(JSON.stringify(b.model));
    expect(parseModel(JSON.parse(JSON.stringify(a.model)))).toEqual(a.model);
    expect(a.model.version).toMatch(/^v2-s7-[0-9a-f]{8}$/);
    const other = await train(source, { ...options, seed: 8 });
    expect(other.model.version).not.toBe(a.model.version);
  }, 120_000);

  it('thresholds - count a failure two families both caught once, so a family that only repeats another stays silent', () => {
    const point = (warnAt: number, alerts: number, trueAlerts: number, detected: number): SweepPoint => ({ warnAt, alerts, trueAlerts, detected, failures: 10, precision: trueAlerts / alerts, recall: detected / 10 });
    // Family A catches failures 0–5 with 6 true alerts of 7; family B catches 0–3 again, and 9 alerts of its 12 are true.
    const a = [point(0.5, 7, 6, 6)];
    const b = [point(0.5, 12, 9, 4)];
    const flags = (caught: number[]) => Uint8Array.from({ length: 10 }, (_, i) => (caught.includes(i) ? 1 : 0));
    // Added up, B looks like 4 more catches at a precision the target allows (15/19 ≥ 0.75)…
    expect(chooseThresholds([a, b], 0.75)).toEqual([0.5, 0.5]);
    // …but it catches nothing A does not: with the failures named, B stays silent.
    expect(chooseThresholds([a, b], 0.75, [[flags([0, 1, 2, 3, 4, 5])], [flags([0, 1, 2, 3])]])).toEqual([0.5, SILENT_WARN_AT]);
    // A family that catches failures nobody else does is still taken.
    expect(chooseThresholds([a, b], 0.75, [[flags([0, 1, 2, 3, 4, 5])], [flags([6, 7, 8, 9])]])).toEqual([0.5, 0.5]);
  });

  it('model - refuses a file that is not a model, or whose features this code does not compute', () => {
    const model = testModel();
    expect(codeOf(() => parseModel({ format: 'something else' }))).toBe('MODEL_INVALID');
    expect(codeOf(() => parseModel({ ...model, terminal: { ...model.terminal, features: [...model.terminal.features].reverse() } }))).toBe('MODEL_MISMATCH');
  });
});
