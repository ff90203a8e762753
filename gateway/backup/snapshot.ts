/**
 * A consistent copy of the gateway's whole LevelDB, as one stream of lines: a header, one line per
 * record (key and value, base64, exactly the bytes LevelDB holds, so values stay sealed at rest),
 * and a trailer with the count and a SHA-256 over the record lines. One LevelDB iterator reads it
 * all, and an iterator reads from an implicit snapshot taken when it is created: the copy is the
 * store at one instant even while the gateway keeps committing.
 *
 * The same stream is a backup's `store.ndjson` (backup-files.ts) and the answer of the running
 * gateway's backup endpoints (admin-socket.ts, `GET /api/backup`).
 */
import { createHash } from 'node:crypto';
import type { ClassicLevel } from 'classic-level';
import { z } from 'zod';
import { TillgateError } from '../../protocol/errors.js';

export const BACKUP_FORMAT = 'tillgate-gateway-backup';
export const BACKUP_ERROR_CODES = {
  /** The backup is not one, is cut short, or its checksum does not match. */
  invalid: 'BACKUP_INVALID',
  /** The gateway's store could not be read for a backup. */
  unavailable: 'BACKUP_UNAVAILABLE',
  /** The target of a restore holds a store and --replace was not given, or the gateway runs. */
  targetInUse: 'RESTORE_TARGET_IN_USE',
} as const;

/** Largest key and value of one record (LevelDB keys here are short; events ≤ 16 KiB, sealed). */
export const MAX_BACKUP_KEY_BYTES = 4 * 1024;
export const MAX_BACKUP_VALUE_BYTES = 1024 * 1024;
/** Longest line of a backup: a record at its limits, in base64 and JSON. */
export const MAX_BACKUP_LINE_CHARS = Math.ceil(((MAX_BACKUP_KEY_BYTES + MAX_BACKUP_VALUE_BYTES) * 4) / 3) + 64;
/** Records read per iterator step: bounds memory while the copy streams. */
const READ_CHUNK = 256;

export const headerSchema = z.object({ format: z.literal(BACKUP_FORMAT), v: z.literal(1), takenAt: z.string().max(40) });
export type BackupHeader = z.infer<typeof headerSchema>;
export const trailerSchema = z.object({ end: z.literal(true), entries: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export type BackupTrailer = z.infer<typeof trailerSchema>;
const recordSchema = z.tuple([z.string().max(Math.ceil((MAX_BACKUP_KEY_BYTES * 4) / 3) + 4), z.string().max(Math.ceil((MAX_BACKUP_VALUE_BYTES * 4) / 3) + 4)]);

type RawDb = ClassicLevel<string, unknown> | ClassicLevel<Buffer, Buffer>;

/** The lines of a snapshot of `db` (each ends with "\n"). */
export async function* snapshotLines(db: RawDb, takenAt: string): AsyncGenerator<string> {
  const header: BackupHeader = { format: BACKUP_FORMAT, v: 1, takenAt };
  yield `${JSON.stringify(header)}\n`;
  const hash = createHash('sha256');
  let entries = 0;
  const iterator = (db as ClassicLevel<Buffer, Buffer>).iterator({ keyEncoding: 'buffer', valueEncoding: 'buffer' });
  try {
    for (;;) {
      const chunk = await iterator.nextv(READ_CHUNK);
      if (chunk.length === 0) break;
      let text = '';
      for (const [key, value] of chunk) {
        const line = `${JSON.stringify([key.toString('base64'), value.toString('base64')])}\n`;
        hash.update(line);
        text += line;
        entries++;
      }
      yield text;
    }
  } finally {
    await iterator.close();
  }
  const trailer: BackupTrailer = { end: true, entries, sha256: hash.digest('hex') };
  yield `${JSON.stringify(trailer)}\n`;
}

export interface ParsedRecord {
  readonly key: Buffer;
  readonly value: Buffer;
}

/**
 * Reads a snapshot's lines back, checking the header, every record and the trailer (count and
 * checksum); yields the records in order. Throws BACKUP_INVALID on anything else, including a
 * stream that ends without its trailer (a copy cut short).
 */
export async function* readSnapshot(lines: AsyncIterable<string>): AsyncGenerator<ParsedRecord, BackupTrailer & { header: BackupHeader }> {
  const hash = createHash('sha256');
  let header: BackupHeader | undefined;
  let trailer: BackupTrailer | undefined;
  let entries = 0;
  for await (const line of lines) {
    if (line === '') continue;
    if (line.length > MAX_BACKUP_LINE_CHARS) throw invalid('a line is longer than any record');
    if (trailer !== undefined) throw invalid('lines after the trailer');
    const json = parseJson(line);
    if (header === undefined) {
      const h = headerSchema.safeParse(json);
      if (!h.success) throw invalid('not a tillgate gateway backup (no header)');
      header = h.data;
      continue;
    }
    if (!Array.isArray(json)) {
      const t = trailerSchema.safeParse(json);
      if (!t.success) throw invalid('an unreadable line');
      trailer = t.data;
      continue;
    }
    const r = recordSchema.safeParse(json);
    if (!r.success) throw invalid(`record ${entries + 1} is not a key and a value`);
    hash.update(`${line}\n`);
    entries++;
    yield { key: Buffer.from(r.data[0], 'base64'), value: Buffer.from(r.data[1], 'base64') };
  }
  if (header === undefined) throw invalid('empty');
  if (trailer === undefined) throw invalid('cut short: no trailer (the copy did not finish)');
  if (trailer.entries !== entries || trailer.sha256 !== hash.digest('hex')) throw invalid('the records do not match the trailer\'s count and checksum');
  return { ...trailer, header };
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    throw invalid('a line is not JSON');
  }
}

function invalid(why: string): TillgateError {
  return new TillgateError(BACKUP_ERROR_CODES.invalid, `backup: ${why}`);
}
