/**
 * The terminal agent: one place that wires the outbox, recorder, publisher and health reporter
 *. `startAgent` takes the parts; `startAgentFromDir` is the production wiring.
 */
import { join } from 'node:path';
import { systemClock, type Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import { TillgateError } from '../protocol/errors.js';
import type { Signer } from '../protocol/signer.js';
import type { RandomBytes } from '../protocol/uuid.js';
import { loadDeviceKey } from './device-key.js';
import { AGENT_ERROR_CODES } from './errors.js';
import { DEFAULT_HEALTH_INTERVAL_S, startHealthReporter } from './health.js';
import { linuxHostReadings, type HostReadings } from './host-readings.js';
import { DEFAULT_IDEMPOTENCY, startIdempotencyPruner, type IdempotencyOptions } from './idempotency.js';
import { DEFAULT_OFFLINE_LIMITS, type OfflineLimits } from './limits.js';
import { LevelOutbox } from './outbox/level-outbox.js';
import type { Outbox, OutboxStats, SetAsidePage } from './outbox/outbox.js';
import type { ChainState } from './chain-state.js';
import { Publisher, type Connector } from './publisher.js';
import type { PublisherLimits } from './publisher-options.js';
import { Recorder, type RecordOptions, type RecordResult } from './recorder.js';
import { Resequencer } from './resequence.js';
import { SerialQueue } from './serial-queue.js';
import { OUTBOX_DIR, readPassword, readTerminalFile } from './terminal-dir.js';
import { PaymentUpdates } from './updates.js';
import type { BackoffOptions } from './backoff.js';
import { DEFAULT_AT_REST_CONFIG, loadDataKeys, reencryptPace, type AtRestConfig } from '../lib/at-rest/options.js';

export interface AgentOptions {
  readonly store: string;
  readonly terminal: string;
  readonly signer: Signer;
  readonly outbox: Outbox;
  /** mqtt://host:port of the gateway. */
  readonly mqttUrl: string;
  readonly password: string;
  readonly clock?: Clock;
  /** Uniform [0, 1) for backoff jitter. */
  readonly random?: () => number;
  readonly randomBytes?: RandomBytes;
  readonly logger?: Logger;
  readonly limits?: Partial<OfflineLimits>;
  readonly publisherLimits?: Partial<PublisherLimits>;
  readonly backoff?: BackoffOptions;
  readonly maxOutboxEvents?: number;
  /** How long and how many idempotency keys are kept (DEFAULT_IDEMPOTENCY). */
  readonly idempotency?: Partial<IdempotencyOptions>;
  /** 0 turns health samples off. */
  readonly healthIntervalS?: number;
  readonly host?: HostReadings;
  readonly connect?: Connector;
}

export interface AgentStats extends OutboxStats {
  readonly terminal: string;
  readonly headSeq: number;
  readonly ackedSeq: number;
  readonly offline: boolean;
  readonly link: Publisher['link']['kind'];
  /** Where the chain stands against the gateway's (chain-state.ts). */
  readonly chain: ChainState;
  /** The event and code holding or moving the chain, if any. */
  readonly blocked: Publisher['blocked'];
  /** Payments refused over the offline limits since the agent started (the health sample says which limits). */
  readonly offlineRefused: number;
  /** Acknowledged events deleted before the cloud had them (over `--max-retained-acked-events`) since start. */
  readonly retainedDropped: number;
}

export interface Agent {
  readonly terminal: string;
  readonly outbox: Outbox;
  readonly publisher: Publisher;
  /** The latest state of recent payments, as the cloud reports them (updates.ts). */
  readonly payments: PaymentUpdates;
  /** `options.idempotencyKey` makes a retry safe: the same key answers with the original result. */
  record(tx: unknown, options?: RecordOptions): Promise<RecordResult>;
  isOffline(): boolean;
  stats(): AgentStats;
  /** The events the gateway refused for good, kept aside (outbox.listSetAside). */
  listSetAside(limit: number, after?: string): Promise<SetAsidePage>;
  /** Stops sending and closes the outbox; what was recorded stays on disk. */
  stop(): Promise<void>;
}

export async function startAgent(o: AgentOptions): Promise<Agent> {
  const clock = o.clock ?? systemClock;
  const logger = (o.logger ?? silentLogger).child({ terminal: o.terminal });
  if (o.outbox.state !== 'open') await o.outbox.open();
  // One queue for record() and re-sequencing: a record never reads a head a re-sequence is replacing.
  const queue = new SerialQueue();
  const resequencer = new Resequencer({ outbox: o.outbox, signer: o.signer, queue, clock, logger });
  const publisher = new Publisher({
    url: o.mqttUrl, store: o.store, terminal: o.terminal, password: o.password, outbox: o.outbox, resequencer, clock,
    random: o.random ?? Math.random, logger,
    ...(o.publisherLimits === undefined ? {} : { limits: o.publisherLimits }),
    ...(o.backoff === undefined ? {} : { backoff: o.backoff }),
    ...(o.connect === undefined ? {} : { connect: o.connect }),
  });
  const limits: OfflineLimits = { ...DEFAULT_OFFLINE_LIMITS, ...o.limits };
  const recorder = new Recorder({
    store: o.store, terminal: o.terminal, signer: o.signer, outbox: o.outbox, clock,
    limits,
    isOffline: () => publisher.isOffline(),
    chain: () => publisher.chain,
    queue,
    ...(o.maxOutboxEvents === undefined ? {} : { maxOutboxEvents: o.maxOutboxEvents }),
    ...(o.randomBytes === undefined ? {} : { random: o.randomBytes }),
  });
  const payments = new PaymentUpdates(o.terminal, clock);
  publisher.on('update', (payload: Buffer) => payments.offer(payload));
  await publisher.start();
  const intervalS = o.healthIntervalS ?? DEFAULT_HEALTH_INTERVAL_S;
  const stopHealth = intervalS > 0
    ? startHealthReporter({ clock, outbox: o.outbox, publisher, host: o.host ?? linuxHostReadings(), offline: { limits, refusals: recorder.offlineRefusals }, startedMonoMs: clock.monotonicMs() }, intervalS)
    : () => undefined;
  const pruner = startIdempotencyPruner({ outbox: o.outbox, clock, logger }, { ...DEFAULT_IDEMPOTENCY, ...o.idempotency });
  let state: 'running' | 'stopping' | 'stopped' = 'running';
  return {
    terminal: o.terminal,
    outbox: o.outbox,
    publisher,
    payments,
    async record(tx, options) {
      if (state !== 'running') throw new TillgateError(AGENT_ERROR_CODES.AGENT_STOPPED, `agent is ${state}`);
      const result = await recorder.record(tx, options);
      if (!result.replayed) publisher.wake();
      return result;
    },
    isOffline: () => publisher.isOffline(),
    stats() {
      return {
        ...o.outbox.stats(),
        terminal: o.terminal,
        headSeq: o.outbox.head().seq,
        ackedSeq: o.outbox.acked().seq,
        offline: publisher.isOffline(),
        link: publisher.link.kind,
        chain: publisher.chain,
        blocked: publisher.blocked,
        offlineRefused: recorder.offlineRefusals.total,
        retainedDropped: publisher.counters.retainedDropped,
      };
    },
    listSetAside: (limit, after) => o.outbox.listSetAside(limit, after),
    async stop() {
      if (state !== 'running') return;
      state = 'stopping';
      stopHealth();
      await pruner.stop();
      await publisher.stop();
      await o.outbox.close();
      state = 'stopped';
    },
  };
}

/** Production wiring from a terminal directory (terminal.json, device key, password, outbox/). */
export async function startAgentFromDir(
  dir: string,
  mqttUrl: string,
  overrides: Omit<Partial<AgentOptions>, 'store' | 'terminal' | 'signer' | 'outbox' | 'mqttUrl' | 'password'> = {},
  atRest: AtRestConfig = DEFAULT_AT_REST_CONFIG,
): Promise<Agent> {
  const file = await readTerminalFile(dir);
  const [signer, password] = await Promise.all([loadDeviceKey(dir), readPassword(dir)]);
  // The outbox is sealed at rest with the terminal's data key (a key file in its directory by default).
  const outbox = new LevelOutbox(join(dir, OUTBOX_DIR), loadDataKeys(atRest, dir).keys, reencryptPace(atRest));
  await outbox.open();
  try {
    return await startAgent({ ...overrides, store: file.store, terminal: file.terminal, signer, outbox, mqttUrl, password });
  } catch (err) {
    await outbox.close();
    throw err;
  }
}
