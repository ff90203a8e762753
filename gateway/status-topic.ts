/**
 * The one owner of the retained `P/gateway/status` topic (DESIGN §3.3):
 * `{"wan","accepting","backlog","at"}`. Fed by two facts: the disk monitor (accepting) and, once
 * it exists, the WAN monitor (wan). Publishes at once when either changes, and periodically so the
 * backlog figure stays fresh.
 */
import { isoNow, type Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { GatewayStatusMessage, WanState } from '../protocol/messages.js';
import { topics } from '../protocol/topics.js';
import type { MessageBus } from './ingest/message-bus.js';

/** Republish period: terminals read `accepting` from it; the backlog is informative. */
export const DEFAULT_STATUS_INTERVAL_MS = 30_000;

export class StatusTopic {
  readonly #bus: MessageBus;
  readonly #clock: Clock;
  readonly #topic: string;
  readonly #backlog: () => number;
  readonly #logger: Logger;
  #wan: WanState;
  #accepting: boolean;
  #timer: NodeJS.Timeout | null = null;
  #last: GatewayStatusMessage | null = null;
  #wanReported = false;

  constructor(opts: { bus: MessageBus; clock: Clock; store: string; backlog: () => number; logger: Logger; wan?: WanState; accepting?: boolean }) {
    this.#bus = opts.bus;
    this.#clock = opts.clock;
    this.#topic = topics.gatewayStatus(opts.store);
    this.#backlog = opts.backlog;
    this.#logger = opts.logger;
    // Until the WAN monitor reports, the link is unknown: "offline" is the safe word (terminals
    // then stay within offline limits).
    this.#wan = opts.wan ?? 'offline';
    this.#accepting = opts.accepting ?? true;
  }

  async start(intervalMs = DEFAULT_STATUS_INTERVAL_MS): Promise<void> {
    await this.publish();
    this.#timer = setInterval(() => void this.publish(), intervalMs);
    this.#timer.unref();
  }

  /** Feeds a fact; publishes at once when it changed. */
  update(facts: { wan?: WanState; accepting?: boolean }): void {
    const changed = (facts.wan !== undefined && facts.wan !== this.#wan) || (facts.accepting !== undefined && facts.accepting !== this.#accepting);
    if (facts.wan !== undefined) this.#wanReported = true;
    this.#wan = facts.wan ?? this.#wan;
    this.#accepting = facts.accepting ?? this.#accepting;
    if (changed) void this.publish();
  }

  get current(): GatewayStatusMessage | null {
    return this.#last;
  }

  get wan(): WanState {
    return this.#wan;
  }

  /** "unknown" until a WAN monitor has reported (the state is then a placeholder "offline"). */
  get wanSource(): 'unknown' | 'monitor' {
    return this.#wanReported ? 'monitor' : 'unknown';
  }

  async publish(): Promise<void> {
    const message: GatewayStatusMessage = { wan: this.#wan, accepting: this.#accepting, backlog: this.#backlog(), at: isoNow(this.#clock) };
    this.#last = message;
    try {
      await this.#bus.publish(this.#topic, message, { qos: 1, retain: true });
    } catch (err) {
      this.#logger.warn('status publish failed', { err });
    }
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
