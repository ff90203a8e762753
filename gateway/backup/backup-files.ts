/**
 * A gateway backup on disk: a directory holding `store.ndjson` (the snapshot stream of
 * snapshot.ts, checked as it is written) and `manifest.json` (when, how many records, the checksum,
 * which data keys the sealed values need). The data key itself is NOT in a backup: keep the key
 * file (or the plain copy of the systemd credential) in your secrets store; without it a backup
 * cannot be read, which is also what protects a stolen backup.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { z } from 'zod';
import { TillgateError } from '../../protocol/errors.js';
import { tillgateVersion } from '../../lib/version.js';
import { BACKUP_ERROR_CODES, BACKUP_FORMAT, MAX_BACKUP_LINE_CHARS, readSnapshot, type BackupHeader, type BackupTrailer, type ParsedRecord } from './snapshot.js';

export const BACKUP_STORE_FILE = 'store.ndjson';
export const BACKUP_MANIFEST_FILE = 'manifest.json';
/** The at-rest state record (plain JSON, key ids only): which data keys the sealed values need. */
const AT_REST_STATE_KEY = '!at-rest!state';
const MAX_MANIFEST_BYTES = 64 * 1024;

export const manifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  v: z.literal(1),
  takenAt: z.string().max(40),
  entries: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  keysInUse: z.array(z.string().max(64)).max(64),
  tillgateVersion: z.string().max(64),
  /** `online`: copied from a running gateway; `offline`: from a stopped gateway's directory. */
  source: z.enum(['online', 'offline']),
  dataKey: z.string().max(512),
});
export type BackupManifest = z.infer<typeof manifestSchema>;

/**
 * Writes a backup of the snapshot stream `chunks` into `outDir` (created; it must not hold a backup
 * already). The stream is checked as it is written (header, records, trailer count and checksum);
 * a copy cut short or damaged fails with BACKUP_INVALID and leaves no manifest.
 */
export async function writeBackup(outDir: string, chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>, source: BackupManifest['source']): Promise<BackupManifest> {
  await mkdir(outDir, { recursive: true });
  const existing = await readdir(outDir);
  if (existing.includes(BACKUP_MANIFEST_FILE) || existing.includes(BACKUP_STORE_FILE)) {
    throw new TillgateError(BACKUP_ERROR_CODES.targetInUse, `${outDir} already holds a backup: give a new directory`);
  }
  const tmp = join(outDir, `${BACKUP_STORE_FILE}.tmp`);
  const file = createWriteStream(tmp, { mode: 0o600 });
  let keysInUse: string[] = [];
  let done: (BackupTrailer & { header: BackupHeader }) | undefined;
  try {
    const records = readSnapshot(writtenLines(chunks, async (text) => {
      if (!file.write(text)) await once(file, 'drain');
    }));
    for (;;) {
      const next = await records.next();
      if (next.done === true) {
        done = next.value;
        break;
      }
      const keys = atRestKeys(next.value);
      if (keys !== undefined) keysInUse = keys;
    }
    await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await fsyncFile(tmp);
  } catch (err) {
    file.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
  await rename(tmp, join(outDir, BACKUP_STORE_FILE));
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT, v: 1, takenAt: done.header.takenAt, entries: done.entries, sha256: done.sha256, keysInUse,
    tillgateVersion: tillgateVersion(), source,
    dataKey: `not included: the values are sealed with the data key(s) ${keysInUse.join(', ') || '(none yet)'}; back up the key file (or the plain copy of the systemd credential) separately`,
  };
  await writeFile(join(outDir, BACKUP_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  await fsyncFile(join(outDir, BACKUP_MANIFEST_FILE));
  await fsyncFile(outDir);
  return manifest;
}

/** The manifest of a backup directory (BACKUP_INVALID when there is none or it is not one). */
export async function readManifest(dir: string): Promise<BackupManifest> {
  let text: string;
  try {
    const bytes = await readFile(join(dir, BACKUP_MANIFEST_FILE));
    if (bytes.length > MAX_MANIFEST_BYTES) throw new Error('too large');
    text = bytes.toString('utf8');
  } catch (cause) {
    throw new TillgateError(BACKUP_ERROR_CODES.invalid, `${dir} is not a finished gateway backup (no readable ${BACKUP_MANIFEST_FILE})`, { cause });
  }
  const parsed = manifestSchema.safeParse((() => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  })());
  if (!parsed.success) throw new TillgateError(BACKUP_ERROR_CODES.invalid, `${dir}/${BACKUP_MANIFEST_FILE} is not a gateway backup manifest`);
  return parsed.data;
}

/** The records of a backup directory, checked against its trailer and manifest as they are read. */
export async function* backupRecords(dir: string, manifest: BackupManifest): AsyncGenerator<ParsedRecord> {
  const input = createReadStream(join(dir, BACKUP_STORE_FILE), { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    const records = readSnapshot(lines);
    for (;;) {
      const next = await records.next();
      if (next.done === true) {
        if (next.value.sha256 !== manifest.sha256 || next.value.entries !== manifest.entries) {
          throw new TillgateError(BACKUP_ERROR_CODES.invalid, `${dir}: ${BACKUP_STORE_FILE} does not match ${BACKUP_MANIFEST_FILE}`);
        }
        return;
      }
      yield next.value;
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

/** Splits a stream of text chunks into lines (bounded), handing each chunk to `write` first. */
async function* writtenLines(chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>, write: (text: string) => Promise<void>): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
    await write(text);
    const parts = (rest + text).split('\n');
    rest = parts.pop() ?? '';
    yield* parts;
    if (rest.length > MAX_BACKUP_LINE_CHARS) throw new TillgateError(BACKUP_ERROR_CODES.invalid, 'backup: a line is longer than any record');
  }
  if (rest !== '') yield rest;
}

function atRestKeys(record: ParsedRecord): string[] | undefined {
  if (record.key.toString('utf8') !== AT_REST_STATE_KEY) return undefined;
  try {
    const state = JSON.parse(record.value.toString('utf8')) as { keysInUse?: unknown };
    return Array.isArray(state.keysInUse) ? state.keysInUse.filter((k): k is string => typeof k === 'string').slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}

async function fsyncFile(path: string): Promise<void> {
  const fd = await open(path, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}
