/**
 * Failures by the §3.7 scoring terms, found in the records themselves (no ground truth needed):
 * a terminal fails when it sends no health sample for 5 minutes (the failure begins at its last
 * sample); the WAN fails after 5 minutes of failed probes (beginning at the first of them). A
 * silence still open when the data ends counts when the data runs 5 minutes past it. O(1) state
 * per subject, so a replay file of any length can be scanned once.
 */
import { FAILURE_SILENCE_MS } from '../../../protocol/prediction.js';
import type { RecordSource } from '../sources.js';

export interface Failure {
  readonly store: string;
  readonly subject: string;
  readonly onsetMs: number;
  /** When the subject was heard from again (or the data ended). */
  readonly endMs: number;
}

interface SubjectTrack {
  lastSampleMs: number;
  failingSinceMs: number | null;
  lastFailedMs: number;
}

export class FailureTracker {
  readonly #tracks = new Map<string, SubjectTrack & { store: string; subject: string; wan: boolean }>();
  readonly failures: Failure[] = [];
  #lastMs = Number.NEGATIVE_INFINITY;

  /** A terminal's health sample. */
  health(store: string, subject: string, atMs: number): void {
    const t = this.#track(store, subject, false, atMs);
    if (t.lastSampleMs !== Number.NEGATIVE_INFINITY && atMs - t.lastSampleMs >= FAILURE_SILENCE_MS) {
      this.failures.push({ store, subject, onsetMs: t.lastSampleMs, endMs: atMs });
    }
    t.lastSampleMs = atMs;
  }

  /** One WAN probe. */
  wan(store: string, subject: string, atMs: number, ok: boolean): void {
    const t = this.#track(store, subject, true, atMs);
    if (!ok) {
      t.failingSinceMs ??= atMs;
      t.lastFailedMs = atMs;
      return;
    }
    this.#closeRun(t, atMs);
  }

  /** Ends every open silence and failing run at the end of the data; returns all failures by time. */
  finish(endMs = this.#lastMs): Failure[] {
    for (const t of this.#tracks.values()) {
      if (t.wan) {
        if (t.failingSinceMs !== null && endMs - t.failingSinceMs >= FAILURE_SILENCE_MS) this.failures.push({ store: t.store, subject: t.subject, onsetMs: t.failingSinceMs, endMs });
        t.failingSinceMs = null;
      } else if (endMs - t.lastSampleMs >= FAILURE_SILENCE_MS) {
        this.failures.push({ store: t.store, subject: t.subject, onsetMs: t.lastSampleMs, endMs });
      }
    }
    this.failures.sort((a, b) => a.onsetMs - b.onsetMs);
    return this.failures;
  }

  #closeRun(t: SubjectTrack & { store: string; subject: string }, okAtMs: number): void {
    if (t.failingSinceMs !== null && t.lastFailedMs - t.failingSinceMs >= FAILURE_SILENCE_MS) {
      this.failures.push({ store: t.store, subject: t.subject, onsetMs: t.failingSinceMs, endMs: okAtMs });
    }
    t.failingSinceMs = null;
  }

  #track(store: string, subject: string, wan: boolean, atMs: number) {
    this.#lastMs = Math.max(this.#lastMs, atMs);
    const key = `${store}\u0000${subject}`;
    let t = this.#tracks.get(key);
    if (t === undefined) {
      t = { store, subject, wan, lastSampleMs: Number.NEGATIVE_INFINITY, failingSinceMs: null, lastFailedMs: 0 };
      this.#tracks.set(key, t);
    }
    return t;
  }
}

/** One pass over a source: the failures in its records before `untilMs`, and its last record's time. */
export async function findFailures(source: RecordSource, untilMs = Number.POSITIVE_INFINITY): Promise<{ failures: Failure[]; endMs: number }> {
  const tracker = new FailureTracker();
  let endMs = Number.NEGATIVE_INFINITY;
  for await (const batch of source.batches()) {
    for (const r of batch) {
      if (r.atMs >= untilMs) continue;
      if (r.kind === 'health') tracker.health(r.store, r.subject, r.atMs);
      else tracker.wan(r.store, r.subject, r.atMs, r.ok);
      if (r.atMs > endMs) endMs = r.atMs;
    }
  }
  return { failures: tracker.finish(endMs), endMs };
}
