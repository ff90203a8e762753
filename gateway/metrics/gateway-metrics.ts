/**
 * `GET /metrics`: the gateway's numbers in Prometheus text exposition format (0.0.4), with
 * prom-client on a Registry of this gateway's own (never the global one: two gateways in one
 * process, as in tests and `npm start`, must not share counters).
 *
 * Names follow Prometheus conventions (base units, `_total` for counters, `_seconds`, `_bytes`).
 * Most numbers live in the store, forwarder and WAN monitor as snapshots; they are read at scrape
 * time through `MetricsSources` (collect()-time gauges and counters), so nothing is counted twice.
 * Only the batch latency histogram is fed as batches happen (`observeForwardBatch`).
 */
import type { Hono } from 'hono';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PROBLEM_CATALOGUE, PROBLEM_ORDER } from '../problem-catalogue.js';
import { REJECT_CODES } from '../../protocol/errors.js';
import { WAN_STATES, type WanState } from '../../protocol/messages.js';
import { INTEGRITY_STATES, type IntegrityState } from '../integrity.js';
import { TX_CLASSES, type MoneyTotals } from '../store/money.js';

/** What the gateway knows at scrape time. Every function is cheap and synchronous (no I/O). */
export interface MetricsSources {
  /** Ingest outcomes since the store was created, by result (`stored`, `duplicate`, `rejected`). */
  ingestTotals(): Readonly<Record<string, number>>;
  /** Rejects since the store was created, by DESIGN §3.3 code. */
  rejectTotals(): Readonly<Record<string, number>>;
  backlogEvents(): number;
  /** The waiting events by what they mean in money (store/money.ts). */
  backlogMoney(): MoneyTotals;
  oldestPendingAgeS(): number | null;
  deadLetters(): number;
  eventsStored(): number;
  accepting(): boolean;
  /** Storage integrity (gateway/integrity.ts): ok, degraded (something lost, named), damaged. */
  integrityState(): IntegrityState;
  wanState(): WanState | 'unknown';
  diskFreeBytes(): number | null;
  /** Seconds until the disk reaches its mark at the rate it has been filling; null while it is not filling. */
  diskFullInSeconds?(): number | null;
  terminalsConnected(): number;
  /** Failure risk per subject (`terminal/<id>`, `wan`) when prediction runs. */
  risks?(): readonly { readonly subject: string; readonly risk: number; readonly level: string }[];
  /** The risk model's version, when prediction runs. */
  modelVersion?(): string | null;
  /** Failure-prediction level changes since start, by level. */
  predictAlertTotals?(): Readonly<Record<string, number>>;
  /** Per-terminal facts, at most `MAX_TERMINALS_IN_METRICS` (by id): presence and the latest health sample. */
  terminals(): readonly TerminalMetric[];
  /** The problems the status page names now (gateway/problem-catalogue.ts codes), when the page is wired. */
  problems?(): Promise<readonly { readonly code: string; readonly level: string; readonly subjects: readonly string[] }[]>;
}

/** One terminal as /metrics shows it. */
export interface TerminalMetric {
  readonly terminal: string;
  readonly connected: boolean;
  readonly lastSeenAtMs: number | null;
  /** Transactions waiting on the till, from its latest health sample; null when unknown. */
  readonly outboxDepth: number | null;
  /** Its chain is held: it refuses payments. */
  readonly blocked: boolean;
  /** Payments it refused over its offline limits since its agent started; null when unknown. */
  readonly offlineRefused: number | null;
}

/**
 * Terminals with their own series: every series is a row in Prometheus' index, and a store has tens
 * of terminals; a gateway with thousands exposes the first this many by id (the rest are on the page
 * and in /api/terminals).
 */
export const MAX_TERMINALS_IN_METRICS = 1_000;

/** This build, for `tillgate_build_info`. */
export interface BuildInfo {
  readonly version: string;
  readonly node: string;
}

