/**
 * The publisher: sends the outbox to the gateway over MQTT (DESIGN §3.3), strictly in seq order,
 * QoS 1, clean session false, with a bounded in-flight window. The gateway's retained `ack` prunes
 * the outbox; `rejects` either move the event aside (and stop the chain: nothing after it can be
 * accepted) or, for SEQ_GAP, rewind to `expected`. Reconnects use full-jitter backoff.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { EMPTY_HEAD, type ChainHead } from '../protocol/chain.js';
import type { GatewayStatusMessage, RejectMessage } from '../protocol/messages.js';
import { parseTopic, topics } from '../protocol/topics.js';
import { backoffDelayMs, type BackoffOptions } from './backoff.js';
import { parseGatewayMessage } from './gateway-messages.js';
import type { Outbox } from './outbox/outbox.js';
import { DEFAULT_PUBLISHER_LIMITS, type PublisherLimits } from './publisher-options.js';

export type LinkState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'connecting'; readonly attempt: number }
  | { readonly kind: 'connected'; readonly sinceMs: number }
  | { readonly kind: 'backoff'; readonly attempt: number; readonly delayMs: number }
  | { readonly kind: 'stopped' };

/** Why the chain stopped: a rejected event nothing after it can pass (DESIGN §3.3 chain rules). */
export interface ChainBlock {
  readonly seq: number;
  readonly code: string;
}

export type Connector = (url: string, options: IClientOptions) => MqttClient;

export interface PublisherOptions {
  readonly url: string;
  readonly store: string;
  readonly terminal: string;
  readonly password: string;
  readonly outbox: Outbox;
  readonly clock: Clock;
  /** Uniform [0, 1): jitter (injected, STYLE 11). */
  readonly random: () => number;
  readonly logger: Logger;
  readonly limits?: Partial<PublisherLimits>;
  readonly backoff?: BackoffOptions;
  readonly connect?: Connector;
}

/** Reject codes that say "not now" rather than "never": the event is resent later, not set aside. */
const RETRY_LATER_CODES: ReadonlySet<string> = new Set(['STORE_FULL', 'UNKNOWN_KEY']);

export class Publisher extends EventEmitter {
  state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  link: LinkState = { kind: 'idle' };
  gatewayStatus: GatewayStatusMessage | undefined;
  blocked: ChainBlock | undefined;
  readonly counters = { reconnects: 0, errors: 0, published: 0, connects: 0 };
  rttMs: number | null = null;

  readonly #o: PublisherOptions;
  readonly #limits: PublisherLimits;
  #client: MqttClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #attempt = 0;
  #nextSeq = 1;
  #inFlightSentAt: number[] = [];
  #pumping = false;
  #pumpAgain = false;
  #pausedUntilMs = 0;
  #gapReset: { expected: number; sentUpTo: number } | undefined;
  #latestAck: ChainHead | undefined;
  #applyingAck = false;
  readonly #topics;

  constructor(options: PublisherOptions) {
    super();
    this.#o = options;
    this.#limits = { ...DEFAULT_PUBLISHER_LIMITS, ...options.limits };
    const { store, terminal } = options;
    this.#topics = { events: topics.events(store, terminal), health: topics.health(store, terminal) };
  }

  /** Offline (DESIGN §5.2): the gateway is unreachable, or its retained status says the WAN is not online. */
  isOffline(): boolean {
    return this.link.kind !== 'connected' || (this.gatewayStatus !== undefined && this.gatewayStatus.wan !== 'online');
  }

