/**
 * `tillgate gateway backup` and `tillgate gateway restore` (docs/operator-guide.md, "Backup and
 * restore"). A backup is a consistent copy of the store with its values still sealed at rest; the
 * data key is backed up separately. A restore puts a backup back into a stopped gateway's data
 * directory and marks it restored, so the next start confirms every terminal's chain with the cloud
 * before it acknowledges anything (gateway/store/restore-state.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, rename, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { z } from 'zod';
import { namingOption } from '../../lib/cli-failure.js';
import { helpText, loadConfig, type OptionSpecs } from '../../lib/config.js';
import { DEFAULT_DATA_KEY_FILE_NAME, openKeyFile, resolveKeyFile } from '../../lib/at-rest/key-provider.js';
import { hasCode, TillgateError } from '../../protocol/errors.js';
import { RESTORE_MARKER_FILE, type RestoreMarker } from '../store/restore-state.js';
import { WITNESS_FILE } from '../store/witness.js';
import { backupRecords, readManifest, writeBackup } from './backup-files.js';
import { ADMIN_SOCKET_FILE } from './serve.js';
import { BACKUP_ERROR_CODES, snapshotLines } from './snapshot.js';

/** Records written per LevelDB batch while restoring (the last batch is synced). */
const RESTORE_BATCH_RECORDS = 1_000;
/** A backup over HTTP that stalls this long is given up (the copy is refused, nothing half-written). */
const BACKUP_HTTP_TIMEOUT_MS = 10 * 60_000;
/** LevelDB's own files in a data directory: what a restore with --replace moves aside. */
const LEVEL_FILE = /^(CURRENT|LOCK|LOG|LOG\.old|MANIFEST-\d+|\d+\.(log|ldb|sst))$/;

export const backupSpecs: OptionSpecs = {
  dataDir: { type: 'string', doc: 'the gateway\'s data directory: copied through its admin socket while it runs, or read directly when it is stopped' },
  gatewayUrl: { type: 'string', doc: 'instead of --data-dir: a running gateway\'s HTTP URL (GET /api/backup with the admin token)' },
  adminToken: { type: 'string', secret: true, doc: 'with --gateway-url: the gateway\'s admin bearer token' },
  out: { type: 'string', doc: 'new directory for the backup (store.ndjson and manifest.json); the data key is not in it' },
};
const backupSchema = z
  .object({
    dataDir: z.string().min(1).optional(),
    gatewayUrl: z.url({ protocol: /^https?$/ }).optional(),
    adminToken: z.string().min(8).max(1024).optional(),
    out: z.string().min(1),
  })
  .superRefine((o, ctx) => {
    if ((o.dataDir === undefined) === (o.gatewayUrl === undefined)) ctx.addIssue({ code: 'custom', path: ['dataDir'], message: 'give --data-dir or --gateway-url (one of them)' });
    if (o.gatewayUrl !== undefined && o.adminToken === undefined) ctx.addIssue({ code: 'custom', path: ['adminToken'], message: 'is required with --gateway-url' });
  });

export const restoreSpecs: OptionSpecs = {
  from: { type: 'string', doc: 'the backup directory (written by `tillgate gateway backup`)' },
  empty: { type: 'boolean', doc: 'instead of --from: no backup (a replacement box): start from an empty store that confirms every terminal enrolled again with the cloud' },
  dataDir: { type: 'string', doc: 'the stopped gateway\'s data directory to restore into' },
  replace: { type: 'boolean', doc: 'the data directory holds a store: move it aside into DATA_DIR/replaced-<time>/ and restore over it (nothing is deleted)' },
  dataKeyFile: { type: 'string', doc: 'the data key file the gateway will use, to check it holds the keys the backup needs (default: as the gateway finds it)' },
};
const restoreSchema = z
  .object({
    from: z.string().min(1).optional(),
    empty: z.boolean().default(false),
    dataDir: z.string().min(1),
    replace: z.boolean().default(false),
    dataKeyFile: z.string().min(1).optional(),
  })
  .superRefine((o, ctx) => {
    if ((o.from === undefined) === !o.empty) ctx.addIssue({ code: 'custom', path: ['from'], message: 'give the backup directory, or --empty for a replacement box without one (one of them)' });
  });

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

