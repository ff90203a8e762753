/**
 * Which terminals are connected and when each was last heard from. Connections live in memory;
 * last-seen times are restored at start from the presence log (gateway/presence-log.ts), so after a
 * gateway restart a terminal that has not come back is still "not seen since 02:14", not unknown.
 */
export interface PresenceEntry {
  readonly connected: boolean;
  readonly lastSeenAtMs: number | null;
}

export class Presence {
  readonly #connected = new Map<string, number>();
  readonly #lastSeen = new Map<string, number>();
  /** Terminals whose last-seen changed since the presence log last took them. */
  readonly #dirty = new Set<string>();
  readonly #max: number;

  /** `maxTerminals` bounds the maps: only authenticated terminals are tracked. */
  constructor(maxTerminals: number, restored: ReadonlyMap<string, number> = new Map()) {
    this.#max = maxTerminals;
    for (const [terminal, atMs] of restored) {
      if (this.#lastSeen.size >= this.#max) break;
      this.#lastSeen.set(terminal, atMs);
    }
  }

  connected(terminal: string, atMs: number): void {
    this.#connected.set(terminal, (this.#connected.get(terminal) ?? 0) + 1);
    this.seen(terminal, atMs);
  }

  disconnected(terminal: string, atMs: number): void {
    const n = (this.#connected.get(terminal) ?? 0) - 1;
    if (n > 0) this.#connected.set(terminal, n);
    else this.#connected.delete(terminal);
    this.seen(terminal, atMs);
  }

  seen(terminal: string, atMs: number): void {
    if (!this.#lastSeen.has(terminal) && this.#lastSeen.size >= this.#max) return;
    this.#lastSeen.set(terminal, atMs);
    this.#dirty.add(terminal);
  }

  get(terminal: string): PresenceEntry {
    return { connected: this.#connected.has(terminal), lastSeenAtMs: this.#lastSeen.get(terminal) ?? null };
  }

  connectedCount(): number {
    return this.#connected.size;
  }

  /** The last-seen times changed since the previous call (each terminal once), and forgets them. */
  takeChanged(): Map<string, number> {
    const out = new Map<string, number>();
    for (const terminal of this.#dirty) {
      const atMs = this.#lastSeen.get(terminal);
      if (atMs !== undefined) out.set(terminal, atMs);
    }
    this.#dirty.clear();
    return out;
  }
}
