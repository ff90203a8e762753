/**
 * A background read of every record of the store, once after start, so a damaged table is found
 * even where nothing else would read it soon (old accepted events, health samples): LevelDB checks
 * a block only when it reads it, and a corrupt table otherwise shows up as forward steps failing
 * one by one. Bounded: `chunkRecords` records per step, with a pause between steps so ingest keeps
 * the disk and the event loop; block cache bypassed. The first damaged read is reported and ends the
 * scrub (the store is then `damaged` anyway).
 */
import type { Section } from './sections.js';
import { isStorageDamage, type DamageReporter } from './storage-errors.js';

export interface ScrubOptions {
  /** Records read per step. */
  readonly chunkRecords: number;
  /** Pause between steps. */
  readonly pauseMs: number;
  /** True when the scrub must stop (gateway closing). */
  readonly stopped: () => boolean;
}

/** classic-level's `fillCache: false` (passed through by sublevels; not in their typings): a scrub reads once. */
const READ_ONCE = { fillCache: false } as const;

/** Records per scrub step: ~1 MB of reads, a few ms. */
export const DEFAULT_SCRUB_CHUNK_RECORDS = 2_000;
/** Pause between steps: a 1,000,000-record store is read in well under a minute, gently. */
export const DEFAULT_SCRUB_PAUSE_MS = 5;

export type ScrubResult = { readonly kind: 'clean'; readonly records: number } | { readonly kind: 'damaged' } | { readonly kind: 'stopped' };

export async function scrubStore(sections: readonly Section[], report: DamageReporter, options: ScrubOptions): Promise<ScrubResult> {
  let records = 0;
  try {
    for (const section of sections) {
      let after: string | undefined;
      for (;;) {
        if (options.stopped()) return { kind: 'stopped' };
        let read = 0;
        // Keys and values both, values decoded (opened from their seal and parsed): a flipped byte in
        // an uncompressed block shows up as a value that does not open or is not the JSON we wrote.
        for await (const [key] of section.iterator({ ...(after === undefined ? {} : { gt: after }), limit: options.chunkRecords, ...READ_ONCE })) {
          after = key;
          read++;
        }
        records += read;
        if (read < options.chunkRecords) break;
        await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
      }
    }
    return { kind: 'clean', records };
  } catch (err) {
    if (options.stopped()) return { kind: 'stopped' };
    if (isStorageDamage(err)) {
      report('scrub of the whole store', err);
      return { kind: 'damaged' };
    }
    throw err;
  }
}
