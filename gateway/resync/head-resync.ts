/**
 * After a restore from backup (gateway/store/restore-state.ts): asks the cloud for the head of every
 * unconfirmed terminal, one at a time, confirms it, and publishes the terminal's ack so it resends
 * what it kept. Runs every `retryMs` while some terminal is unconfirmed (the cloud unreachable, or
 * a terminal enrolled since), and not at all on a gateway that was never restored.
 */
import type { Logger } from '../../lib/logger.js';
import type { Timers } from '../forwarder/timers.js';
import type { RestoreState } from '../store/restore-state.js';
import type { CloudHeads } from './cloud-heads.js';

export interface HeadResyncDeps {
  readonly state: Pick<RestoreState, 'restored' | 'unconfirmedTerminals' | 'confirm'>;
  readonly heads: CloudHeads;
  readonly acks: { publish(terminal: string): Promise<void> };
  /** False while the demo WAN cut is on (link-gate.ts): the cloud is "unreachable". */
  readonly linkUp: () => boolean;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly retryMs: number;
}

export class HeadResync {
  readonly #d: HeadResyncDeps;
  #state: 'idle' | 'running' | 'closed' = 'idle';
  #timer: unknown = null;
  #round: Promise<void> = Promise.resolve();

  constructor(deps: HeadResyncDeps) {
    this.#d = deps;
  }

  start(): void {
    if (!this.#d.state.restored || this.#state !== 'idle') return;
    this.#state = 'running';
    this.#schedule(0);
  }

  /** One pass over the unconfirmed terminals; resolves when it is done (tests wait on it). */
  async runOnce(): Promise<number> {
    let confirmed = 0;
    for (const terminal of this.#d.state.unconfirmedTerminals()) {
      if (this.#state === 'closed' || !this.#d.linkUp()) break;
      const answer = await this.#d.heads.head(terminal);
      if (!answer.ok) {
        this.#d.logger.warn('restored gateway: the cloud did not say where this terminal\'s chain stands; asking again later', { terminal, code: answer.code });
        break;
      }
      await this.#d.state.confirm(terminal, answer.head);
      confirmed++;
      await this.#d.acks.publish(terminal).catch((err: unknown) => this.#d.logger.warn('ack publish failed', { terminal, err }));
    }
    return confirmed;
  }

  async close(): Promise<void> {
    this.#state = 'closed';
    if (this.#timer !== null) this.#d.timers.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#round;
  }

  #schedule(ms: number): void {
    this.#timer = this.#d.timers.setTimeout(() => {
      this.#timer = null;
      this.#round = this.runOnce().then(
        () => undefined,
        (err: unknown) => this.#d.logger.warn('restored gateway: confirming heads failed; trying again', { err }),
      ).then(() => {
        if (this.#state === 'running') this.#schedule(this.#d.retryMs);
      });
    }, ms);
  }
}
