/**
 * `tillgate predict eval`, and the threshold choice of `train`: score a source with a model and
 * measure it by the §3.7 terms (eval/metrics.ts). Two passes: the failures first (eval/failures.ts,
 * from the records alone), then scoring with the same SubjectScorer live scoring uses, the model's
 * own alert thresholds and, beside them, a sweep of warning thresholds for the precision–recall
 * curve. `fromMs` makes it a time split: detectors run from the start, but only alerts and
 * failures from `fromMs` on are counted.
 */
import { WARNING_MAX_LEAD_MS, WARNING_MIN_LEAD_MS } from '../../../protocol/prediction.js';
import { INITIAL_ALERT_STATE, nextAlertState, type AlertState } from '../alerts.js';
import type { AlertParams, RiskModel } from '../model/model.js';
import { SubjectScorer } from '../scorer.js';
import type { RecordSource } from '../sources.js';
import type { FailureMode } from '../sim/events.js';
import { findFailures, type Failure } from './failures.js';
import {
  averagePrecision, countedOnsets, emptyCounts, histogramAveragePrecision, matchSubject, mergeCounts, precisionOf, quantile, recallOf, type MatchCounts,
} from './metrics.js';

const DAY_MS = 86_400_000;
const MIN_MS = 60_000;
const RISK_BINS = 1_000;

/** Warning thresholds of the precision–recall sweep, evenly spaced in log-odds from 0.005 to 0.995. */
export const SWEEP_THRESHOLDS: readonly number[] = Array.from({ length: 41 }, (_, i) => 1 / (1 + Math.exp(-(-5.3 + (10.6 * i) / 40))));

export interface SweepPoint {
  readonly warnAt: number;
  readonly alerts: number;
  readonly trueAlerts: number;
  readonly detected: number;
  readonly failures: number;
  readonly precision: number | null;
  readonly recall: number | null;
}

export interface KindFigures {
  readonly subjects: number;
  readonly subjectDays: number;
  readonly alerts: number;
  readonly trueAlerts: number;
  readonly censoredAlerts: number;
  readonly failures: number;
  readonly detected: number;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly medianLeadMin: number | null;
  readonly leadP25Min: number | null;
  readonly leadP75Min: number | null;
  /** Alerts that came to nothing, per 100 subject-days: independent of how often failures happen. */
  readonly falseAlertsPer100SubjectDays: number;
  /** Average precision over the warning-threshold sweep, by the §3.7 terms. */
  readonly prAucAlerts: number;
  /** Average precision of the per-sample risk against "fails 10 min – 2 h later". */
  readonly prAucSamples: number | null;
  /** One warning threshold for every family at once: the curve PR-AUC summarizes. */
  readonly sweep: readonly SweepPoint[];
  /** Each family's own alerts over the thresholds (training picks each family's threshold here). */
  readonly familySweeps: Readonly<Record<string, readonly SweepPoint[]>>;
  /**
   * With `catches`: per family, per threshold, a flag per failure of this kind that the family
   * caught there, so that training can count a failure two families both caught once.
   */
  readonly familyCatches?: Readonly<Record<string, readonly Uint8Array[]>>;
}

export interface EvalReport {
  readonly source: string;
  readonly modelVersion: string;
  readonly fromMs: number;
  readonly endMs: number;
  readonly records: number;
  readonly terminal: KindFigures;
  readonly wan: KindFigures;
  readonly all: KindFigures;
  /** Simulated sources: failures and catches by what really happened. */
  readonly byMode?: Readonly<Record<string, { failures: number; detected: number }>>;
}

export interface EvaluateOptions {
  readonly fromMs?: number;
  /** Records from here on are not read (training on the first part of a time split). */
  readonly untilMs?: number;
  /** Overrides the model's thresholds (train uses this to try its own). */
  readonly sweep?: readonly number[];
  /** Also say which failures each family caught at each threshold (`familyCatches`). */
  readonly catches?: boolean;
}

interface SubjectRun {
  readonly scorer: SubjectScorer;
  /** [threshold][family] alert states of the sweep. */
  readonly sweepStates: AlertState[][];
  /** Subject-level raises per threshold (every family at that threshold). */
  readonly sweepAlerts: number[][];
  /** [family][threshold] raises of one family alone. */
  readonly familyAlerts: number[][][];
  readonly alerts: number[];
  readonly onsets: number[];
  next: number;
  firstMs: number;
}

function sweepParams(model: AlertParams, warnAt: number): AlertParams {
  const ratio = model.warnAt > 0 ? model.clearAt / model.warnAt : 0.6;
  return { ...model, warnAt, criticalAt: 1, clearAt: warnAt * ratio };
}

