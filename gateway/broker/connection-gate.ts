/**
 * Who gets an MQTT socket. A socket moves through one phase field: `idle` (accepted, no CONNECT
 * yet), `connecting` (its CONNECT is being checked), `session` (authenticated: a terminal). The
 * phases are bounded apart, so sockets that never authenticate cannot take the slots terminals need:
 *
 * - idle sockets ("pending"): at most `maxPending` in all and `maxPendingPerAddress` from one source
 *   address. A new socket past either bound is not refused: the oldest idle socket of that address
 *   (or, for the total, the oldest of all) is closed instead. So a flood from one host churns through
 *   its own sockets, and a terminal, which sends CONNECT as soon as TCP is up, leaves this phase long
 *   before it could be the oldest. A socket younger than `IDLE_GRACE_MS` is not closed for another of
 *   its own address (a burst of connects from one host, each with its CONNECT on the way, is let
 *   through up to the total); for the total the oldest goes regardless. Aedes' CONNECT deadline
 *   (`connectTimeoutMs`) closes an idle socket in any case.
 * - connecting sockets are bounded by the authenticator: unknown ids fail at once, and at most
 *   `authMaxConcurrentHashes` + `authMaxQueuedHashes` wait for a password check (more get "server
 *   unavailable"), each with a CONNACK that says so. They are never closed for room.
 * - sessions: at most `maxSessions` authenticated connections; past it a CONNECT gets "server
 *   unavailable" (MQTT 3.1.1 §3.2.2.3, return code 3) and the terminal retries. Never closed for room.
 *
 * Everything about a socket is dropped when it closes.
 */
import type { Socket } from 'node:net';
import type { Clock } from '../../lib/clock.js';

/**
 * How long a new socket is safe from being closed for a newer one of its own address: time for a
 * CONNECT already on the wire to be read, even on a loaded box.
 */
export const IDLE_GRACE_MS = 1_000;

export interface ConnectionLimits {
  readonly maxPending: number;
  readonly maxPendingPerAddress: number;
  readonly maxSessions: number;
}

export type ConnectionPhase = 'idle' | 'connecting' | 'session';

interface Tracked {
  readonly socket: Socket;
  readonly address: string;
  /** Order of arrival, for "oldest first". */
  readonly n: number;
  readonly arrivedMs: number;
  phase: ConnectionPhase;
}

export interface ConnectionStats {
  /** Idle sockets: accepted, no CONNECT yet. */
  readonly pending: number;
  readonly sessions: number;
  /** Idle sockets closed to make room for newer ones. */
  readonly evicted: number;
  /** CONNECTs refused because every session slot was taken. */
  readonly sessionsRefused: number;
}

export class ConnectionGate {
  readonly #limits: ConnectionLimits;
  readonly #clock: Clock;
  readonly #all = new Map<Socket, Tracked>();
  /** Idle sockets by source address, in arrival order. */
  readonly #pendingByAddress = new Map<string, Set<Tracked>>();
  #pending = 0;
  #sessions = 0;
  #arrivals = 0;
  #evicted = 0;
  #sessionsRefused = 0;

  constructor(limits: ConnectionLimits, clock: Clock) {
    if (limits.maxPending < 1 || limits.maxPendingPerAddress < 1 || limits.maxSessions < 1) throw new TypeError('connection limits must be at least 1');
    this.#limits = limits;
    this.#clock = clock;
  }

  /** A new socket: tracked as idle; makes room first by closing the oldest idle ones if needed. */
  admit(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const nowMs = this.#clock.monotonicMs();
    const sameAddress = this.#pendingByAddress.get(address);
    if (sameAddress !== undefined && sameAddress.size >= this.#limits.maxPendingPerAddress) this.#evictOldest(sameAddress, nowMs - IDLE_GRACE_MS);
    if (this.#pending >= this.#limits.maxPending) this.#evictOldest(this.#allPending(), Number.POSITIVE_INFINITY);
    const tracked: Tracked = { socket, address, n: ++this.#arrivals, arrivedMs: nowMs, phase: 'idle' };
    this.#all.set(socket, tracked);
    this.#addPending(tracked);
    socket.once('close', () => this.#forget(tracked));
  }

  /** Its CONNECT arrived (Aedes `preConnect`): no longer idle, the authenticator bounds it now. */
  connectReceived(socket: unknown): void {
    const t = this.#all.get(socket as Socket);
    if (t === undefined || t.phase !== 'idle') return;
    this.#removePending(t);
    t.phase = 'connecting';
  }

  /** Its CONNECT passed authentication: a session, if a slot is free (false: refuse it). */
  authenticated(socket: unknown): boolean {
    const t = this.#all.get(socket as Socket);
    if (t === undefined) return true; // not a socket of ours (in-process tests): nothing to bound
    if (t.phase === 'session') return true;
    if (this.#sessions >= this.#limits.maxSessions) {
      this.#sessionsRefused++;
      return false;
    }
    this.#removePending(t);
    t.phase = 'session';
    this.#sessions++;
    return true;
  }

  stats(): ConnectionStats {
    return { pending: this.#pending, sessions: this.#sessions, evicted: this.#evicted, sessionsRefused: this.#sessionsRefused };
  }

  #allPending(): Iterable<Tracked> {
    const out: Tracked[] = [];
    for (const set of this.#pendingByAddress.values()) out.push(...set);
    return out;
  }

  /** Closes the oldest of `candidates` (all idle) if it arrived before `arrivedBeforeMs`. */
  #evictOldest(candidates: Iterable<Tracked>, arrivedBeforeMs: number): void {
    let victim: Tracked | undefined;
    for (const t of candidates) if (victim === undefined || t.n < victim.n) victim = t;
    if (victim === undefined || victim.arrivedMs >= arrivedBeforeMs) return;
    this.#evicted++;
    this.#forget(victim);
    victim.socket.destroy();
  }

  #addPending(t: Tracked): void {
    let set = this.#pendingByAddress.get(t.address);
    if (set === undefined) {
      set = new Set();
      this.#pendingByAddress.set(t.address, set);
    }
    set.add(t);
    this.#pending++;
  }

  #removePending(t: Tracked): void {
    const set = this.#pendingByAddress.get(t.address);
    if (set === undefined || !set.delete(t)) return;
    this.#pending--;
    if (set.size === 0) this.#pendingByAddress.delete(t.address);
  }

  #forget(t: Tracked): void {
    if (this.#all.get(t.socket) !== t) return;
    this.#all.delete(t.socket);
    if (t.phase === 'session') this.#sessions--;
    else if (t.phase === 'idle') this.#removePending(t);
  }
}
