/**
 * The publisher: sends the outbox to the gateway over MQTT (DESIGN §3.3), strictly in seq order,
 * QoS 1, clean session false, with a bounded in-flight window. The gateway's retained `ack` prunes
 * the outbox; `rejects` either move the event aside (and stop the chain: nothing after it can be
 * accepted) or, for SEQ_GAP, rewind to `expected`. Reconnects use full-jitter backoff.
 */
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { EMPTY_HEAD, type ChainHead } from '../protocol/chain.js';
import type { GatewayStatusMessage, RejectMessage } from '../protocol/messages.js';
import { parseTopic, topics } from '../protocol/topics.js';
import type { BackoffOptions } from './backoff.js';
import { parseGatewayMessage } from './gateway-messages.js';
import { MqttLink, type Connector, type LinkState } from './mqtt-link.js';
import type { Outbox } from './outbox/outbox.js';
import { DEFAULT_PUBLISHER_LIMITS, type PublisherLimits } from './publisher-options.js';

export type { Connector, LinkState } from './mqtt-link.js';

/** Why the chain stopped: a rejected event nothing after it can pass (DESIGN §3.3 chain rules). */
export interface ChainBlock {
  readonly seq: number;
  readonly code: string;
}

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
  gatewayStatus: GatewayStatusMessage | undefined;
  blocked: ChainBlock | undefined;
  rttMs: number | null = null;

  readonly #o: PublisherOptions;
  readonly #limits: PublisherLimits;
  readonly #link: MqttLink;
  /** The connection the window belongs to; undefined while the link is down. */
  #client: MqttClient | undefined;
  /** True once the connection is synced and `#nextSeq` set for it: only then may the pump send. */
  #sending = false;
  #watchdog: NodeJS.Timeout | undefined;
  #errors = 0;
  #published = 0;
  #nextSeq = 1;
  #inFlightSentAt: number[] = [];
  #pumping = false;
  #pumpAgain = false;
  #pausedUntilMs = 0;
  #gapReset: { expected: number; sentUpTo: number } | undefined;
  #latestAck: ChainHead | undefined;
  #applyingAck = false;
  #rejectTail: Promise<void> = Promise.resolve();
  readonly #topics;

  constructor(options: PublisherOptions) {
    super();
    this.#o = options;
    this.#limits = { ...DEFAULT_PUBLISHER_LIMITS, ...options.limits };
    const { store, terminal } = options;
    this.#topics = { events: topics.events(store, terminal), health: topics.health(store, terminal) };
    this.#link = new MqttLink({
      url: options.url, store, terminal, password: options.password, clock: options.clock, random: options.random,
      logger: options.logger, limits: this.#limits, backoff: options.backoff ?? this.#limits.backoff,
      ...(options.connect === undefined ? {} : { connect: options.connect }),
    });
    this.#link.on('up', (client: MqttClient, rttMs: number) => void this.#onUp(client, rttMs));
    this.#link.on('down', () => this.#onDown());
    this.#link.on('message', (topic: string, payload: Buffer) => this.#onMessage(topic, payload));
    this.#link.on('update', (_topic: string, payload: Buffer) => this.emit('update', payload));
  }

  get link(): LinkState {
    return this.#link.state;
  }

  get counters(): { reconnects: number; errors: number; published: number } {
    return { reconnects: this.#link.counters.reconnects, errors: this.#link.counters.errors + this.#errors, published: this.#published };
  }

  /** Offline (DESIGN §5.2): the gateway is unreachable, or its retained status says the WAN is not online. */
  isOffline(): boolean {
    return this.#client === undefined || (this.gatewayStatus !== undefined && this.gatewayStatus.wan !== 'online');
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
    this.#link.start();
  }

  /** Call after an append: sends it if the link and window allow. */
  wake(): void {
    void this.#pump();
  }

  /** Health samples are QoS 0 (DESIGN §3.3): a lost one is replaced by the next. */
  publishHealth(sample: object): boolean {
    const client = this.#client;
    if (client === undefined) return false;
    client.publish(this.#topics.health, JSON.stringify(sample), { qos: 0 });
    return true;
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    clearInterval(this.#watchdog);
    this.#client = undefined;
    await this.#link.stop();
    this.state = 'stopped';
  }

  /** Link up: sync the chain base after a reset, then resend everything not yet acked. */
  async #onUp(client: MqttClient, rttMs: number): Promise<void> {
    this.rttMs = rttMs;
    this.#client = client;
    this.#sending = false;
    this.#inFlightSentAt = [];
    this.#gapReset = undefined;
    try {
      if (!this.#o.outbox.synced()) await this.#syncBase(client);
    } catch (err) {
      this.#errors++;
      this.#o.logger.warn('sync from the retained ack failed; reconnecting', { err });
      this.#link.drop(client);
      return;
    }
    if (client !== this.#client) return;
    this.#nextSeq = this.#o.outbox.acked().seq + 1; // resend all unacked: duplicates are cheap, gaps are not
    this.#sending = true;
    clearInterval(this.#watchdog);
    this.#watchdog = setInterval(() => this.#checkStalled(client), Math.max(100, this.#limits.publishTimeoutMs / 4));
    this.#watchdog.unref();
    this.emit('connected');
    void this.#pump();
  }

  #onDown(): void {
    this.#client = undefined;
    this.#sending = false;
    clearInterval(this.#watchdog);
    this.#inFlightSentAt = [];
    this.emit('disconnected');
  }

  /** After a reset the chain continues from the retained ack; none within the wait means a new terminal. */
  async #syncBase(client: MqttClient): Promise<void> {
    const deadline = Date.now() + this.#limits.retainedAckWaitMs;
    while (!this.#o.outbox.synced() && Date.now() < deadline && client === this.#client) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // Link lost before the wait ended: we know nothing yet, so decide nothing; try on the next connect.
    if (client !== this.#client) return;
    if (!this.#o.outbox.synced()) await this.#o.outbox.adoptBase(EMPTY_HEAD);
    this.emit('synced', this.#o.outbox.head());
  }

  #canSend(client: MqttClient): boolean {
    return (
      this.state === 'running' && client === this.#client && this.#sending &&
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
      this.#errors++;
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
        this.#errors++;
        return;
      }
      this.#published++;
      this.rttMs = this.#o.clock.monotonicMs() - sentAt;
      this.emit('puback', seq);
      void this.#pump();
    });
  }

  /** A gateway that stops answering would hold the window forever: drop the link and resend. */
  #checkStalled(client: MqttClient): void {
    const oldest = this.#inFlightSentAt[0];
    if (oldest !== undefined && this.#o.clock.monotonicMs() - oldest > this.#limits.publishTimeoutMs) {
      this.#errors++;
      this.#o.logger.warn('no PUBACK within publishTimeoutMs; reconnecting');
      this.#link.drop(client);
    }
  }

  #onMessage(topic: string, payload: Buffer): void {
    if (this.#client === undefined) return;
    const parsed = parseTopic(topic);
    const msg = parsed === undefined ? undefined : parseGatewayMessage(parsed.kind, payload);
    if (msg === undefined) return;
    if (msg.kind === 'ack') {
      this.#latestAck = this.#latestAck === undefined || msg.ack.seq > this.#latestAck.seq ? msg.ack : this.#latestAck;
      void this.#applyAcks();
    } else if (msg.kind === 'reject') {
      // One reject at a time, in arrival order: a SEQ_GAP must see the set-aside of the reject
      // before it, or it would rewind and resend the rejected event.
      const reject = msg.reject;
      this.#rejectTail = this.#rejectTail.then(() => this.#onReject(reject)).catch((err: unknown) => {
        this.#errors++;
        this.#o.logger.warn('handling a reject failed', { err });
      });
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
          this.#errors++;
          this.#o.logger.error('gateway ack is ahead of the outbox head', { ackSeq: ack.seq, headSeq: outbox.head().seq });
          continue;
        }
        await outbox.acknowledge(ack);
        if (ack.seq >= this.#nextSeq) this.#nextSeq = ack.seq + 1;
        this.emit('acked', outbox.acked());
      }
    } catch (err) {
      this.#errors++;
      this.#o.logger.warn('applying ack failed', { err });
    } finally {
      this.#applyingAck = false;
    }
    void this.#pump();
  }

  async #onReject(rej: RejectMessage): Promise<void> {
    const outbox = this.#o.outbox;
    this.emit('reject', rej);
    if (rej.code === 'SEQ_GAP' && rej.expected !== undefined) {
      if (this.blocked !== undefined) return; // the chain is stopped: nothing after it is resent
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
    // Only a reject for an event still pending blocks the chain: one for an event since acked (a
    // stale message from an older session) changes nothing.
    if (await outbox.setAside(rej.seq, rej.code, rej.message, this.#o.clock.now())) this.#block({ seq: rej.seq, code: rej.code });
  }

  #block(block: ChainBlock): void {
    if (this.blocked !== undefined) return;
    this.blocked = block;
    this.#errors++;
    this.#o.logger.error('chain blocked by a rejected event; it is kept aside and nothing after it is sent', { ...block });
    this.emit('blocked', block);
  }
}