export async function evaluate(model: RiskModel, source: RecordSource, options: EvaluateOptions = {}): Promise<EvalReport> {
  const fromMs = options.fromMs ?? Number.NEGATIVE_INFINITY;
  const untilMs = options.untilMs ?? Number.POSITIVE_INFINITY;
  const thresholds = options.sweep ?? SWEEP_THRESHOLDS;

  // Pass 1: the failures, by the §3.7 terms, from the records themselves.
  const { failures, endMs } = await findFailures(source, untilMs);
  const truth = source.truth === undefined ? undefined : [...source.truth];
  const onsetsBySubject = new Map<string, number[]>();
  for (const f of failures) {
    const key = `${f.store}\u0000${f.subject}`;
    const list = onsetsBySubject.get(key) ?? [];
    list.push(f.onsetMs);
    onsetsBySubject.set(key, list);
  }

  // Pass 2: score, alert, sweep, and the per-sample histograms.
  const runs = new Map<string, SubjectRun>();
  const hist = { terminal: { pos: new Float64Array(RISK_BINS), neg: new Float64Array(RISK_BINS) }, wan: { pos: new Float64Array(RISK_BINS), neg: new Float64Array(RISK_BINS) } };
  // [family][threshold] alert parameters of the sweep, per kind.
  const sweepParamsByKind = {
    terminal: model.terminal.families.map((f) => thresholds.map((t) => sweepParams(f.alerts, t))),
    wan: model.wan.families.map((f) => thresholds.map((t) => sweepParams(f.alerts, t))),
  };
  let records = 0;
  for await (const batch of source.batches()) {
    for (const r of batch) {
      if (r.atMs >= untilMs) continue;
      const key = `${r.store}\u0000${r.subject}`;
      let run = runs.get(key);
      if (run === undefined) {
        const scorer = new SubjectScorer(model, r.store, r.subject, r.kind === 'health' ? 'terminal' : 'wan');
        run = {
          scorer,
          sweepStates: thresholds.map(() => scorer.families.map(() => INITIAL_ALERT_STATE)),
          sweepAlerts: thresholds.map(() => []),
          familyAlerts: scorer.families.map(() => thresholds.map(() => [])),
          alerts: [],
          onsets: onsetsBySubject.get(key) ?? [],
          next: 0,
          firstMs: r.atMs,
        };
        runs.set(key, run);
      }
      const s = run.scorer;
      if (r.atMs < s.lastMs) continue;
      s.observe(r);
      records++;
      const before = s.alert.level;
      s.step();
      if (before === 'clear' && s.alert.level !== 'clear') run.alerts.push(r.atMs);
      const params = sweepParamsByKind[s.kind];
      for (let k = 0; k < thresholds.length; k++) {
        const states = run.sweepStates[k]!;
        let wasRaised = false;
        let isRaised = false;
        for (let f = 0; f < states.length; f++) {
          const prev = states[f]!;
          const next = nextAlertState(prev, { atMs: r.atMs, risk: s.families[f]!.risk, suppressed: s.suppressed, restarted: s.restarted }, params[f]![k]!);
          if (prev.level !== 'clear') wasRaised = true;
          if (next.level !== 'clear') isRaised = true;
          if (next !== prev) {
            if (prev.level === 'clear' && next.level !== 'clear') run.familyAlerts[f]![k]!.push(r.atMs);
            states[f] = next;
          }
        }
        if (!wasRaised && isRaised) run.sweepAlerts[k]!.push(r.atMs);
      }
      if (r.atMs >= fromMs && !s.suppressed && r.atMs <= endMs - WARNING_MAX_LEAD_MS) {
        while (run.next < run.onsets.length && run.onsets[run.next]! < r.atMs + WARNING_MIN_LEAD_MS) run.next++;
        const o = run.onsets[run.next];
        const positive = o !== undefined && o - r.atMs <= WARNING_MAX_LEAD_MS;
        const bin = Math.min(RISK_BINS - 1, Math.floor(s.risk * RISK_BINS));
        hist[s.kind][positive ? 'pos' : 'neg'][bin]!++;
      }
    }
  }

  const figures = (kind: 'terminal' | 'wan' | 'all'): KindFigures => {
    const selected = [...runs.values()].filter((run) => kind === 'all' || run.scorer.kind === kind);
    let counts = emptyCounts();
    const sweepCounts = thresholds.map(() => emptyCounts());
    const familyCounts = new Map<string, MatchCounts[]>();
    const total = options.catches === true ? selected.reduce((n, run) => n + countedOnsets(run.onsets, fromMs).length, 0) : 0;
    const familyCatches = new Map<string, Uint8Array[]>();
    let offset = 0;
    let subjectDays = 0;
    for (const run of selected) {
      const c = emptyCounts();
      matchSubject(run.alerts, run.onsets, fromMs, endMs, c);
      counts = mergeCounts(counts, c);
      thresholds.forEach((_, k) => matchSubject(run.sweepAlerts[k]!, run.onsets, fromMs, endMs, sweepCounts[k]!));
      run.scorer.families.forEach((fam, f) => {
        const list = familyCounts.get(fam.model.name) ?? thresholds.map(() => emptyCounts());
        const flags = options.catches === true ? (familyCatches.get(fam.model.name) ?? thresholds.map(() => new Uint8Array(total))) : null;
        thresholds.forEach((_, k) => matchSubject(run.familyAlerts[f]![k]!, run.onsets, fromMs, endMs, list[k]!, flags === null ? undefined : { flags: flags[k]!, offset }));
        familyCounts.set(fam.model.name, list);
        if (flags !== null) familyCatches.set(fam.model.name, flags);
      });
      offset += options.catches === true ? countedOnsets(run.onsets, fromMs).length : 0;
      subjectDays += Math.max(0, run.scorer.lastMs - Math.max(run.firstMs, fromMs)) / DAY_MS;
    }
    const points = (list: MatchCounts[]): SweepPoint[] =>
      thresholds.map((warnAt, k) => {
        const c = list[k]!;
        return { warnAt, alerts: c.alerts, trueAlerts: c.trueAlerts, detected: c.detected, failures: c.failures, precision: precisionOf(c), recall: recallOf(c) };
      });
    const sweep = points(sweepCounts);
    const familySweeps = Object.fromEntries([...familyCounts].map(([name, list]) => [name, points(list)]));
    const pos = kind === 'all' ? sumHist(hist.terminal.pos, hist.wan.pos) : hist[kind].pos;
    const neg = kind === 'all' ? sumHist(hist.terminal.neg, hist.wan.neg) : hist[kind].neg;
    const out = summarize(counts, selected.length, subjectDays, sweep, familySweeps, histogramAveragePrecision(pos, neg));
    return options.catches === true ? { ...out, familyCatches: Object.fromEntries(familyCatches) } : out;
  };

  return {
    source: source.describe,
    modelVersion: model.version,
    fromMs: Number.isFinite(fromMs) ? fromMs : (failures[0]?.onsetMs ?? 0),
    endMs,
    records,
    terminal: figures('terminal'),
    wan: figures('wan'),
    all: figures('all'),
    ...(truth === undefined ? {} : { byMode: byMode(truth, failures, runs, fromMs) }),
  };
}

