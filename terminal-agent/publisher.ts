/**
 * The publisher: sends the outbox to the gateway over MQTT (DESIGN §3.3), strictly in seq order,
 * QoS 1, clean session false, with a bounded in-flight window. Each publish gets its own answer
 * (in-flight.ts). The retained `ack` prunes the outbox only when it names the outbox's own event.
 * A refusal is acted on by its code (refusal.ts): resend later, rewind to `expected`, or
 * re-sequence the unacknowledged events onto the gateway's head (resequence.ts), setting the
 * refused one aside. The chain never stays stuck behind one event. Reconnects use full-jitter backoff.
 * Acknowledged events the cloud does not have yet (the ack's `cloud`) are kept; when the gateway's
 * head goes back below them (it was restored from an older backup), they are resent.
 */
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { EMPTY_HEAD, type ChainHead } from '../protocol/chain.js';
import { parseTopic, topics } from '../protocol/topics.js';
import { AckTracker } from './ack-tracker.js';
import { settleAnswer } from './answers.js';
import type { BackoffOptions } from './backoff.js';
import { blockOf, IN_STEP, type ChainState } from './chain-state.js';
import { parseGatewayMessage, type GatewayStatus } from './gateway-messages.js';
import { InFlightWindow, type InFlight } from './in-flight.js';
import { MqttLink, type Connector, type LinkState } from './mqtt-link.js';
import type { Outbox } from './outbox/outbox.js';
import { DEFAULT_PUBLISHER_LIMITS, type PublisherLimits } from './publisher-options.js';
import type { Refusal, ResequenceOutcome, Resequencer } from './resequence.js';

export type { Connector, LinkState } from './mqtt-link.js';

/** Acknowledged events deleted over `maxRetainedAckedEvents` are logged the first time and then every this many. */
const RETAINED_DROP_LOG_EVERY = 1_000;

/** Why the chain stopped or is being moved: the event and the gateway's code. */
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
  /** Re-signs unacknowledged events onto the gateway's head (shares the recorder's queue). */
  readonly resequencer: Pick<Resequencer, 'run'>;
  readonly clock: Clock;
  /** Uniform [0, 1): jitter (injected). */
  readonly random: () => number;
  readonly logger: Logger;
  readonly limits?: Partial<PublisherLimits>;
  readonly backoff?: BackoffOptions;
  readonly connect?: Connector;
}

/**
 * Events: `connected`, `disconnected`, `synced` (head), `acked` (acked head), `rewound` ({to, count}), `puback` (seq),
 * `reject` (the RejectMessage of one of our publishes), `resequenced` (ResequenceOutcome),
 * `blocked` (ChainBlock: the chain is held), `status` (GatewayStatus).
 */
export class Publisher extends EventEmitter {
  state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  gatewayStatus: GatewayStatus | undefined;
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
  /** Acknowledged events deleted before the cloud had them, because of `maxRetainedAckedEvents`. */
  #retainedDropped = 0;
  /** A rewind onto kept events in progress: nothing is sent until it is written. */
  #rewinding = false;
  #nextSeq = 1;
  readonly #window = new InFlightWindow();
  #pumping = false;
  #pumpAgain = false;
  #pausedUntilMs = 0;
  #chain: ChainState = IN_STEP;
  /** Highest seq the gateway answered without refusing in this session. */
  #acceptedUpTo = 0;
  /** The gateway's head as last heard on this connection. */
  readonly #acks = new AckTracker();
  /** An ack waiting to be applied (acks coalesce: only the newest is applied). */
  #ackToApply: ChainHead | undefined;
  #applyingAck = false;
  /** A re-sequence wanted once the window has drained (with the refusal that asked for it, if any). */
  #resyncWanted: { readonly refusal?: Refusal } | undefined;
  #resyncRunning = false;
  /** Events set aside since the gateway last acknowledged one (refusals in a row). */
  #setAsideInARow = 0;
  /** While held: when the held event may be sent again (monotonic ms). */
  #heldRetryAtMs = 0;
  #heldTimer: NodeJS.Timeout | undefined;
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

