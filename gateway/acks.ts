/**
 * The retained `P/{terminal}/ack` (DESIGN §3.3) in one place: `{seq, hash}` of the terminal's
 * durable head and, when this gateway forwards to a cloud, `cloud`: every event of the terminal
 * with seq ≤ `cloud` is accepted by the cloud. A terminal keeps acknowledged events above `cloud`
 * (terminal-agent, "retained"), so a gateway restored from an older backup can be refilled from its
 * terminals. Receivers ignore unknown fields, so an older terminal reads the same ack as before.
 *
 * Acks go out after each commit that moved a head (immediately: a terminal waits for them), and
 * again when only the cloud moved, coalesced: at most once per `intervalMs` for all terminals whose
 * cloud seq moved meanwhile (a draining backlog moves it thousands of times a second).
 *
 * A head that is not confirmed yet (a gateway restored from a backup, before the cloud said where
 * each chain stands: gateway/resync) is never published: a terminal must not prune, re-sequence or
 * rewind on a head that may be stale.
 */
import type { Logger } from '../lib/logger.js';
import type { ChainHead } from '../protocol/chain.js';
import type { AckMessage } from '../protocol/messages.js';
import { topics } from '../protocol/topics.js';
import type { Timers } from './forwarder/timers.js';
import type { MessageBus } from './ingest/message-bus.js';


export interface AckPublisherDeps {
  readonly storeId: string;
  readonly bus: MessageBus;
  /** The terminal's durable head (EMPTY_HEAD when none). */
  readonly head: (terminal: string) => ChainHead;
  /** The cloud seq of a terminal, or undefined when this gateway does not forward to a cloud. */
  readonly cloudSeq: ((terminal: string) => number) | undefined;
  /** True while the terminal's head is not confirmed (a restored gateway): nothing is published. */
  readonly withheld: (terminal: string) => boolean;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly intervalMs: number;
}

export class AckPublisher {
  readonly #d: AckPublisherDeps;
  /** Terminals whose cloud seq moved since the last flush; bounded by the enrolled terminals. */
  readonly #dirty = new Set<string>();
  #timer: unknown = null;
  #state: 'running' | 'closed' = 'running';

  constructor(deps: AckPublisherDeps) {
    this.#d = deps;
  }

  /** The ack as it stands now (null while withheld). */
  message(terminal: string): AckMessage | null {
    if (this.#d.withheld(terminal)) return null;
    const head = this.#d.head(terminal);
    const cloud = this.#d.cloudSeq?.(terminal);
    return cloud === undefined ? { seq: head.seq, hash: head.hash } : { seq: head.seq, hash: head.hash, cloud: Math.min(cloud, head.seq) };
  }

  /** Publishes the terminal's ack now (after a commit, a duplicate, at start, after a resync). */
  async publish(terminal: string): Promise<void> {
    const message = this.message(terminal);
    if (message === null || this.#state === 'closed') return;
    this.#dirty.delete(terminal);
    await this.#d.bus.publish(topics.ack(this.#d.storeId, terminal), message, { qos: 1, retain: true });
  }

  /** The cloud took more of these terminals' chains: republish their acks within `intervalMs`. */
  cloudMoved(terminals: readonly string[]): void {
    if (this.#state === 'closed' || this.#d.cloudSeq === undefined) return;
    for (const t of terminals) this.#dirty.add(t);
    if (this.#timer === null && this.#dirty.size > 0) this.#timer = this.#d.timers.setTimeout(() => this.#flush(), this.#d.intervalMs);
  }

  close(): void {
    this.#state = 'closed';
    if (this.#timer !== null) this.#d.timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#dirty.clear();
  }

  #flush(): void {
    this.#timer = null;
    const terminals = [...this.#dirty];
    this.#dirty.clear();
    for (const t of terminals) {
      this.publish(t).catch((err: unknown) => this.#d.logger.warn('ack publish failed', { terminal: t, err }));
    }
  }
}
