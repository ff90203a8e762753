/**
 * Live scoring on the gateway: the thin adapter between the gateway's inputs and the scorer that
 * `tillgate predict replay` runs. Every accepted health sample (as the HealthStore kept it) and
 * every WAN probe result (as kept) becomes the same §3.7 record a replay file holds
 * (records.ts) and goes through one FleetScorer; level changes are kept (bounded) for the status
 * page's alarms, logged, and handed to listeners. Reads are snapshots for /api/status, the page
 * and /metrics.
 */
import type { Logger } from '../../lib/logger.js';
import { terminalSubject, WAN_SUBJECT, type PredictionAlert } from '../../protocol/prediction.js';
import type { HealthEntry, WanProbe } from '../health/health-store.js';
import type { RiskModel } from './model/model.js';
import { recordFromHealthEntry, recordFromProbe } from './records.js';
import { FleetScorer, type SubjectRisk } from './scorer.js';

/** A level change as the gateway keeps it: the §3.7 alert and its time in ms. */
export interface LiveAlert extends PredictionAlert {
  readonly atMs: number;
}

export interface LivePredictorOptions {
  readonly store: string;
  /** Subjects scored: the enrolled-terminal bound plus the WAN. */
  readonly maxSubjects: number;
  /** Level changes kept in memory for the page's alarm list. */
  readonly alertsKeep: number;
}

/** What /api/status, the page and /metrics read. */
export interface PredictionSource {
  readonly modelVersion: string;
  terminal(terminal: string): SubjectRisk | undefined;
  wan(): SubjectRisk | undefined;
  list(): SubjectRisk[];
  /** Newest first. */
  recentAlerts(limit: number): LiveAlert[];
  alertCounts(): Readonly<Record<string, number>>;
}

export class LivePredictor implements PredictionSource {
  readonly #scorer: FleetScorer;
  readonly #o: LivePredictorOptions;
  readonly #logger: Logger;
  readonly #alerts: LiveAlert[] = [];
  readonly #counts: Record<string, number> = { warning: 0, critical: 0, clear: 0 };
  readonly #listeners = new Set<(alert: LiveAlert) => void>();

  constructor(model: RiskModel, options: LivePredictorOptions, logger: Logger) {
    this.#scorer = new FleetScorer(model, { maxSubjects: options.maxSubjects });
    this.#o = options;
    this.#logger = logger;
  }

  get modelVersion(): string {
    return this.#scorer.modelVersion;
  }

  observeHealth(entry: HealthEntry): void {
    this.#take(this.#scorer.ingest(recordFromHealthEntry(this.#o.store, entry)));
  }

  observeProbe(probe: WanProbe): void {
    this.#take(this.#scorer.ingest(recordFromProbe(this.#o.store, probe)));
  }

  onAlert(listener: (alert: LiveAlert) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  terminal(terminal: string): SubjectRisk | undefined {
    return this.#scorer.get(this.#o.store, terminalSubject(terminal));
  }

  wan(): SubjectRisk | undefined {
    return this.#scorer.get(this.#o.store, WAN_SUBJECT);
  }

  list(): SubjectRisk[] {
    return this.#scorer.list();
  }

  recentAlerts(limit: number): LiveAlert[] {
    return this.#alerts.slice(-Math.max(0, limit)).reverse();
  }

  alertCounts(): Readonly<Record<string, number>> {
    return { ...this.#counts };
  }

  #take(alert: PredictionAlert | null): void {
    if (alert === null) return;
    const live: LiveAlert = { ...alert, atMs: Date.parse(alert.at) };
    this.#alerts.push(live);
    if (this.#alerts.length > this.#o.alertsKeep) this.#alerts.splice(0, this.#alerts.length - this.#o.alertsKeep);
    this.#counts[alert.level] = (this.#counts[alert.level] ?? 0) + 1;
    const log = alert.level === 'clear' ? this.#logger.info.bind(this.#logger) : this.#logger.warn.bind(this.#logger);
    log(alert.level === 'clear' ? 'failure risk back to normal' : 'failure predicted', { subject: alert.subject, level: alert.level, risk: alert.risk, reasons: alert.reasons });
    for (const l of this.#listeners) l(live);
  }
}