export async function backupMain(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText('gateway backup', backupSpecs));
    return 0;
  }
  const o = loadConfig(backupSchema, backupSpecs, { argv, env: process.env });
  return namingOption(backupSpecs, () => backup(o));
}

async function backup(o: z.infer<typeof backupSchema>): Promise<number> {
  let manifest;
  if (o.gatewayUrl !== undefined) {
    manifest = await writeBackup(o.out, await httpBackup(o.gatewayUrl, o.adminToken!), 'online');
  } else {
    const dir = o.dataDir!;
    const online = await socketBackup(join(dir, ADMIN_SOCKET_FILE));
    manifest = online !== null ? await writeBackup(o.out, online, 'online') : await offlineBackup(dir, o.out);
  }
  print({ backup: o.out, takenAt: manifest.takenAt, entries: manifest.entries, source: manifest.source, keysInUse: manifest.keysInUse, dataKey: manifest.dataKey });
  return 0;
}

export async function restoreMain(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText('gateway restore', restoreSpecs));
    return 0;
  }
  const o = loadConfig(restoreSchema, restoreSpecs, { argv, env: process.env });
  return namingOption(restoreSpecs, () => restore(o));
}

async function restore(o: z.infer<typeof restoreSchema>): Promise<number> {
  if (o.from === undefined) return restoreEmpty(o.dataDir, o.replace);
  const manifest = await readManifest(o.from);
  // Check the whole backup before touching the target: a damaged one changes nothing.
  let count = 0;
  for await (const _ of backupRecords(o.from, manifest)) count++;
  const replacedTo = await prepareTarget(o.dataDir, o.replace);
  const db = new ClassicLevel<Buffer, Buffer>(o.dataDir, { keyEncoding: 'buffer', valueEncoding: 'buffer', createIfMissing: true, errorIfExists: true });
  await db.open();
  try {
    let batch = db.batch();
    for await (const r of backupRecords(o.from, manifest)) {
      batch.put(r.key, r.value);
      if (batch.length >= RESTORE_BATCH_RECORDS) {
        await batch.write();
        batch = db.batch();
      }
    }
    await batch.write({ sync: true });
  } finally {
    await db.close();
  }
  const marker: RestoreMarker = { v: 1, restoredAt: new Date().toISOString(), backupTakenAt: manifest.takenAt };
  await writeDurably(join(o.dataDir, RESTORE_MARKER_FILE), `${JSON.stringify(marker)}\n`);
  const missingKeys = missingDataKeys(o.dataKeyFile, o.dataDir, manifest.keysInUse);
  if (missingKeys.length > 0) {
    process.stderr.write(`tillgate gateway restore: warning AT_REST_KEY_MISSING: the gateway's data key file lacks ${missingKeys.join(', ')}; put the backed-up key file in place before starting the gateway\n`);
  }
  print({
    restored: o.dataDir, entries: count, backupTakenAt: manifest.takenAt, keysInUse: manifest.keysInUse,
    ...(replacedTo === null ? {} : { replacedTo }),
    ...(missingKeys.length === 0 ? {} : { missingKeys }),
    next: 'start the gateway: it confirms every terminal\'s chain with the cloud before it acknowledges new payments, and terminals resend what they kept',
  });
  return 0;
}

/**
 * A replacement box with no backup: an empty store marked restored, so every terminal enrolled
 * again is confirmed with the cloud (its head adopted) before its payments are acknowledged, and
 * the terminals resend what they kept.
 */
async function restoreEmpty(dataDir: string, replace: boolean): Promise<number> {
  const replacedTo = await prepareTarget(dataDir, replace);
  const marker: RestoreMarker = { v: 1, restoredAt: new Date().toISOString(), backupTakenAt: 'none: an empty store' };
  await writeDurably(join(dataDir, RESTORE_MARKER_FILE), `${JSON.stringify(marker)}\n`);
  print({
    restored: dataDir, entries: 0, backupTakenAt: null, ...(replacedTo === null ? {} : { replacedTo }),
    next: 'start the gateway and enroll every terminal again (tillgate enroll --dir, then restart its agent): each is confirmed with the cloud, and terminals resend what they kept',
  });
  return 0;
}