  /** Where the chain stands against the gateway's (chain-state.ts). */
  get chain(): ChainState {
    return this.#o.outbox.state === 'open' && !this.#o.outbox.synced() ? { kind: 'unsynced' } : this.#chain;
  }

  /** The event and code that hold or move the chain, if any (health sample `blockedSeq`/`blockedCode`). */
  get blocked(): ChainBlock | undefined {
    return blockOf(this.#chain);
  }

  get counters(): { reconnects: number; errors: number; published: number; retainedDropped: number } {
    return { reconnects: this.#link.counters.reconnects, errors: this.#link.counters.errors + this.#errors, published: this.#published, retainedDropped: this.#retainedDropped };
  }

  /** Offline (DESIGN §5.2): the gateway is unreachable, or its retained status says the WAN is not online. */
  isOffline(): boolean {
    return this.#client === undefined || (this.gatewayStatus !== undefined && this.gatewayStatus.wan !== 'online');
  }

  get inFlight(): number {
    return this.#window.size;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new TypeError(`publisher already ${this.state}`);
    this.state = 'running';
    const acked = this.#o.outbox.acked().seq;
    this.#nextSeq = acked + 1;
    // Refusals in a row survive a restart: set-aside events above the acked seq.
    this.#setAsideInARow = await this.#o.outbox.setAsideAbove(acked, this.#limits.maxConsecutiveSetAside);
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
    clearTimeout(this.#heldTimer);
    this.#client = undefined;
    this.#acks.forget();
    await this.#link.stop();
    this.state = 'stopped';
  }

  /** Link up: sync the chain base after a reset, then resend everything not yet acked. */
  async #onUp(client: MqttClient, rttMs: number): Promise<void> {
    this.rttMs = rttMs;
    this.#client = client;
    this.#sending = false;
    this.#window.clear();
    this.#resyncWanted = undefined;
    this.#acceptedUpTo = this.#o.outbox.acked().seq;
    // A move that a lost session wanted is asked for again by this session's own answers.
    if (this.#chain.kind === 'resyncing' && !this.#resyncRunning) this.#chain = IN_STEP;
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
    this.#heldRetryAtMs = this.#o.clock.monotonicMs(); // a held chain tries once per new session
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
    this.#window.clear();
    this.#resyncWanted = undefined;
    this.#acks.forget();
    // Out of reach, the terminal records offline within its limits; the next session checks again.
    if (this.#chain.kind === 'resyncing' && !this.#resyncRunning) this.#chain = IN_STEP;
    this.emit('disconnected');
  }

  /** After a reset the chain continues from the retained ack; none within the wait means a new terminal. */
  async #syncBase(client: MqttClient): Promise<void> {
    if (this.#acks.last === undefined) await this.#acks.next(this.#acks.heard, this.#limits.retainedAckWaitMs);
    // Link lost before the wait ended: we know nothing yet, so decide nothing; try on the next connect.
    if (client !== this.#client) return;
    if (!this.#o.outbox.synced()) await this.#o.outbox.adoptBase(this.#acks.last ?? EMPTY_HEAD);
    this.emit('synced', this.#o.outbox.head());
  }

  #canSend(client: MqttClient): boolean {
    return (
      this.state === 'running' && client === this.#client && this.#sending && this.#resyncWanted === undefined && !this.#resyncRunning && !this.#rewinding &&
      this.#chain.kind !== 'held' && this.#o.clock.monotonicMs() >= this.#pausedUntilMs && this.#window.size < this.#limits.maxInFlight
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
        if (client === undefined) break;
        if (this.#chain.kind === 'held') {
          await this.#retryHeld(client);
          break;
        }
        // Refill only once the window is half empty: one outbox read then covers many events,
        // instead of one LevelDB iterator per PUBACK.
        while (this.#canSend(client) && this.#window.size <= this.#limits.maxInFlight / 2) {
          const from = this.#nextSeq;
          const batch = await this.#o.outbox.read(from, this.#limits.maxInFlight - this.#window.size);
          if (this.#nextSeq !== from) continue; // rewound (or acked past it) during the read: read again
          if (batch.length === 0 || !this.#canSend(client)) break;
          if (batch[0]!.seq > Math.max(from, this.#o.outbox.acked().seq + 1)) {
            // A hole an older agent left when it set an event aside: what follows it cannot be
            // accepted where it is, so the chain moves onto the gateway's head.
            this.#wantResync(client, { kind: 'resyncing', reason: 'diverged' }, {});
            break;
          }
          for (const rec of batch) this.#send(client, rec.seq, rec.id, rec.jws);
          this.#nextSeq = batch[batch.length - 1]!.seq + 1;
        }
        this.#resyncWhenAllAnswered(client);
      } while (this.#pumpAgain);
    } catch (err) {
      this.#errors++;
      this.#o.logger.warn('pump failed', { err });
    } finally {
      this.#pumping = false;
    }
  }

  /** Held: once per `heldRetryMs` (and once per session), send the held event alone and see. */
  async #retryHeld(client: MqttClient): Promise<void> {
    const now = this.#o.clock.monotonicMs();
    if (this.#window.size > 0 || !this.#sending || client !== this.#client) return;
    if (now < this.#heldRetryAtMs) {
      this.#scheduleHeldRetry(this.#heldRetryAtMs - now);
      return;
    }
    this.#heldRetryAtMs = now + this.#limits.heldRetryMs;
    const [first] = await this.#o.outbox.read(this.#o.outbox.acked().seq + 1, 1);
    if (first !== undefined && client === this.#client) {
      this.#send(client, first.seq, first.id, first.jws);
      this.#nextSeq = first.seq + 1; // taken: the rest follows it
    }
    this.#scheduleHeldRetry(this.#limits.heldRetryMs);
  }

  #scheduleHeldRetry(ms: number): void {
    clearTimeout(this.#heldTimer);
    this.#heldTimer = setTimeout(() => void this.#pump(), ms);
    this.#heldTimer.unref();
  }

  /**
   * Out of step (the gateway is ahead or holds another chain) with every event answered and none
   * refused: the gateway holds each of them as they are, and the terminal adopts its head.
   */
  #resyncWhenAllAnswered(client: MqttClient): void {
    if (this.#chain.kind !== 'resyncing' || this.#resyncWanted !== undefined || this.#resyncRunning) return;
    if (this.#window.size > 0 || this.#nextSeq <= this.#o.outbox.head().seq) return;
    this.#resyncWanted = {};
    this.#startResyncIfDrained(client);
  }

  #send(client: MqttClient, seq: number, id: string, jws: string): void {
    const sentAt = this.#o.clock.monotonicMs();
    this.#window.push(seq, id, sentAt);
    client.publish(this.#topics.events, jws, { qos: 1 }, (err) => {
      if (client !== this.#client) return;
      const entry = this.#window.shift(); // [MQTT-4.6.0-2] PUBACKs come in publish order
      if (err || entry === undefined) {
        this.#errors++;
        return;
      }
      this.rttMs = this.#o.clock.monotonicMs() - sentAt;
      this.#answered(client, entry);
    });
  }

  /** One publish answered: its reject (seen before its PUBACK) decides what it means (answers.ts). */
  #answered(client: MqttClient, entry: InFlight): void {
    if (entry.refusal !== undefined && !entry.superseded) this.emit('reject', entry.refusal);
    const effect = settleAnswer({
      entry, chain: this.#chain, ackedSeq: this.#o.outbox.acked().seq,
      setAsideInARow: this.#setAsideInARow, maxConsecutiveSetAside: this.#limits.maxConsecutiveSetAside,
      canRewindTo: (seq) => this.#o.outbox.rewindTarget(seq) !== undefined,
    });
    switch (effect.kind) {
      case 'ignore':
        break;
      case 'accepted':
        this.#published++;
        if (effect.seq > this.#acceptedUpTo) this.#acceptedUpTo = effect.seq;
        if (effect.releasesHold) {
          this.#o.logger.info('the gateway took the held event; carrying on', { seq: effect.seq });
          this.#chain = IN_STEP;
          this.#setAsideInARow = 0;
        }
        this.emit('puback', effect.seq);
        break;
      case 'retry-later': {
        this.#window.supersedeAll();
        this.#nextSeq = Math.min(this.#nextSeq, effect.fromSeq);
        const now = this.#o.clock.monotonicMs();
        if (now >= this.#pausedUntilMs) {
          this.#pausedUntilMs = now + this.#limits.retryLaterMs;
          setTimeout(() => void this.#pump(), this.#limits.retryLaterMs).unref();
        }
        break;
      }
      case 'rewind':
        this.#window.supersedeAll();
        // The gateway's head is toSeq - 1: nothing from there on is there, whatever it answered.
        this.#acceptedUpTo = Math.min(this.#acceptedUpTo, effect.toSeq - 1);
        this.#nextSeq = effect.toSeq; // a hole there (an older agent's set-aside) is found by the pump
        break;
      case 'rewind-retained': {
        const to = this.#o.outbox.rewindTarget(effect.toSeq - 1);
        if (to !== undefined) void this.#rewind(to, 'the gateway asks for events it had acknowledged');
        break;
      }
      case 'hold':
        this.#hold({ seq: effect.seq, code: effect.code });
        break;
      case 'still-held':
        this.#window.supersedeAll();
        break;
      case 'resequence': {
        const r = effect.refusal;
        this.#o.logger.warn('event refused by the gateway; moving the chain onto its head', { seq: r.seq, code: r.code, action: r.action });
        this.#wantResync(client, { kind: 'resyncing', reason: 'refused', seq: r.seq, code: r.code }, { refusal: r });
        break;
      }
    }
    this.#startResyncIfDrained(client);
    void this.#pump();
  }

  #wantResync(client: MqttClient, state: ChainState, wanted: { readonly refusal?: Refusal }): void {
    this.#window.supersedeAll();
    this.#chain = state;
    this.#resyncWanted = wanted;
    this.#startResyncIfDrained(client);
  }

  #startResyncIfDrained(client: MqttClient): void {
    const wanted = this.#resyncWanted;
    if (wanted === undefined || this.#resyncRunning || this.#window.size > 0 || client !== this.#client) return;
    this.#resyncWanted = undefined;
    void this.#resync(client, wanted);
  }

  /** Every answer is in: read the gateway's current head, then move the chain onto it. */
  async #resync(client: MqttClient, wanted: { readonly refusal?: Refusal }): Promise<void> {
    this.#resyncRunning = true;
    try {
      const gateway = await this.#gatewayHead(client);
      if (gateway === undefined) {
        this.#o.logger.warn('no retained ack to re-sequence onto; reconnecting');
        this.#link.drop(client);
        return;
      }
      const outcome = await this.#o.resequencer.run({ gateway, acceptedUpTo: this.#acceptedUpTo, ...(wanted.refusal === undefined ? {} : { refusal: wanted.refusal }) });
      this.#afterResequence(outcome);
    } catch (err) {
      this.#errors++;
      this.#o.logger.warn('re-sequencing failed; reconnecting to try again', { err });
      this.#link.drop(client);
    } finally {
      this.#resyncRunning = false;
      if (this.#chain.kind === 'resyncing' && client !== this.#client) this.#chain = IN_STEP;
      void this.#applyAcks();
      void this.#pump();
    }
  }

  #afterResequence(outcome: ResequenceOutcome): void {
    if (outcome.kind === 'hold') {
      this.#hold({ seq: outcome.seq, code: outcome.code });
      return;
    }
    if (outcome.refused?.outcome === 'set-aside') this.#setAsideInARow++;
    this.#chain = IN_STEP;
    this.#acceptedUpTo = this.#o.outbox.acked().seq;
    this.#nextSeq = this.#o.outbox.acked().seq + 1;
    this.emit('resequenced', outcome);
  }

  /**
   * The gateway's head now: a fresh retained ack (re-subscribing re-sends it). An ack older than
   * what the gateway accepted from us in this session lags our own last event, which is its head.
   */
  async #gatewayHead(client: MqttClient): Promise<ChainHead | undefined> {
    const heard = this.#acks.heard;
    await this.#link.refreshAck(client);
    await this.#acks.next(heard, this.#limits.retainedAckWaitMs);
    if (client !== this.#client) return undefined;
    const ack = this.#acks.last;
    if (ack === undefined) {
      // No retained ack at all: the gateway holds nothing of this terminal, if nothing was ever accepted.
      return this.#o.outbox.acked().seq === 0 && this.#acceptedUpTo === 0 ? EMPTY_HEAD : undefined;
    }
    if (ack.seq >= this.#acceptedUpTo) return ack;
    const [own] = await this.#o.outbox.read(this.#acceptedUpTo, 1);
    return own?.seq === this.#acceptedUpTo ? { seq: own.seq, hash: own.hash } : undefined;
  }

  #hold(block: ChainBlock): void {
    this.#window.supersedeAll();
    const already = this.#chain.kind === 'held';
    this.#chain = { kind: 'held', seq: block.seq, code: block.code };
    this.#heldRetryAtMs = this.#o.clock.monotonicMs() + this.#limits.heldRetryMs;
    this.#scheduleHeldRetry(this.#limits.heldRetryMs);
    if (already) return;
    this.#errors++;
    this.#o.logger.error('chain held: the gateway refuses this terminal\'s events; nothing is recorded until one gets through', { ...block });
    this.emit('blocked', block);
  }

  /** A gateway that stops answering would hold the window forever: drop the link and resend. */
  #checkStalled(client: MqttClient): void {
    const oldest = this.#window.oldestSentAtMs;
    if (oldest !== undefined && this.#o.clock.monotonicMs() - oldest > this.#limits.publishTimeoutMs) {
      this.#errors++;
      this.#o.logger.warn('no PUBACK within publishTimeoutMs; reconnecting');
      this.#link.drop(client);
    }
  }

  /** Messages of the link's current connection (also before `up`: a retained ack may come first). */
  #onMessage(topic: string, payload: Buffer): void {
    if (this.state !== 'running') return;
    const parsed = parseTopic(topic);
    const msg = parsed === undefined ? undefined : parseGatewayMessage(parsed.kind, payload);
    if (msg === undefined) return;
    if (msg.kind === 'ack') {
      this.#acks.heardAck(msg.ack);
      this.#ackToApply = msg.ack;
      void this.#applyAcks();
    } else if (msg.kind === 'reject') {
      // Matched to the publish it answers; one that answers none of ours is stale (an earlier
      // session's, or an earlier chain's) and changes nothing.
      if (!this.#window.attach(msg.reject)) this.#o.logger.debug('stale reject ignored', { seq: msg.reject.seq, code: msg.reject.code });
    } else {
      this.gatewayStatus = msg.status;
      if (msg.status.accepting && this.#pausedUntilMs > 0) this.#pausedUntilMs = 0;
      this.emit('status', msg.status);
      void this.#pump();
    }
  }

  /** Acks coalesce: only the newest waiting one is applied, one outbox write at a time, never during a re-sequence. */
  async #applyAcks(): Promise<void> {
    if (this.#applyingAck || this.#resyncRunning) return;
    this.#applyingAck = true;
    try {
      while (this.#ackToApply !== undefined && !this.#resyncRunning) {
        const ack = this.#ackToApply;
        this.#ackToApply = undefined;
        const outbox = this.#o.outbox;
        if (!outbox.synced()) await outbox.adoptBase(ack);
        const verdict = await outbox.acknowledge(ack, { maxRetained: this.#limits.maxRetainedAckedEvents });
        if (verdict.kind === 'pruned') {
          if (verdict.count > 0) this.#setAsideInARow = 0;
          if (verdict.dropped !== undefined) {
            const before = this.#retainedDropped;
            this.#retainedDropped += verdict.dropped;
            // Once, then every RETAINED_DROP_LOG_EVERY more: a cloud away for long must not flood the log.
            if (before === 0 || Math.floor(before / RETAINED_DROP_LOG_EVERY) !== Math.floor(this.#retainedDropped / RETAINED_DROP_LOG_EVERY)) this.#o.logger.warn('kept more acknowledged events than --max-retained-acked-events while the cloud does not have them: deleted the oldest (the gateway holds them)', {
              dropped: verdict.dropped, droppedTotal: this.#retainedDropped, maxRetained: this.#limits.maxRetainedAckedEvents,
            });
          }
          if (ack.seq >= this.#nextSeq) this.#nextSeq = ack.seq + 1;
          this.emit('acked', outbox.acked());
        } else if (verdict.kind === 'behind') {
          await this.#rewind(verdict.to, 'the gateway\'s head went back (restored from a backup?)');
        } else if (verdict.kind === 'ahead' || verdict.kind === 'diverged') {
          this.#outOfStep(verdict.kind, ack);
        }
      }
    } catch (err) {
      this.#errors++;
      this.#o.logger.warn('applying ack failed', { err });
    } finally {
      this.#applyingAck = false;
    }
    void this.#pump();
  }

  /**
   * The gateway's head went back to `to`, one of our kept events: it lost what it had acknowledged
   * after it. Those events become unacknowledged again and are resent in order (the gateway or
   * the cloud answer what they already hold as duplicates).
   */
  async #rewind(to: ChainHead, why: string): Promise<void> {
    if (this.#rewinding) return;
    this.#rewinding = true;
    this.#window.supersedeAll();
    try {
      const count = await this.#o.outbox.rewind(to);
      this.#nextSeq = to.seq + 1;
      this.#acceptedUpTo = Math.min(this.#acceptedUpTo, to.seq);
      this.#o.logger.warn(`${why}: resending the acknowledged events this terminal kept`, { toSeq: to.seq, count });
      this.emit('rewound', { to, count });
    } catch (err) {
      this.#errors++;
      this.#o.logger.warn('rewinding onto kept events failed', { err, toSeq: to.seq });
    } finally {
      this.#rewinding = false;
      void this.#pump();
    }
  }

  /**
   * The gateway's head is not on our chain. Nothing is pruned (it would delete payments that exist
   * nowhere else); record() refuses until the chain is moved; the pending events are sent as they
   * are, so the gateway says which it holds (duplicates) and which not (CONFLICT → re-sequence).
   */
  #outOfStep(kind: 'ahead' | 'diverged', ack: ChainHead): void {
    if (this.#chain.kind !== 'in-step') return;
    this.#o.logger.warn('the gateway\'s chain is not this outbox\'s; nothing pruned, moving the unsent events onto its head', {
      kind, ackSeq: ack.seq, headSeq: this.#o.outbox.head().seq, ackedSeq: this.#o.outbox.acked().seq,
    });
    this.#chain = { kind: 'resyncing', reason: kind === 'ahead' ? 'gateway-ahead' : 'diverged' };
    const client = this.#client;
    if (client !== undefined) this.#resyncWhenAllAnswered(client);
  }
}
