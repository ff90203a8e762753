/**
 * The scorer: one code path for live scoring on the gateway and for `tillgate predict replay`.
 * Records in (§3.7, parsed by records.ts), alerts out: each subject (a terminal, a store's WAN) has
 * its detectors, its features, its risk from the model and its alert state; an alert comes out
 * only when the subject's level changes. Subjects are independent, so the interleaving of subjects
 * in the input does not change any subject's alerts. A record older than its subject's previous
 * one is skipped and counted. Bounded: at most `maxSubjects` subjects (new ones past it are
 * skipped and counted).
 */
import { MAX_ALERT_REASONS, type AlertLevel, type PredictionAlert } from '../../protocol/prediction.js';
import { INITIAL_ALERT_STATE, nextAlertState, type AlertState } from './alerts.js';
import { TERMINAL_FEATURES, TerminalDetectors } from './features/terminal.js';
import { WAN_FEATURES, WanDetectors } from './features/wan.js';
import { Ewma } from './detectors/ewma.js';
import { contributions, logOdds, type FamilyModel, type RiskModel, type SubjectModel } from './model/model.js';
import { terminalReasons, wanReasons } from './reasons.js';
import type { ParsedRecord } from './records.js';

/** Subjects one scorer tracks: a store has tens of terminals; replay files may hold many stores. */
export const DEFAULT_SCORER_MAX_SUBJECTS = 100_000;
/**
 * The risk is the model's log-odds smoothed over about two minutes (time-aware EWMA): a battery
 * read in whole percent or a round trip with jitter makes the raw score flicker around a
 * threshold, and an alert should follow the trend, not the flicker.
 */
export const RISK_SMOOTHING_MS = 2 * 60_000;

export interface SubjectRisk {
  readonly store: string;
  readonly subject: string;
  readonly risk: number;
  readonly level: AlertLevel;
  /** When the current level began (null: clear since the start). */
  readonly sinceMs: number | null;
  /** The last record scored. */
  readonly atMs: number;
  /** Plain-words reasons with what to do (empty when clear). */
  readonly reasons: readonly string[];
}

export interface ScorerStats {
  scored: number;
  outOfOrder: number;
  subjectsRefused: number;
}

/** One expert's running state: its smoothed risk and its own alert level. */
export interface FamilyState {
  readonly model: FamilyModel;
  readonly smooth: Ewma;
  risk: number;
  alert: AlertState;
}

const LEVEL_RANK: Readonly<Record<AlertLevel, number>> = { clear: 0, warning: 1, critical: 2 };

/** One subject's state. Exposed for training and evaluation, which walk one subject at a time. */
export class SubjectScorer {
  readonly store: string;
  readonly subject: string;
  readonly kind: 'terminal' | 'wan';
  readonly #model: SubjectModel;
  readonly #terminal: TerminalDetectors | null;
  readonly #wan: WanDetectors | null;
  readonly x: Float64Array;
  readonly families: FamilyState[];
  /** The highest family risk. */
  risk = 0;
  /** The subject's level (its highest family's) and since when. */
  alert: { readonly level: AlertLevel; readonly sinceMs: number | null } = { level: 'clear', sinceMs: null };
  lastMs = Number.NEGATIVE_INFINITY;
  /** The subject is failing right now (WAN down); no alert is raised. */
  suppressed = false;
  /** This record is the first after a failure. */
  restarted = false;

  constructor(model: RiskModel, store: string, subject: string, kind: 'terminal' | 'wan') {
    this.store = store;
    this.subject = subject;
    this.kind = kind;
    this.#model = kind === 'terminal' ? model.terminal : model.wan;
    this.#terminal = kind === 'terminal' ? new TerminalDetectors() : null;
    this.#wan = kind === 'wan' ? new WanDetectors() : null;
    this.x = new Float64Array(kind === 'terminal' ? TERMINAL_FEATURES.length : WAN_FEATURES.length);
    this.families = this.#model.families.map((f) => ({ model: f, smooth: new Ewma(RISK_SMOOTHING_MS), risk: 0, alert: INITIAL_ALERT_STATE }));
  }

  get model(): SubjectModel {
    return this.#model;
  }

