/**
 * The publisher's window of events sent and not yet PUBACKed, each with the gateway's answer. The
 * gateway publishes a reject BEFORE it sends the PUBACK of that publish (DESIGN §3.3), on the same
 * connection, and PUBACKs come in publish order [MQTT-4.6.0-2]: so when an entry's PUBACK arrives,
 * its reject (if any) has been seen, and an entry without one was stored or was a duplicate.
 */
import type { RejectMessage } from '../protocol/messages.js';

export interface InFlight {
  readonly seq: number;
  readonly id: string;
  readonly sentAtMs: number;
  /** The gateway's refusal of this publish, once it arrived. */
  refusal: RejectMessage | undefined;
  /** Sent before a rewind or a re-sequence: its answer no longer means anything. */
  superseded: boolean;
}

export class InFlightWindow {
  #items: InFlight[] = [];

  get size(): number {
    return this.#items.length;
  }

  get oldestSentAtMs(): number | undefined {
    return this.#items[0]?.sentAtMs;
  }

  push(seq: number, id: string, sentAtMs: number): void {
    this.#items.push({ seq, id, sentAtMs, refusal: undefined, superseded: false });
  }

  /** The oldest entry: its PUBACK just came. */
  shift(): InFlight | undefined {
    return this.#items.shift();
  }

  /**
   * Attaches a reject to the first unanswered entry with its seq and id (rejects come in publish
   * order). False when none matches: a stale reject from an earlier session or an earlier chain.
   */
  attach(reject: RejectMessage): boolean {
    const entry = this.#items.find((e) => e.seq === reject.seq && e.id === reject.id && e.refusal === undefined);
    if (entry === undefined) return false;
    entry.refusal = reject;
    return true;
  }

  /** Everything in flight now is answered in vain (a rewind, a pause or a re-sequence follows). */
  supersedeAll(): void {
    for (const e of this.#items) e.superseded = true;
  }

  clear(): void {
    this.#items = [];
  }
}
