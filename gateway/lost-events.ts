/**
 * Acknowledged events the store lost (found at start against the witness, store/start-check.ts),
 * followed until they are resolved. The gateway keeps serving meanwhile: its retained ack says where
 * its chain really stands, so a terminal that still holds the lost events resends them. When a
 * terminal's head reaches the lost range again, the event at the witnessed seq tells what happened:
 * the same chain hash means the very events came back (resolved); another hash means the terminal
 * carried on with different events at those seqs (the originals exist only where they were
 * forwarded to before the damage): that is reported as EVENTS_REPLACED and stays on the page.
 * Until then the witness keeps the lost head, so a restart reports it again.
 */
import type { Logger } from '../lib/logger.js';
import { chainHash, type ChainHead } from '../protocol/chain.js';
import { INTEGRITY_CODES, type StoreIntegrity } from './integrity.js';
import type { EventStore } from './store/event-store.js';
import { lostKey, type LostHead } from './store/start-check.js';

export class LostEvents {
  readonly #integrity: StoreIntegrity;
  readonly #store: Pick<EventStore, 'head' | 'getEvent'>;
  readonly #logger: Logger;
  readonly #lost = new Map<string, LostHead>();

  constructor(integrity: StoreIntegrity, store: Pick<EventStore, 'head' | 'getEvent'>, logger: Logger) {
    this.#integrity = integrity;
    this.#store = store;
    this.#logger = logger;
  }

  add(lost: readonly LostHead[]): void {
    for (const l of lost) this.#lost.set(l.terminal, l);
  }

  /** The acknowledged head to keep witnessing for `terminal` while its events are lost. */
  heldHead(terminal: string): ChainHead | undefined {
    const l = this.#lost.get(terminal);
    return l === undefined ? undefined : { seq: l.seq, hash: l.hash };
  }

  get size(): number {
    return this.#lost.size;
  }

  /** After commits extended `terminals`: resolves what their heads now cover. */
  async check(terminals: Iterable<string>): Promise<void> {
    for (const terminal of terminals) {
      const l = this.#lost.get(terminal);
      if (l === undefined || this.#store.head(terminal).seq < l.seq) continue;
      this.#lost.delete(terminal);
      const event = await this.#store.getEvent(terminal, l.seq);
      if (event !== undefined && chainHash(event.jws) === l.hash) {
        this.#logger.info('lost events came back: the terminal resent them', { terminal, from: l.from, through: l.seq });
      } else {
        this.#integrity.report(`replaced:${terminal}:${l.seq}`, {
          code: INTEGRITY_CODES.eventsReplaced, severity: 'degraded', terminal, seqs: { from: l.from, through: l.seq },
          message: `terminal ${terminal}: events ${l.from}–${l.seq} were lost here and the terminal went on with different events at those seqs; the originals are only in the cloud if they were sent before the damage`,
        });
      }
      this.#integrity.resolve(lostKey(terminal, l.seq));
    }
  }
}