  /** Updates detectors, features and each family's risk from one record of this subject (in time order). */
  observe(rec: ParsedRecord): void {
    if (rec.kind === 'health') {
      const d = this.#terminal!;
      d.update(rec.atMs, rec.sample);
      d.features(this.x);
      this.restarted = d.restarted;
      this.suppressed = false;
    } else {
      const d = this.#wan!;
      d.update(rec.atMs, rec.ok, rec.rttMs);
      d.features(this.x);
      this.restarted = d.restarted;
      this.suppressed = d.down;
    }
    let risk = 0;
    for (const f of this.families) {
      // A subject back from a failure starts a fresh score, like its short-term detectors.
      if (this.restarted) f.smooth.reset();
      f.risk = 1 / (1 + Math.exp(-f.smooth.update(logOdds(f.model, this.x), rec.atMs)));
      if (f.risk > risk) risk = f.risk;
    }
    this.risk = risk;
    this.lastMs = rec.atMs;
  }

  /** Applies each family's alert state machine; returns the subject's new level when it changed. */
  step(): AlertLevel | null {
    const input = { atMs: this.lastMs, risk: 0, suppressed: this.suppressed, restarted: this.restarted };
    let level: AlertLevel = 'clear';
    for (const f of this.families) {
      f.alert = nextAlertState(f.alert, { ...input, risk: f.risk }, f.model.alerts);
      if (LEVEL_RANK[f.alert.level] > LEVEL_RANK[level]) level = f.alert.level;
    }
    if (level === this.alert.level) return null;
    this.alert = { level, sinceMs: this.lastMs };
    return level;
  }

  /** Reasons from the families at warning or above (strongest first), else from the riskiest one. */
  reasons(): string[] {
    const raised = this.families.filter((f) => f.alert.level !== 'clear');
    const speaking = (raised.length > 0 ? raised : [...this.families].sort((a, b) => b.risk - a.risk).slice(0, 1)).sort((a, b) => b.risk - a.risk);
    const out: string[] = [];
    for (const f of speaking) {
      const c = contributions(f.model, this.x, this.x.length);
      const said = this.#terminal !== null
        ? terminalReasons(this.subject.slice('terminal/'.length), this.#terminal.facts(), TERMINAL_FEATURES, c)
        : wanReasons(this.#wan!.facts(), WAN_FEATURES, c);
      for (const r of said) if (!out.includes(r)) out.push(r);
    }
    return out.slice(0, MAX_ALERT_REASONS);
  }
}

export class FleetScorer {
  readonly #model: RiskModel;
  readonly #maxSubjects: number;
  readonly #subjects = new Map<string, SubjectScorer>();
  readonly stats: ScorerStats = { scored: 0, outOfOrder: 0, subjectsRefused: 0 };

  constructor(model: RiskModel, options: { readonly maxSubjects?: number } = {}) {
    this.#model = model;
    this.#maxSubjects = options.maxSubjects ?? DEFAULT_SCORER_MAX_SUBJECTS;
  }

  get modelVersion(): string {
    return this.#model.version;
  }

  /** Scores one record; returns the alert when its subject's level changed. */
  ingest(rec: ParsedRecord): PredictionAlert | null {
    const key = `${rec.store}\u0000${rec.subject}`;
    let s = this.#subjects.get(key);
    if (s === undefined) {
      if (this.#subjects.size >= this.#maxSubjects) {
        this.stats.subjectsRefused++;
        return null;
      }
      s = new SubjectScorer(this.#model, rec.store, rec.subject, rec.kind === 'health' ? 'terminal' : 'wan');
      this.#subjects.set(key, s);
    }
    if (rec.atMs < s.lastMs) {
      this.stats.outOfOrder++;
      return null;
    }
    s.observe(rec);
    this.stats.scored++;
    const level = s.step();
    if (level === null) return null;
    return { at: rec.at, store: rec.store, subject: rec.subject, level, risk: roundRisk(s.risk), reasons: level === 'clear' ? [] : s.reasons() };
  }

  /** The current risk of one subject. */
  get(store: string, subject: string): SubjectRisk | undefined {
    const s = this.#subjects.get(`${store}\u0000${subject}`);
    return s === undefined ? undefined : snapshot(s);
  }

  /** Every subject's current risk. */
  list(): SubjectRisk[] {
    return [...this.#subjects.values()].map(snapshot);
  }
}

function snapshot(s: SubjectScorer): SubjectRisk {
  return { store: s.store, subject: s.subject, risk: roundRisk(s.risk), level: s.alert.level, sinceMs: s.alert.sinceMs, atMs: s.lastMs, reasons: s.alert.level === 'clear' ? [] : s.reasons() };
}

/** Three decimals: enough to rank, and the same in live and replay output. */
export function roundRisk(risk: number): number {
  return Math.round(risk * 1000) / 1000;
}