/** The running gateway's snapshot over its admin socket, or null when no gateway answers there. */
async function socketBackup(socketPath: string): Promise<AsyncIterable<Buffer> | null> {
  if (!existsSync(socketPath)) return null;
  try {
    return await new Promise<AsyncIterable<Buffer>>((resolve, reject) => {
      const req = request({ socketPath, path: '/backup', method: 'GET' }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new TillgateError(BACKUP_ERROR_CODES.unavailable, `the gateway's admin socket answered ${res.statusCode ?? 0}`));
          return;
        }
        resolve(res);
      });
      req.once('error', reject);
      req.end();
    });
  } catch (err) {
    // A socket file nobody listens on: the gateway is stopped (it died without removing it).
    if (hasCode(err, 'ECONNREFUSED') || hasCode(err, 'ENOENT')) return null;
    throw err;
  }
}

async function httpBackup(gatewayUrl: string, adminToken: string): Promise<AsyncIterable<Uint8Array>> {
  let res: Response;
  try {
    res = await fetch(new URL('/api/backup', gatewayUrl), { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(BACKUP_HTTP_TIMEOUT_MS) });
  } catch (cause) {
    throw new TillgateError(BACKUP_ERROR_CODES.unavailable, `cannot reach ${new URL(gatewayUrl).origin}`, { cause });
  }
  if (res.status !== 200 || res.body === null) {
    throw new TillgateError(BACKUP_ERROR_CODES.unavailable, `the gateway answered ${res.status} to GET /api/backup${res.status === 401 ? ' (wrong admin token)' : ''}`);
  }
  return res.body as unknown as AsyncIterable<Uint8Array>;
}

/** A stopped gateway's directory, read directly (one iterator: one instant of the store). */
async function offlineBackup(dataDir: string, out: string) {
  const db = new ClassicLevel<Buffer, Buffer>(dataDir, { keyEncoding: 'buffer', valueEncoding: 'buffer', createIfMissing: false });
  try {
    await db.open();
  } catch (cause) {
    if (isLocked(cause)) {
      throw new TillgateError(BACKUP_ERROR_CODES.unavailable, `the gateway holding ${dataDir} runs but its admin socket does not answer: take the backup with --gateway-url and the admin token`, { cause });
    }
    throw new TillgateError(BACKUP_ERROR_CODES.unavailable, `${dataDir} holds no gateway store`, { cause });
  }
  try {
    return await writeBackup(out, snapshotLines(db, new Date().toISOString()), 'offline');
  } finally {
    await db.close();
  }
}

/**
 * The target must hold no store, or `--replace` moves its LevelDB files (and the witness, which
 * describes the store being replaced) into DATA_DIR/replaced-<time>/. A running gateway's directory
 * is refused either way. Returns where the old store went, or null.
 */
async function prepareTarget(dataDir: string, replace: boolean): Promise<string | null> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const names = await readdir(dataDir);
  if (!names.includes('CURRENT')) return null;
  if (!replace) {
    throw new TillgateError(BACKUP_ERROR_CODES.targetInUse, `${dataDir} already holds a gateway store: give --replace to move it aside (nothing is deleted), or an empty directory`);
  }
  const probe = new ClassicLevel(dataDir, { createIfMissing: false });
  try {
    await probe.open();
  } catch (cause) {
    if (isLocked(cause)) throw new TillgateError(BACKUP_ERROR_CODES.targetInUse, `the gateway is running on ${dataDir}: stop it first`, { cause });
  } finally {
    await probe.close().catch(() => undefined);
  }
  const aside = join(dataDir, `replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(aside, { mode: 0o700 });
  for (const name of await readdir(dataDir)) {
    if (LEVEL_FILE.test(name) || name === WITNESS_FILE || name === RESTORE_MARKER_FILE || name === ADMIN_SOCKET_FILE) await rename(join(dataDir, name), join(aside, name));
  }
  return aside;
}

function missingDataKeys(dataKeyFile: string | undefined, dataDir: string, needed: readonly string[]): string[] {
  const { path } = resolveKeyFile(dataKeyFile, join(dataDir, DEFAULT_DATA_KEY_FILE_NAME));
  try {
    const held = new Set(openKeyFile(path, { create: false }).ids());
    return needed.filter((id) => !held.has(id));
  } catch {
    return [...needed];
  }
}

function isLocked(err: unknown): boolean {
  return hasCode(err, 'LEVEL_LOCKED') || hasCode((err as { cause?: unknown } | undefined)?.cause, 'LEVEL_LOCKED');
}

async function writeDurably(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  const fd = await open(tmp, 'r+');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
  await rename(tmp, path);
}