function summarize(c: MatchCounts, subjects: number, subjectDays: number, sweep: SweepPoint[], familySweeps: Record<string, SweepPoint[]>, prAucSamples: number | null): KindFigures {
  const toMin = (ms: number | null) => (ms === null ? null : Math.round((ms / MIN_MS) * 10) / 10);
  const points = sweep.filter((p) => p.precision !== null && p.recall !== null).map((p) => ({ precision: p.precision!, recall: p.recall! }));
  return {
    subjects,
    subjectDays: Math.round(subjectDays * 10) / 10,
    alerts: c.alerts,
    trueAlerts: c.trueAlerts,
    censoredAlerts: c.censored,
    failures: c.failures,
    detected: c.detected,
    precision: precisionOf(c),
    recall: recallOf(c),
    medianLeadMin: toMin(quantile(c.leadsMs, 0.5)),
    leadP25Min: toMin(quantile(c.leadsMs, 0.25)),
    leadP75Min: toMin(quantile(c.leadsMs, 0.75)),
    falseAlertsPer100SubjectDays: subjectDays === 0 ? 0 : Math.round(((c.alerts - c.trueAlerts) / subjectDays) * 100 * 10) / 10,
    prAucAlerts: averagePrecision(points),
    prAucSamples,
    sweep,
    familySweeps,
  };
}

function sumHist(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v + b[i]!);
}

/** Each derived failure matched to what the simulator says happened (same subject, onset within 2 min). */
function byMode(truth: readonly { store: string; subject: string; mode: FailureMode; onsetMs: number }[], failures: readonly Failure[], runs: Map<string, SubjectRun>, fromMs: number) {
  const out: Record<string, { failures: number; detected: number }> = {};
  for (const f of failures) {
    if (f.onsetMs < fromMs + WARNING_MIN_LEAD_MS) continue;
    const t = truth.find((e) => e.store === f.store && e.subject === f.subject && Math.abs(e.onsetMs - f.onsetMs) < 2 * MIN_MS);
    // A silence the simulator did not cause as a failure (e.g. a long gap by chance): unexplained.
    const mode = t?.mode ?? 'unexplained';
    const run = runs.get(`${f.store}\u0000${f.subject}`);
    const caught = run?.alerts.some((a) => a >= fromMs && f.onsetMs - a >= WARNING_MIN_LEAD_MS && f.onsetMs - a <= WARNING_MAX_LEAD_MS) ?? false;
    const entry = out[mode] ?? { failures: 0, detected: 0 };
    entry.failures++;
    if (caught) entry.detected++;
    out[mode] = entry;
  }
  return out;
}