/** Levels of a failure-prediction alert (DESIGN §3.7), as numbers for a gauge. */
export const RISK_LEVEL_VALUES: Readonly<Record<string, number>> = { clear: 0, warning: 1, critical: 2 };

/** Outcome kinds of a forward batch, as the forwarder names them. */
export type ForwardBatchOutcome = 'ok' | 'retry' | 'too-large' | 'bad-request' | 'auth';

/**
 * Batch round-trip buckets in seconds: a LAN-local cloud answers in a few ms, a WAN batch of 1,000
 * events in tens to hundreds of ms; the top buckets catch timeouts.
 */
export const FORWARD_BATCH_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export const WAN_STATE_LABELS = [...WAN_STATES, 'unknown'] as const;

export interface GatewayMetrics {
  readonly registry: Registry;
  /** Counts one forward request and records its duration. */
  observeForwardBatch(outcome: ForwardBatchOutcome, latencyMs: number): void;
  /** The exposition text. */
  render(): Promise<string>;
  /** Mounts `GET /metrics` on `app`. */
  mount(app: Hono): void;
}

/**
 * Sets a counter to absolute totals kept elsewhere (collect()-time: the source owns the count).
 * `known` label values are always present, at 0 until they happen, so `rate()` works from the start.
 */
function setTotals(counter: Counter<string>, label: string, totals: Readonly<Record<string, number>>, known: readonly string[]): void {
  counter.reset();
  for (const value of known) counter.inc({ [label]: value }, 0);
  for (const [value, n] of Object.entries(totals)) if (n > 0) counter.inc({ [label]: value }, n);
}

/** Ingest results the pipeline counts. */
export const INGEST_RESULTS = ['stored', 'duplicate', 'rejected'] as const;