  get inFlight(): number {
    return this.#inFlightSentAt.length;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new TypeError(`publisher already ${this.state}`);
    this.state = 'running';
    const acked = this.#o.outbox.acked().seq;
    this.#nextSeq = acked + 1;
    // A set-aside event after the ack still blocks the chain after a restart.
    const aside = (await this.#o.outbox.rejected(this.#limits.maxRejectedScan)).find((r) => r.seq > acked);
    if (aside !== undefined) this.blocked = { seq: aside.seq, code: aside.code };
    this.#connect();
  }

  /** Call after an append: sends it if the link and window allow. */
  wake(): void {
    void this.#pump();
  }

  /** Health samples are QoS 0 (DESIGN §3.3): a lost one is replaced by the next. */
  publishHealth(sample: object): boolean {
    const client = this.#client;
    if (this.link.kind !== 'connected' || client === undefined) return false;
    client.publish(this.#topics.health, JSON.stringify(sample), { qos: 0 });
    return true;
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    clearTimeout(this.#timer);
    clearInterval(this.#watchdog);
    const client = this.#client;
    this.#client = undefined;
    // TESTING.md: endAsync can stay pending when the client is reconnecting; bound it.
    if (client !== undefined) await boundedEnd(client, this.#limits.closeTimeoutMs);
    this.link = { kind: 'stopped' };
    this.state = 'stopped';
  }

  #connect(): void {
    if (this.state !== 'running') return;
    this.link = { kind: 'connecting', attempt: this.#attempt };
    const startedMs = this.#o.clock.monotonicMs();
    const client = (this.#o.connect ?? mqtt.connect)(this.#o.url, {
      clientId: this.#o.terminal,
      username: this.#o.terminal,
      password: this.#o.password,
      protocolVersion: 4, // MQTT 3.1.1: Aedes 1.x has no MQTT 5 (DESIGN §3.3)
      clean: false,
      reconnectPeriod: 0, // we reconnect ourselves, with jittered backoff
      resubscribe: false, // we subscribe on every connect, which also re-sends the retained ack
      connectTimeout: this.#limits.connectTimeoutMs,
      keepalive: this.#limits.keepaliveS,
    });
    this.#client = client;
    client.on('connect', () => void this.#onConnect(client, startedMs));
    client.on('message', (topic, payload) => this.#onMessage(client, topic, payload));
    client.on('error', (err) => {
      this.counters.errors++;
      this.#o.logger.debug('mqtt error', { err });
    });
    client.on('close', () => this.#onClose(client));
  }

  async #onConnect(client: MqttClient, startedMs: number): Promise<void> {
    if (client !== this.#client) return;
    this.rttMs = this.#o.clock.monotonicMs() - startedMs;
    if (this.counters.connects > 0) this.counters.reconnects++;
    this.counters.connects++;
    this.#attempt = 0;
    this.#inFlightSentAt = [];
    this.#gapReset = undefined;
    const { store, terminal } = this.#o;
    try {
      await withTimeout(
        client.subscribeAsync({
          [topics.ack(store, terminal)]: { qos: 1 },
          [topics.rejects(store, terminal)]: { qos: 1 },
          [topics.gatewayWildcard(store)]: { qos: 1 },
        }),
        this.#limits.connectTimeoutMs,
      );
      if (!this.#o.outbox.synced()) await this.#syncBase(client);
    } catch (err) {
      this.counters.errors++;
      this.#o.logger.warn('subscribe or sync failed; reconnecting', { err });
      client.end(true);
      return;
    }
    if (client !== this.#client) return;
    this.#nextSeq = this.#o.outbox.acked().seq + 1; // resend all unacked: duplicates are cheap, gaps are not
    this.link = { kind: 'connected', sinceMs: this.#o.clock.now() };
    this.#watchdog = setInterval(() => this.#checkStalled(client), Math.max(100, this.#limits.publishTimeoutMs / 4));
    this.#watchdog.unref();
    this.emit('connected');
    void this.#pump();
  }

  /** After a reset the chain continues from the retained ack; none within the wait means a new terminal. */
  async #syncBase(client: MqttClient): Promise<void> {
    const deadline = Date.now() + this.#limits.retainedAckWaitMs;
    while (!this.#o.outbox.synced() && Date.now() < deadline && client === this.#client) {
      await new Promise((r) => setTimeout(r, 10));
    }
    if (!this.#o.outbox.synced()) await this.#o.outbox.adoptBase(EMPTY_HEAD);
    this.emit('synced', this.#o.outbox.head());
  }

  #onClose(client: MqttClient): void {
    if (client !== this.#client) return;
    clearInterval(this.#watchdog);
    this.#inFlightSentAt = [];
    client.removeAllListeners('connect');
    client.end(true);
    if (this.state !== 'running') return;
    const wasConnected = this.link.kind === 'connected';
    const delayMs = backoffDelayMs(this.#attempt, this.#o.backoff ?? this.#limits.backoff, this.#o.random);
    this.link = { kind: 'backoff', attempt: this.#attempt, delayMs };
    this.#attempt++;
    if (wasConnected) this.emit('disconnected');
    this.#timer = setTimeout(() => this.#connect(), delayMs);
  }

  #canSend(client: MqttClient): boolean {
    return (
      this.state === 'running' && client === this.#client && this.link.kind === 'connected' &&
      this.blocked === undefined && this.#o.clock.monotonicMs() >= this.#pausedUntilMs &&
      this.#inFlightSentAt.length < this.#limits.maxInFlight
    );
  }

  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        const client = this.#client;
        // Refill only once the window is half empty: one outbox read then covers many events,
        // instead of one LevelDB iterator per PUBACK.
        while (client !== undefined && this.#canSend(client) && this.#inFlightSentAt.length <= this.#limits.maxInFlight / 2) {
          const batch = await this.#o.outbox.read(this.#nextSeq, this.#limits.maxInFlight - this.#inFlightSentAt.length);
          if (batch.length === 0 || !this.#canSend(client)) break;
          for (const rec of batch) this.#send(client, rec.seq, rec.jws);
          this.#nextSeq = batch[batch.length - 1]!.seq + 1;
        }
      } while (this.#pumpAgain);
    } catch (err) {
      this.counters.errors++;
      this.#o.logger.warn('pump failed', { err });
    } finally {
      this.#pumping = false;
    }
  }

  #send(client: MqttClient, seq: number, jws: string): void {
    const sentAt = this.#o.clock.monotonicMs();
    this.#inFlightSentAt.push(sentAt);
    client.publish(this.#topics.events, jws, { qos: 1 }, (err) => {
      if (client !== this.#client) return;
      this.#inFlightSentAt.shift(); // [MQTT-4.6.0-2] PUBACKs come in publish order
      if (err) {
        this.counters.errors++;
        return;
      }
      this.counters.published++;
      this.rttMs = this.#o.clock.monotonicMs() - sentAt;
      this.emit('puback', seq);
      void this.#pump();
    });
  }

  /** A gateway that stops answering would hold the window forever: drop the link and resend. */
  #checkStalled(client: MqttClient): void {
    const oldest = this.#inFlightSentAt[0];
    if (oldest !== undefined && this.#o.clock.monotonicMs() - oldest > this.#limits.publishTimeoutMs) {
      this.counters.errors++;
      this.#o.logger.warn('no PUBACK within publishTimeoutMs; reconnecting');
      client.end(true);
    }
  }

  #onMessage(client: MqttClient, topic: string, payload: Buffer): void {
    if (client !== this.#client) return;
    const parsed = parseTopic(topic);
    const msg = parsed === undefined ? undefined : parseGatewayMessage(parsed.kind, payload);
    if (msg === undefined) return;
    if (msg.kind === 'ack') {
      this.#latestAck = this.#latestAck === undefined || msg.ack.seq > this.#latestAck.seq ? msg.ack : this.#latestAck;
      void this.#applyAcks();
    } else if (msg.kind === 'reject') {
      void this.#onReject(client, msg.reject);
    } else {
      this.gatewayStatus = msg.status;
      if (msg.status.accepting && this.#pausedUntilMs > 0) this.#pausedUntilMs = 0;
      this.emit('status', msg.status);
      void this.#pump();
    }
  }

  /** Acks coalesce: only the newest waiting one is applied, one outbox write at a time. */
  async #applyAcks(): Promise<void> {
    if (this.#applyingAck) return;
    this.#applyingAck = true;
    try {
      while (this.#latestAck !== undefined) {
        const ack = this.#latestAck;
        this.#latestAck = undefined;
        const outbox = this.#o.outbox;
        if (!outbox.synced()) await outbox.adoptBase(ack);
        if (ack.seq > outbox.head().seq) {
          // The gateway knows more of this terminal than the outbox: another device with our id?
          this.counters.errors++;
          this.#o.logger.error('gateway ack is ahead of the outbox head', { ackSeq: ack.seq, headSeq: outbox.head().seq });
          continue;
        }
        await outbox.acknowledge(ack);
        if (ack.seq >= this.#nextSeq) this.#nextSeq = ack.seq + 1;
        this.emit('acked', outbox.acked());
      }
    } catch (err) {
      this.counters.errors++;
      this.#o.logger.warn('applying ack failed', { err });
    } finally {
      this.#applyingAck = false;
    }
    void this.#pump();
  }

  async #onReject(client: MqttClient, rej: RejectMessage): Promise<void> {
    const outbox = this.#o.outbox;
    this.emit('reject', rej);
    if (rej.code === 'SEQ_GAP' && rej.expected !== undefined) {
      const g = this.#gapReset;
      if (g !== undefined && rej.expected === g.expected && rej.seq <= g.sentUpTo) return; // sent before the rewind
      const aside = (await outbox.rejected(this.#limits.maxRejectedScan)).find((r) => r.seq === rej.expected);
      if (aside !== undefined) return this.#block({ seq: aside.seq, code: aside.code });
      if (rej.expected <= outbox.acked().seq) {
        // The gateway lost events it had acknowledged and we pruned: nothing we can resend.
        return this.#block({ seq: rej.expected, code: 'GATEWAY_BEHIND' });
      }
      this.#gapReset = { expected: rej.expected, sentUpTo: this.#nextSeq - 1 };
      this.#nextSeq = rej.expected;
      void this.#pump();
      return;
    }
    if (RETRY_LATER_CODES.has(rej.code)) {
      if (this.#o.clock.monotonicMs() < this.#pausedUntilMs) return;
      this.#pausedUntilMs = this.#o.clock.monotonicMs() + this.#limits.retryLaterMs;
      this.#nextSeq = Math.min(this.#nextSeq, rej.seq);
      setTimeout(() => void this.#pump(), this.#limits.retryLaterMs).unref();
      return;
    }
    await outbox.setAside(rej.seq, rej.code, rej.message, this.#o.clock.now());
    if (client === this.#client || this.blocked === undefined) this.#block({ seq: rej.seq, code: rej.code });
  }

  #block(block: ChainBlock): void {
    if (this.blocked !== undefined) return;
    this.blocked = block;
    this.counters.errors++;
    this.#o.logger.error('chain blocked by a rejected event; it is kept aside and nothing after it is sent', { ...block });
    this.emit('blocked', block);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function boundedEnd(client: MqttClient, ms: number): Promise<void> {
  try {
    await withTimeout(client.endAsync(false), ms);
  } catch {
    client.end(true);
  }
}
