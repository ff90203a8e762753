/**
 * `tillgate predict train`: fits the risk model on fleet data in the §3.7 format (a file, or the
 * simulator's seeds). Deterministic for a seed: the same records and seed give the same JSON.
 *  1. failures, by the §3.7 terms, from the records (eval/failures.ts);
 *  2. features at every record from the same detectors live scoring uses, labelled 1 when the
 *     subject fails 10 to 60 minutes later and 0 when it does not fail within 2 hours (the rest
 *     left out); every positive kept, negatives subsampled with the seed and weighted back up;
 *     records whose outcome is not known yet (the last 2 hours) left out;
 *  3. an L2 logistic regression per family of signs (train/logistic.ts);
 *  4. alert thresholds: every family's warning threshold at once, the combination that catches
 *     the most failures (each counted once) while all alerts together keep `precisionTarget` on
 *     this same data, by the §3.7 terms (eval/evaluate.ts's sweeps); critical at
 *     `criticalPrecision`. Held-out seeds, not this step, say how well it generalizes.
 */
import { createHash } from 'node:crypto';
import { seededRandom } from '../../../lib/random.js';
import { WARNING_MAX_LEAD_MS, WARNING_MIN_LEAD_MS } from '../../../protocol/prediction.js';
import { findFailures } from '../eval/failures.js';
import { evaluate, type EvalReport, type KindFigures, type SweepPoint } from '../eval/evaluate.js';
import { TERMINAL_FAMILIES, TERMINAL_FEATURES, TerminalDetectors } from '../features/terminal.js';
import { WAN_FAMILIES, WAN_FEATURES, WanDetectors } from '../features/wan.js';
import { basisValue, MODEL_FORMAT, MODEL_FORMAT_VERSION, parseModel, type AlertParams, type RiskModel, type SubjectModel } from '../model/model.js';
import type { RecordSource } from '../sources.js';
import { DEFAULT_LOGISTIC, fitLogistic, type Dataset } from './logistic.js';

export interface TrainOptions {
  readonly seed: number;
  readonly l2: number;
  /** Share of negative samples kept (all positives are kept). */
  readonly negativeRate: number;
  /** A sample is a positive when its subject fails within this long… */
  readonly positiveWithinMs: number;
  /** …but not sooner than this: a warning that late is not a true one (§3.7), so it is left out. */
  readonly positiveAfterMs: number;
  /** …and a negative when it does not fail within this long; in between it is left out. */
  readonly negativeBeyondMs: number;
  /** Only records before this are used (a time split); default all. */
  readonly untilMs?: number;
  readonly precisionTarget: number;
  readonly criticalPrecision: number;
  readonly confirmMs: number;
  readonly clearMs: number;
  /** `clearAt = warnAt × clearRatio`. */
  readonly clearRatio: number;
  /** Where hinges go: quantiles of each feature among negatives. */
  readonly knotQuantiles: readonly number[];
  /** Free-form facts kept in the model's `trained` field. */
  readonly describe?: Record<string, unknown>;
}

export const DEFAULT_TRAIN: Omit<TrainOptions, 'seed'> = Object.freeze({
  l2: DEFAULT_LOGISTIC.l2,
  negativeRate: 0.05,
  // Positives are the last hour before a failure, where the signs are, except its last 10 minutes:
  // a warning raised then is a false one by the §3.7 terms, so the model should learn the signs
  // that come early, not the ones that only show at the end. Negatives have no failure for 2 hours
  // (§3.7's horizon); what is between is left out rather than called either.
  positiveWithinMs: 60 * 60_000,
  positiveAfterMs: WARNING_MIN_LEAD_MS,
  negativeBeyondMs: 2 * 3_600_000,
  precisionTarget: 0.8,
  criticalPrecision: 0.9,
  // Two minutes above the threshold (of a risk smoothed over two minutes) before a warning: a
  // carried-off handheld or a burst of card
  // errors rarely lasts, and a real decline keeps going.
  confirmMs: 2 * 60_000,
  clearMs: 15 * 60_000,
  clearRatio: 0.6,
  knotQuantiles: [0.9, 0.99, 0.999],
});

