/**
 * Where each terminal's chain stands counting appends that are checked but not yet durable, so a
 * terminal can pipeline publishes: event N+1 is checked against N while N waits for its fsync.
 * Bounded by the committer's pending limit. After a failed commit everything tentative is dropped
 * and the durable heads rule again.
 */
import { EMPTY_HEAD, type ChainHead } from '../../protocol/chain.js';
import type { CommitEntry } from '../store/event-store.js';

interface Tentative {
  readonly seq: number;
  readonly hash: string;
  readonly jws: string;
}

export class ChainTracker {
  readonly #durableHead: (terminal: string) => ChainHead;
  readonly #pending = new Map<string, Tentative[]>();

  constructor(durableHead: (terminal: string) => ChainHead) {
    this.#durableHead = durableHead;
  }

  /** Head including appends in flight. */
  head(terminal: string): ChainHead {
    const list = this.#pending.get(terminal);
    const last = list?.[list.length - 1];
    return last !== undefined ? { seq: last.seq, hash: last.hash } : (this.#durableHead(terminal) ?? EMPTY_HEAD);
  }

  durableHead(terminal: string): ChainHead {
    return this.#durableHead(terminal);
  }

  /** The JWS of an append in flight, for duplicate detection before it is on disk. */
  pendingJws(terminal: string, seq: number): string | undefined {
    return this.#pending.get(terminal)?.find((t) => t.seq === seq)?.jws;
  }

  add(terminal: string, seq: number, hash: string, jws: string): void {
    const list = this.#pending.get(terminal) ?? [];
    list.push({ seq, hash, jws });
    this.#pending.set(terminal, list);
  }

  /** Drops what a successful batch made durable. */
  committed(entries: readonly CommitEntry[]): void {
    for (const e of entries) {
      if (e.kind !== 'event') continue;
      const list = this.#pending.get(e.terminal);
      if (list === undefined) continue;
      const i = list.findIndex((t) => t.seq === e.seq);
      if (i >= 0) list.splice(0, i + 1);
      if (list.length === 0) this.#pending.delete(e.terminal);
    }
  }

  reset(): void {
    this.#pending.clear();
  }
}
