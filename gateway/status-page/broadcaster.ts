/**
 * Live updates for every open status page, rendered once per tick and fanned out (so N viewers
 * cost one render, not N). Bounded: at most `maxStreams` viewers; a viewer whose previous write has
 * not drained yet skips a tick instead of queueing (each update is a full snapshot, so nothing is
 * lost but stale frames); a heartbeat comment keeps idle proxies and phones from closing the stream.
 */
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';

/** What one SSE `status` event carries. */
export interface StatusFrame {
  /** The rendered `#live` fragment. */
  readonly html: string;
  readonly title: string;
  readonly updated: string;
  readonly level: string;
  readonly headline: string;
}

export interface Viewer {
  sendFrame(frame: StatusFrame): Promise<void>;
  sendHeartbeat(): Promise<void>;
  /** Ends this viewer's stream (gateway shutting down). */
  end(): void;
}

export interface BroadcasterOptions {
  /** Concurrent live streams: each holds a socket and a render share; a store has a technician or
   * two, so more is a misbehaving client. Past it the stream is refused and the page polls. */
  readonly maxStreams: number;
  /**
   * Streams one address may hold without credentials: a phone or a laptop needs one or two, so
   * one host cannot take the streams of everyone else.
   */
  readonly maxStreamsPerAddress: number;
  /** How often the page is re-rendered and pushed while anyone watches. */
  readonly pushIntervalMs: number;
  /** Longest silence on a stream before a comment line is sent (proxies drop idle streams). */
  readonly heartbeatMs: number;
}

export const DEFAULT_MAX_STATUS_STREAMS = 16;
export const DEFAULT_MAX_STATUS_STREAMS_PER_ADDRESS = 4;
/**
 * The share of `maxStreams` kept for viewers with credentials (the admin token, or the status user
 * when reads need one): streams without credentials can never take them all.
 */
export const RESERVED_STREAM_SHARE = 0.25;

/** Who asks for a stream: where from, and whether the request carried valid credentials. */
export interface ViewerIdentity {
  readonly address: string;
  readonly authenticated: boolean;
}
export const DEFAULT_STATUS_PUSH_INTERVAL_MS = 2_000;
export const DEFAULT_STATUS_HEARTBEAT_MS = 15_000;

interface Slot {
  readonly viewer: Viewer;
  readonly who: ViewerIdentity;
  busy: boolean;
  lastWriteMs: number;
  lastHtml: string | null;
}

export class StatusBroadcaster {
  readonly #render: () => Promise<StatusFrame>;
  readonly #options: BroadcasterOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #slots = new Set<Slot>();
  #timer: NodeJS.Timeout | null = null;
  #state: 'open' | 'closed' = 'open';

  constructor(render: () => Promise<StatusFrame>, options: BroadcasterOptions, clock: Clock, logger: Logger) {
    this.#render = render;
    this.#options = options;
    this.#clock = clock;
    this.#logger = logger;
  }

  get viewers(): number {
    return this.#slots.size;
  }

  /**
   * True when one more viewer `who` fits: under `maxStreams` in all; without credentials also under
   * the share not kept for viewers with credentials, and under `maxStreamsPerAddress` for its address.
   */
  hasRoom(who: ViewerIdentity = { address: 'unknown', authenticated: false }): boolean {
    if (this.#state !== 'open' || this.#slots.size >= this.#options.maxStreams) return false;
    if (who.authenticated) return true;
    const anonymousMax = this.#options.maxStreams - Math.floor(this.#options.maxStreams * RESERVED_STREAM_SHARE);
    let anonymous = 0;
    let sameAddress = 0;
    for (const slot of this.#slots) {
      if (slot.who.authenticated) continue;
      anonymous++;
      if (slot.who.address === who.address) sameAddress++;
    }
    return anonymous < anonymousMax && sameAddress < this.#options.maxStreamsPerAddress;
  }

  /**
   * Adds a viewer and sends it the current state at once. Returns the function that removes it,
   * or null when there is no room for `who` or the hub is closed (the caller answers 503).
   */
  add(viewer: Viewer, who: ViewerIdentity = { address: 'unknown', authenticated: false }): (() => void) | null {
    if (!this.hasRoom(who)) return null;
    const slot: Slot = { viewer, who, busy: false, lastWriteMs: this.#clock.monotonicMs(), lastHtml: null };
    this.#slots.add(slot);
    if (this.#timer === null) {
      this.#timer = setInterval(() => void this.#tick(), this.#options.pushIntervalMs);
      this.#timer.unref();
    }
    void this.#renderAndSend([slot]);
    return () => this.#remove(slot);
  }

  /** Ends every stream; later `add` calls are refused. */
  close(): void {
    this.#state = 'closed';
    for (const slot of [...this.#slots]) {
      this.#remove(slot);
      slot.viewer.end();
    }
  }

  #remove(slot: Slot): void {
    this.#slots.delete(slot);
    if (this.#slots.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  async #tick(): Promise<void> {
    const now = this.#clock.monotonicMs();
    const ready = [...this.#slots].filter((s) => !s.busy);
    await this.#renderAndSend(ready);
    for (const slot of ready) {
      if (!slot.busy && now - slot.lastWriteMs >= this.#options.heartbeatMs) this.#write(slot, () => slot.viewer.sendHeartbeat());
    }
  }

  async #renderAndSend(slots: readonly Slot[]): Promise<void> {
    if (slots.length === 0) return;
    let frame: StatusFrame;
    try {
      frame = await this.#render();
    } catch (err) {
      this.#logger.warn('status page render failed', { err });
      return;
    }
    for (const slot of slots) {
      if (!this.#slots.has(slot) || slot.busy || slot.lastHtml === frame.html) continue;
      slot.lastHtml = frame.html;
      this.#write(slot, () => slot.viewer.sendFrame(frame));
    }
  }

  #write(slot: Slot, send: () => Promise<void>): void {
    slot.busy = true;
    send().then(
      () => {
        slot.busy = false;
        slot.lastWriteMs = this.#clock.monotonicMs();
      },
      () => {
        // A failed write means the socket is gone: drop the viewer.
        this.#remove(slot);
        slot.viewer.end();
      },
    );
  }
}