/** Rows of one kind, grown in chunks. */
class RowBuilder {
  readonly dims: number;
  #x = new Float64Array(0);
  #y = new Uint8Array(0);
  #w = new Float64Array(0);
  rows = 0;
  positives = 0;
  constructor(dims: number) {
    this.dims = dims;
  }
  push(x: Float64Array, y: 0 | 1, w: number): void {
    if (this.rows === this.#y.length) {
      const cap = Math.max(1024, this.rows * 2);
      const nx = new Float64Array(cap * this.dims);
      nx.set(this.#x);
      const ny = new Uint8Array(cap);
      ny.set(this.#y);
      const nw = new Float64Array(cap);
      nw.set(this.#w);
      this.#x = nx;
      this.#y = ny;
      this.#w = nw;
    }
    this.#x.set(x, this.rows * this.dims);
    this.#y[this.rows] = y;
    this.#w[this.rows] = w;
    this.rows++;
    if (y === 1) this.positives++;
  }
  dataset(): Dataset {
    return { x: this.#x.subarray(0, this.rows * this.dims), y: this.#y.subarray(0, this.rows), w: this.#w.subarray(0, this.rows), rows: this.rows, dims: this.dims };
  }
}

export interface TrainResult {
  readonly model: RiskModel;
  /** The warning-threshold sweep on the training data the thresholds were chosen from (optimistic). */
  readonly sweep: EvalReport;
}

export async function train(source: RecordSource, options: TrainOptions): Promise<TrainResult> {
  const untilMs = options.untilMs ?? Number.POSITIVE_INFINITY;
  // 1. Failures.
  const { failures, endMs } = await findFailures(source, untilMs);
  const onsets = new Map<string, number[]>();
  for (const f of failures) {
    const key = `${f.store}\u0000${f.subject}`;
    onsets.set(key, [...(onsets.get(key) ?? []), f.onsetMs]);
  }

  // 2. Features and labels.
  const random = seededRandom(options.seed);
  const rows = { terminal: new RowBuilder(TERMINAL_FEATURES.length), wan: new RowBuilder(WAN_FEATURES.length) };
  const subjects = new Map<string, { kind: 'terminal' | 'wan'; t: TerminalDetectors | null; w: WanDetectors | null; x: Float64Array; onsets: number[]; next: number; lastMs: number }>();
  let records = 0;
  for await (const batch of source.batches()) {
    for (const r of batch) {
      if (r.atMs >= untilMs) continue;
      const key = `${r.store}\u0000${r.subject}`;
      let s = subjects.get(key);
      if (s === undefined) {
        const kind = r.kind === 'health' ? 'terminal' : 'wan';
        s = { kind, t: kind === 'terminal' ? new TerminalDetectors() : null, w: kind === 'wan' ? new WanDetectors() : null, x: new Float64Array(kind === 'terminal' ? TERMINAL_FEATURES.length : WAN_FEATURES.length), onsets: onsets.get(key) ?? [], next: 0, lastMs: Number.NEGATIVE_INFINITY };
        subjects.set(key, s);
      }
      if (r.atMs < s.lastMs) continue;
      s.lastMs = r.atMs;
      records++;
      let down = false;
      if (r.kind === 'health') {
        s.t!.update(r.atMs, r.sample);
        s.t!.features(s.x);
      } else {
        s.w!.update(r.atMs, r.ok, r.rttMs);
        s.w!.features(s.x);
        down = s.w!.down;
      }
      if (down) continue;
      while (s.next < s.onsets.length && s.onsets[s.next]! <= r.atMs) s.next++;
      const o = s.onsets[s.next];
      const ahead = o === undefined ? Number.POSITIVE_INFINITY : o - r.atMs;
      const positive = ahead <= options.positiveWithinMs && ahead >= options.positiveAfterMs;
      if (!positive && ahead <= options.negativeBeyondMs) continue; // neither clearly
      if (!positive && r.atMs > endMs - Math.max(WARNING_MAX_LEAD_MS, options.negativeBeyondMs)) continue; // outcome not known yet
      if (positive) rows[s.kind].push(s.x, 1, 1);
      else if (random() < options.negativeRate) rows[s.kind].push(s.x, 0, 1 / options.negativeRate);
    }
  }

  // 3. Fit one expert per family, on its features and their hinges at the healthy fleet's upper quantiles.
  const fitKind = (b: RowBuilder, features: readonly string[], families: Readonly<Record<string, readonly string[]>>): SubjectModel => {
    const raw = b.dataset();
    const all = hingeBasis(raw, options.knotQuantiles);
    return {
      features: [...features],
      families: Object.entries(families).map(([name, prefixes]) => {
        const basis = all.filter(([j]) => prefixes.some((p) => features[j]!.startsWith(p)));
        const fit = fitLogistic(expand(raw, basis), { ...DEFAULT_LOGISTIC, l2: options.l2 });
        return { name, basis, mean: fit.mean.map(round9), scale: fit.scale.map(round9), weights: fit.weights.map(round9), bias: round9(fit.bias), alerts: placeholderAlerts(options) };
      }),
    };
  };
  const terminal = fitKind(rows.terminal, TERMINAL_FEATURES, TERMINAL_FAMILIES);
  const wan = fitKind(rows.wan, WAN_FEATURES, WAN_FAMILIES);

  // 4. Thresholds, by the §3.7 terms on the same data.
  const provisional = parseModel({ format: MODEL_FORMAT, formatVersion: MODEL_FORMAT_VERSION, version: 'provisional', trained: {}, terminal, wan });
  const swept = await evaluate(provisional, source, { untilMs, catches: true });
  // Each kind on its own: a store needs warnings about its terminals and about its internet link,
  // so neither kind's precision budget may be spent by the other.
  const withThresholds = (m: SubjectModel, figures: KindFigures): SubjectModel => {
    const list = m.families.map((f) => figures.familySweeps[f.name] ?? []);
    const chosen = chooseThresholds(list, options.precisionTarget, m.families.map((f) => figures.familyCatches?.[f.name] ?? []));
    return { ...m, families: m.families.map((f, i) => ({ ...f, alerts: familyAlerts(chosen[i]!, list[i]!, options) })) };
  };
  const withAlerts: RiskModel = {
    ...provisional,
    terminal: withThresholds(terminal, swept.terminal),
    wan: withThresholds(wan, swept.wan),
  };
  const version = `v${MODEL_FORMAT_VERSION}-s${options.seed}-${createHash('sha256').update(JSON.stringify([withAlerts.terminal, withAlerts.wan])).digest('hex').slice(0, 8)}`;
  const model = parseModel({
    ...withAlerts,
    version,
    trained: {
      ...options.describe,
      source: source.describe,
      seed: options.seed,
      records,
      rows: { terminal: rows.terminal.rows, wan: rows.wan.rows },
      positives: { terminal: rows.terminal.positives, wan: rows.wan.positives },
      l2: options.l2,
      negativeRate: options.negativeRate,
      precisionTarget: options.precisionTarget,
    },
  });
  return { model, sweep: swept };
}

/**
 * Basis terms: every feature, plus a hinge at each of `quantiles` of its values among negatives
 * (distinct knots below the feature's largest value only).
 */
export function hingeBasis(d: Dataset, quantiles: readonly number[]): [number, number | null][] {
  const basis: [number, number | null][] = [];
  for (let j = 0; j < d.dims; j++) {
    basis.push([j, null]);
    const values: number[] = [];
    for (let i = 0; i < d.rows; i++) if (d.y[i] === 0) values.push(d.x[i * d.dims + j]!);
    values.sort((a, b) => a - b);
    const max = values.at(-1) ?? 0;
    let last = Number.NEGATIVE_INFINITY;
    for (const q of quantiles) {
      const knot = round9(values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0);
      if (knot > last + 1e-6 && knot < max - 1e-6) {
        basis.push([j, knot]);
        last = knot;
      }
    }
  }
  return basis;
}

function expand(d: Dataset, basis: readonly [number, number | null][]): Dataset {
  const dims = basis.length;
  const x = new Float64Array(d.rows * dims);
  for (let i = 0; i < d.rows; i++) {
    const row = d.x.subarray(i * d.dims, (i + 1) * d.dims);
    for (let k = 0; k < dims; k++) x[i * dims + k] = basisValue(basis[k]!, row);
  }
  return { x, y: d.y, w: d.w, rows: d.rows, dims };
}

function placeholderAlerts(o: TrainOptions): AlertParams {
  return { warnAt: 0.5, criticalAt: 0.8, clearAt: 0.5 * o.clearRatio, confirmMs: o.confirmMs, clearMs: o.clearMs };
}

/** A family's warning threshold of 1 never warns: the family stays silent. */
export const SILENT_WARN_AT = 1;

/**
 * The families' warning thresholds of one kind at once: the combination that catches the most
 * failures while their alerts together stay at `precisionTarget` or above, on the training data,
 * by the §3.7 terms (a family may stay silent). When no combination that catches anything reaches
 * the target, the one with the best F1 instead: a kind that cannot be that precise still warns
 * (its figures say how well). With `catches` (which failures each family caught at each sweep
 * threshold) a failure two families both caught counts once; without, catches are added up.
 * Alerts are added up: two families raising together are one alert of their subject, so the
 * precision counted here errs low. Exhaustive: a few families × ~40 thresholds.
 */
export function chooseThresholds(families: readonly (readonly SweepPoint[])[], precisionTarget: number, catches?: readonly (readonly Uint8Array[])[]): number[] {
  const options = families.map((sweep, f) => [
    { warnAt: SILENT_WARN_AT, alerts: 0, trueAlerts: 0, detected: 0, caught: null as Uint8Array | null },
    ...sweep.flatMap((p, k) => (p.alerts > 0 ? [{ warnAt: p.warnAt, alerts: p.alerts, trueAlerts: p.trueAlerts, detected: p.detected, caught: catches?.[f]?.[k] ?? null }] : [])),
  ]);
  const failures = Math.max(1, ...families.flatMap((sweep) => sweep.map((p) => p.failures)));
  // How many of the chosen families caught each failure, and how many failures at least one did.
  const size = catches?.find((list) => list.length > 0)?.[0]?.length ?? 0;
  const caughtBy = new Uint16Array(size);
  let union = 0;
  const add = (flags: Uint8Array | null, sign: 1 | -1) => {
    if (flags === null) return;
    for (let i = 0; i < flags.length; i++) {
      if (flags[i] === 0) continue;
      const before = caughtBy[i]!;
      caughtBy[i] = before + sign;
      if (sign === 1 && before === 0) union++;
      else if (sign === -1 && before === 1) union--;
    }
  };
  let best: { detected: number; alerts: number; picks: number[] } = { detected: -1, alerts: 0, picks: options.map(() => 0) };
  let bestF1: { f1: number; picks: number[] } = { f1: -1, picks: options.map(() => 0) };
  const picks = options.map(() => 0);
  const walk = (f: number, alerts: number, trueAlerts: number, summed: number): void => {
    if (f === options.length) {
      const detected = catches === undefined ? summed : union;
      const precise = alerts === 0 || trueAlerts >= precisionTarget * alerts;
      if (precise && (detected > best.detected || (detected === best.detected && alerts < best.alerts))) best = { detected, alerts, picks: [...picks] };
      const p = alerts === 0 ? 0 : trueAlerts / alerts;
      const r = Math.min(1, detected / failures);
      const f1 = p + r === 0 ? 0 : (2 * p * r) / (p + r);
      if (f1 > bestF1.f1) bestF1 = { f1, picks: [...picks] };
      return;
    }
    options[f]!.forEach((o, i) => {
      picks[f] = i;
      add(o.caught, 1);
      walk(f + 1, alerts + o.alerts, trueAlerts + o.trueAlerts, summed + o.detected);
      add(o.caught, -1);
    });
  };
  walk(0, 0, 0, 0);
  const picked = best.detected > 0 ? best.picks : bestF1.picks;
  return picked.map((i, f) => options[f]![i]!.warnAt);
}

/** A family's alert parameters for its chosen warning threshold; critical at `criticalPrecision`. */
export function familyAlerts(warnAt: number, sweep: readonly SweepPoint[], o: Pick<TrainOptions, 'criticalPrecision' | 'clearRatio' | 'confirmMs' | 'clearMs'>): AlertParams {
  const w = round9(warnAt);
  const critical = sweep.find((p) => p.warnAt > w && p.alerts >= 3 && (p.precision ?? 0) >= o.criticalPrecision);
  const criticalAt = w >= SILENT_WARN_AT ? SILENT_WARN_AT : round9(critical?.warnAt ?? w + (1 - w) / 2);
  return { warnAt: w, criticalAt: Math.max(w, criticalAt), clearAt: round9(w * o.clearRatio), confirmMs: o.confirmMs, clearMs: o.clearMs };
}

/** Nine significant digits: the JSON is stable and readable; scoring is unaffected. */
function round9(x: number): number {
  return Number(x.toPrecision(9));
}