export function createGatewayMetrics(sources: MetricsSources, build: BuildInfo = { version: 'unknown', node: process.version }): GatewayMetrics {
  const registry = new Registry();
  const registers = [registry];
  // The standard process and Node.js runtime metrics (CPU, memory, event loop lag, GC, handles).
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'tillgate_build_info',
    help: 'Always 1; the labels say which build runs (version of tillgate, Node.js).',
    labelNames: ['version', 'node', 'program'],
    registers,
  }).set({ version: build.version || 'unknown', node: build.node || 'unknown', program: 'gateway' }, 1);

  new Counter({
    name: 'tillgate_ingest_events_total',
    help: 'Events received from terminals, by result.',
    labelNames: ['result'],
    registers,
    collect() {
      setTotals(this, 'result', sources.ingestTotals(), INGEST_RESULTS);
    },
  });
  new Counter({
    name: 'tillgate_rejects_total',
    help: 'Events rejected by the gateway, by reject code (DESIGN 3.3).',
    labelNames: ['code'],
    registers,
    collect() {
      setTotals(this, 'code', sources.rejectTotals(), REJECT_CODES);
    },
  });
  new Gauge({
    name: 'tillgate_forward_backlog_events',
    help: 'Events stored on the gateway and not yet accepted by the cloud.',
    registers,
    collect() {
      this.set(sources.backlogEvents());
    },
  });
  new Gauge({
    name: 'tillgate_forward_backlog_transactions',
    help: 'Events waiting for the cloud by class: takings (approved payments), refunds, voids, other, declined, unclassified (stored by an earlier release).',
    labelNames: ['class'],
    registers,
    collect() {
      const money = sources.backlogMoney();
      for (const cls of TX_CLASSES) this.set({ class: cls }, money[cls].count);
    },
  });
  new Gauge({
    name: 'tillgate_forward_backlog_amount_minor',
    help: 'Money waiting for the cloud in ISO 4217 minor units, by class and currency; takings are approved payments only, declined transactions carry none. Never add classes or currencies up.',
    labelNames: ['class', 'currency'],
    registers,
    collect() {
      this.reset();
      const money = sources.backlogMoney();
      for (const cls of TX_CLASSES) {
        for (const [currency, amount] of Object.entries(money[cls].byCurrency)) this.set({ class: cls, currency }, amount);
      }
    },
  });
  new Gauge({
    name: 'tillgate_forward_oldest_pending_age_seconds',
    help: 'Age of the oldest event not yet accepted by the cloud (0 when none waits).',
    registers,
    collect() {
      this.set(sources.oldestPendingAgeS() ?? 0);
    },
  });
  new Gauge({
    name: 'tillgate_forward_dead_letters_events',
    help: 'Events the cloud refused, kept on the gateway for an admin retry.',
    registers,
    collect() {
      this.set(sources.deadLetters());
    },
  });
  const batches = new Counter({
    name: 'tillgate_forward_batches_total',
    help: 'Forward requests sent to the cloud, by outcome.',
    labelNames: ['outcome'],
    registers,
  });
  const batchDuration = new Histogram({
    name: 'tillgate_forward_batch_duration_seconds',
    help: 'Round-trip time of forward requests to the cloud.',
    labelNames: ['outcome'],
    buckets: [...FORWARD_BATCH_BUCKETS_S],
    registers,
  });
  new Gauge({
    name: 'tillgate_wan_state',
    help: 'WAN link state: 1 for the current state, 0 for the others.',
    labelNames: ['state'],
    registers,
    collect() {
      const current = sources.wanState();
      for (const state of WAN_STATE_LABELS) this.set({ state }, state === current ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tillgate_disk_free_bytes',
    help: 'Free bytes on the data disk (NaN until first measured).',
    registers,
    collect() {
      // NaN, not 0, while unknown: 0 would page someone for a full disk that is not.
      this.set(sources.diskFreeBytes() ?? Number.NaN);
    },
  });
  new Gauge({
    name: 'tillgate_disk_full_in_seconds',
    help: 'Seconds until the data disk reaches its high-water mark at the rate it has been filling (+Inf while it is not filling).',
    registers,
    collect() {
      this.set(sources.diskFullInSeconds?.() ?? Number.POSITIVE_INFINITY);
    },
  });
  new Gauge({
    name: 'tillgate_store_events',
    help: 'Events held in the gateway store.',
    registers,
    collect() {
      this.set(sources.eventsStored());
    },
  });
  new Gauge({
    name: 'tillgate_accepting',
    help: '1 while the gateway accepts events, 0 once storage passed its high-water mark or is damaged.',
    registers,
    collect() {
      this.set(sources.accepting() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tillgate_store_integrity',
    help: 'Storage integrity: 1 for the current state (ok; degraded: acknowledged events or log parts lost, named on the page; damaged: not taking events).',
    labelNames: ['state'],
    registers,
    collect() {
      const current = sources.integrityState();
      for (const state of INTEGRITY_STATES) this.set({ state }, state === current ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tillgate_terminals_connected',
    help: 'Terminals with an open MQTT connection.',
    registers,
    collect() {
      this.set(sources.terminalsConnected());
    },
  });

  if (sources.risks !== undefined) {
    const risks = sources.risks;
    new Gauge({
      name: 'tillgate_predict_risk',
      help: 'Failure risk (0..1) of each terminal and the WAN link within the next 2 hours (DESIGN 3.7).',
      labelNames: ['subject'],
      registers,
      collect() {
        this.reset();
        for (const r of risks()) this.set({ subject: r.subject }, r.risk);
      },
    });
    new Gauge({
      name: 'tillgate_predict_level',
      help: 'Failure-prediction level of each subject: 0 clear, 1 warning, 2 critical.',
      labelNames: ['subject'],
      registers,
      collect() {
        this.reset();
        for (const r of risks()) this.set({ subject: r.subject }, RISK_LEVEL_VALUES[r.level] ?? 0);
      },
    });
  }
  if (sources.modelVersion !== undefined) {
    const version = sources.modelVersion;
    new Gauge({
      name: 'tillgate_predict_model_info',
      help: 'The failure-prediction model in use (its version as a label; value 1).',
      labelNames: ['version'],
      registers,
      collect() {
        this.reset();
        const v = version();
        // No empty label values: without a model there is no series at all.
        if (v !== null && v !== '') this.set({ version: v }, 1);
      },
    });
  }
  if (sources.predictAlertTotals !== undefined) {
    const totals = sources.predictAlertTotals;
    new Counter({
      name: 'tillgate_predict_alerts_total',
      help: 'Failure-prediction level changes since the gateway started, by new level.',
      labelNames: ['level'],
      registers,
      collect() {
        setTotals(this, 'level', totals(), Object.keys(RISK_LEVEL_VALUES));
      },
    });
  }
  const terminals = () => [...sources.terminals()].sort((a, b) => (a.terminal < b.terminal ? -1 : 1)).slice(0, MAX_TERMINALS_IN_METRICS);
  new Gauge({
    name: 'tillgate_terminal_last_seen_timestamp_seconds',
    help: 'When each terminal was last heard from (Unix seconds; kept across gateway restarts). Terminals never seen have no series.',
    labelNames: ['terminal'],
    registers,
    collect() {
      this.reset();
      for (const t of terminals()) if (t.lastSeenAtMs !== null) this.set({ terminal: t.terminal }, t.lastSeenAtMs / 1000);
    },
  });
  new Gauge({
    name: 'tillgate_terminal_connected',
    help: '1 while the terminal has an MQTT connection, else 0.',
    labelNames: ['terminal'],
    registers,
    collect() {
      this.reset();
      for (const t of terminals()) this.set({ terminal: t.terminal }, t.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tillgate_terminal_outbox_events',
    help: "Transactions waiting on the terminal for the gateway's acknowledgement, from its latest health sample.",
    labelNames: ['terminal'],
    registers,
    collect() {
      this.reset();
      for (const t of terminals()) if (t.outboxDepth !== null) this.set({ terminal: t.terminal }, t.outboxDepth);
    },
  });
  new Gauge({
    name: 'tillgate_terminal_blocked',
    help: '1 while the terminal holds its chain (the gateway keeps refusing one of its transactions): it refuses payments.',
    labelNames: ['terminal'],
    registers,
    collect() {
      this.reset();
      for (const t of terminals()) this.set({ terminal: t.terminal }, t.blocked ? 1 : 0);
    },
  });
  new Counter({
    name: 'tillgate_terminal_offline_refused_total',
    help: "Payments the terminal refused over its offline limits since its agent started (from its health sample; resets when the agent restarts).",
    labelNames: ['terminal'],
    registers,
    collect() {
      this.reset();
      for (const t of terminals()) if (t.offlineRefused !== null) this.inc({ terminal: t.terminal }, t.offlineRefused);
    },
  });
  if (sources.problems !== undefined) {
    const problems = sources.problems;
    new Gauge({
      name: 'tillgate_problem_active',
      help: 'Subjects each problem of the status page applies to now, by code and level (0 for codes not active): alert on it instead of scraping the page.',
      labelNames: ['code', 'level'],
      registers,
      async collect() {
        this.reset();
        for (const code of PROBLEM_ORDER) this.set({ code, level: PROBLEM_CATALOGUE[code].level }, 0);
        for (const p of await problems()) this.set({ code: p.code, level: p.level }, p.subjects.length);
      },
    });
  }

  const render = () => registry.metrics();
  return {
    registry,
    observeForwardBatch(outcome, latencyMs) {
      batches.inc({ outcome });
      batchDuration.observe({ outcome }, Math.max(0, latencyMs) / 1000);
    },
    render,
    mount(app) {
      app.get('/metrics', async (c) => {
        const text = await render();
        return c.body(text, 200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
      });
    },
  };
}
