/**
 * The risk model: per subject kind (terminal, WAN) a few small experts, one per family of warning
 * signs (a terminal's battery, its link, the device itself; the WAN), each an L2-regularized
 * logistic regression over its detectors' features and hinges of them,
 * `risk = sigmoid(bias + Σ w·(b(x) − mean)/scale)` where each basis term `b` is a feature `x_j` or
 * a hinge `max(0, x_j − knot)` (knots where the healthy fleet's values thin out: an additive model,
 * still linear in its weights), with its own alert thresholds chosen when it was trained. Families
 * differ in how often their signs come to nothing (a low battery is usually docked in time; a
 * fading signal rarely recovers), so each warns at its own threshold; a subject's level is its
 * highest family's. A versioned JSON file (`tillgate predict train` writes one; the package ships
 * `default-model.json`); loading validates it and checks that its features are the ones this code
 * computes, in the same order.
 */
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { TillgateError } from '../../../protocol/errors.js';
import { TERMINAL_FEATURES } from '../features/terminal.js';
import { WAN_FEATURES } from '../features/wan.js';

export const MODEL_FORMAT = 'tillgate-risk-model';
export const MODEL_FORMAT_VERSION = 2;
/** Largest model file read: a model is a few KiB. */
export const MAX_MODEL_BYTES = 1024 * 1024;

export const MODEL_CODES = { invalid: 'MODEL_INVALID', mismatch: 'MODEL_MISMATCH', tooLarge: 'MODEL_TOO_LARGE' } as const;

const probability = z.number().min(0).max(1);

export const alertParamsSchema = z.object({
  /** Risk at or above which a warning is raised (after `confirmMs`). */
  warnAt: probability,
  /** Risk at or above which it is critical. */
  criticalAt: probability,
  /** Risk below which it clears (after `clearMs`): below `warnAt`, so it does not flap. */
  clearAt: probability,
  confirmMs: z.number().int().min(0).max(3_600_000),
  clearMs: z.number().int().min(0).max(86_400_000),
});
export type AlertParams = z.infer<typeof alertParamsSchema>;

const familyModelSchema = z
  .object({
    /** What kind of trouble this expert reads: `battery`, `link`, `device`, `wan`. */
    name: z.string().min(1).max(32).regex(/^[a-z]+$/),
    /** Basis terms: `[featureIndex, knot]` into the kind's features, knot null for the feature itself. */
    basis: z.array(z.tuple([z.number().int().min(0).max(63), z.number().nullable()])).max(256),
    mean: z.array(z.number()).max(256),
    scale: z.array(z.number().positive()).max(256),
    weights: z.array(z.number()).max(256),
    bias: z.number(),
    alerts: alertParamsSchema,
  })
  .refine((m) => m.mean.length === m.basis.length && m.scale.length === m.basis.length && m.weights.length === m.basis.length, 'basis, mean, scale and weights must have one entry per basis term')
  .refine((m) => m.alerts.clearAt <= m.alerts.warnAt && m.alerts.warnAt <= m.alerts.criticalAt, 'clearAt ≤ warnAt ≤ criticalAt');
export type FamilyModel = z.infer<typeof familyModelSchema>;

const subjectModelSchema = z
  .object({
    features: z.array(z.string().max(64)).max(64),
    families: z.array(familyModelSchema).min(1).max(8),
  })
  .refine((m) => m.families.every((f) => f.basis.every(([j]) => j < m.features.length)), 'a basis term names a feature that is not listed');
export type SubjectModel = z.infer<typeof subjectModelSchema>;

export const riskModelSchema = z
  .object({
    format: z.literal(MODEL_FORMAT),
    formatVersion: z.literal(MODEL_FORMAT_VERSION),
    /** Shown in /metrics and the status page; changes with every trained model. */
    version: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/),
    /** How it was trained (seeds, fleet size, figures): for people, not for scoring. */
    trained: z.record(z.string(), z.unknown()),
    terminal: subjectModelSchema,
    wan: subjectModelSchema,
  })
  .loose();
export type RiskModel = z.infer<typeof riskModelSchema>;

/** Validates a model and checks that it reads the features this code computes. */
export function parseModel(value: unknown): RiskModel {
  const parsed = riskModelSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TillgateError(MODEL_CODES.invalid, `not a risk model: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
  }
  const m = parsed.data;
  for (const [kind, expected] of [['terminal', TERMINAL_FEATURES], ['wan', WAN_FEATURES]] as const) {
    const got = m[kind].features;
    if (got.length !== expected.length || got.some((f, i) => f !== expected[i])) {
      throw new TillgateError(MODEL_CODES.mismatch, `the model's ${kind} features are not the ones this version computes (retrain it with tillgate predict train)`);
    }
  }
  return m;
}

export async function loadModelFile(path: string): Promise<RiskModel> {
  const size = (await stat(path)).size;
  if (size > MAX_MODEL_BYTES) throw new TillgateError(MODEL_CODES.tooLarge, `model file is larger than ${MAX_MODEL_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new TillgateError(MODEL_CODES.invalid, 'model file is not JSON', { cause });
  }
  return parseModel(json);
}

/** Basis term `k` of features `x`. */
export function basisValue(term: readonly [number, number | null], x: ArrayLike<number>): number {
  const v = x[term[0]]!;
  return term[1] === null ? v : v > term[1] ? v - term[1] : 0;
}

/** The linear score (log-odds) of features `x`. */
export function logOdds(m: FamilyModel, x: Float64Array): number {
  let z = m.bias;
  const { basis, mean, scale, weights } = m;
  for (let k = 0; k < weights.length; k++) z += weights[k]! * ((basisValue(basis[k]!, x) - mean[k]!) / scale[k]!);
  return z;
}

export function riskOf(m: FamilyModel, x: Float64Array): number {
  const z = logOdds(m, x);
  return 1 / (1 + Math.exp(-z));
}

/** Each feature's share of the log-odds (its terms together) relative to an average sample (for reasons). */
export function contributions(m: FamilyModel, x: Float64Array, features: number): Float64Array {
  const out = new Float64Array(features);
  for (let k = 0; k < m.weights.length; k++) {
    const term = m.basis[k]!;
    out[term[0]]! += m.weights[k]! * ((basisValue(term, x) - m.mean[k]!) / m.scale[k]!);
  }
  return out;
}
