/**
 * Which storage failures mean what. LevelDB reports a damaged table or log block as
 * `LEVEL_CORRUPTION` (classic-level), our own read-back checks as `STORE_CORRUPT` (records.ts), a
 * value that is no longer JSON as `LEVEL_DECODE_ERROR`: all mean the store cannot be trusted to keep
 * what it is given. A full disk shows as `LEVEL_IO_ERROR`
 * whose message carries the OS error text (LevelDB's posix env: "IO error: <file>: No space left on
 * device"), as classic-level keeps no errno.
 */
import { hasCode } from '../../protocol/errors.js';

/**
 * True for errors that mean the stored data is damaged (not a passing I/O hiccup). Every value the
 * gateway writes is JSON, so one that does not decode (`LEVEL_DECODE_ERROR`) was damaged on disk.
 */
export function isStorageDamage(err: unknown): boolean {
  return hasCode(err, 'LEVEL_CORRUPTION') || hasCode(err, 'STORE_CORRUPT') || hasCode(err, 'LEVEL_DECODE_ERROR');
}

const NO_SPACE = /No space left on device|ENOSPC|disk quota exceeded/i;

/** True when a write (or an open) failed because the filesystem is full. */
export function isDiskFull(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (hasCode(e, 'DISK_FULL') || hasCode(e, 'ENOSPC')) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && NO_SPACE.test(message)) return true;
  }
  return false;
}

/** Where a damaged read or write happened, for the alarm and the page (e.g. "forward queue read"). */
export type DamageReporter = (where: string, err: unknown) => void;
