/** Which terminals are connected and when each was last heard from (in memory; resets on restart). */
export interface PresenceEntry {
  readonly connected: boolean;
  readonly lastSeenAtMs: number | null;
}

export class Presence {
  readonly #connected = new Map<string, number>();
  readonly #lastSeen = new Map<string, number>();
  readonly #max: number;

  /** `maxTerminals` bounds the maps: only authenticated terminals are tracked. */
  constructor(maxTerminals: number) {
    this.#max = maxTerminals;
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
  }

  get(terminal: string): PresenceEntry {
    return { connected: this.#connected.has(terminal), lastSeenAtMs: this.#lastSeen.get(terminal) ?? null };
  }

  connectedCount(): number {
    return this.#connected.size;
  }
}
