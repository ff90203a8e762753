/**
 * Per-client ordering. Aedes hands every packet of one socket read to `authorizePublish` at once,
 * and sends each PUBACK when its callback fires; MQTT 3.1.1 §4.6 wants them in publish order
 * ([MQTT-4.6.0-2]). A lane runs each publish's checks after the previous one's reached the
 * committer (so commit order = publish order), and fires callbacks strictly in arrival order,
 * while the next publishes are already being checked (pipelining). Order-free work (parsing,
 * signature) runs for all of a read's publishes at once.
 */
import { TillgateError } from '../../protocol/errors.js';

/** A publish handed to the committer: `durable` settles when it is on disk. */
export interface Staged<T> {
  readonly durable: Promise<T>;
}

interface Lane {
  /** Settles when the previous publish has been checked and handed to the committer. */
  staged: Promise<unknown>;
  /** Settles when the previous publish's callback has fired. */
  done: Promise<unknown>;
  depth: number;
}

export class ClientLanes {
  readonly #maxDepth: number;
  readonly #lanes = new Map<string, Lane>();

  constructor(maxDepth: number) {
    this.#maxDepth = maxDepth;
  }

  /**
   * `prepare` runs at once, concurrently with the client's other publishes (order-free checks such
   * as the signature); `stage` runs after the previous publish's stage, in arrival order, and hands
   * the publish to the committer, returning its durable outcome in a box (so the lane moves on at
   * hand-off, not at fsync); `finish` gets the outcomes in arrival order.
   */
  run<P, T>(clientId: string, prepare: () => Promise<P>, stage: (prepared: P) => Promise<Staged<T>>, finish: (err: unknown, value?: T) => void): void {
    let lane = this.#lanes.get(clientId);
    if (lane === undefined) {
      lane = { staged: Promise.resolve(), done: Promise.resolve(), depth: 0 };
      this.#lanes.set(clientId, lane);
    }
    if (lane.depth >= this.#maxDepth) {
      finish(new TillgateError('CLIENT_INFLIGHT_LIMIT', `more than ${this.#maxDepth} publishes in flight`));
      return;
    }
    lane.depth++;
    const prepared = prepare();
    // Wait for the previous stage first, then for our own preparation: a failed preparation must
    // not let the next publish's stage overtake an earlier one.
    const staged = lane.staged.then(() => prepared).then(stage);
    lane.staged = staged.catch(() => undefined);
    const outcome = staged.then((s) => s.durable);
    // `lane.done` reads the outcome only once the previous publish is answered (after its fsync);
    // a failure before that (the committer closed at shutdown) must not count as an unhandled
    // rejection, which would end the process. `finish` still gets it, in order.
    outcome.catch(() => undefined);
    const current = lane;
    lane.done = lane.done
      .then(() => outcome)
      .then(
        (value) => finish(null, value),
        (err: unknown) => finish(err),
      )
      .finally(() => {
        current.depth--;
        if (current.depth === 0 && this.#lanes.get(clientId) === current) this.#lanes.delete(clientId);
      });
  }

  get size(): number {
    return this.#lanes.size;
  }
}
