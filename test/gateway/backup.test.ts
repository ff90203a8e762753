/**
 * Gateway backups (gateway/backup): a snapshot of a real store holds every record with its value
 * still sealed at rest and names the data keys it needs; a copy cut short or altered is refused
 * (BACKUP_INVALID) and `tillgate gateway restore` changes nothing then; a restore refuses a
 * directory that holds a store unless told to move it aside, and puts back a store that opens with
 * the same heads.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readManifest, writeBackup, backupRecords, BACKUP_STORE_FILE } from '../../gateway/backup/backup-files.js';
import { snapshotLines } from '../../gateway/backup/snapshot.js';
import type { CommitEntry } from '../../gateway/store/event-store.js';
import { LevelEventStore } from '../../gateway/store/level-event-store.js';
import type { TerminalRecord } from '../../gateway/store/records.js';
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { hasCode } from '../../protocol/errors.js';
import { signChain, testSigner } from '../support/events.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { assertBuilt, TILLGATE_BIN } from '../support/tillgate-process.js';
import { within } from '../support/wait.js';

function record(terminal: string): TerminalRecord {
  const s = testSigner(terminal);
  const at = '2026-11-22T09:00:00.000Z';
  return { terminal, keys: [{ kid: s.kid, publicKey: s.publicKeyRaw.toString('base64url'), at }], enrolledAt: at, updatedAt: at, password: { algo: 'scrypt', n: 16384, r: 8, p: 1, salt: 'c2FsdA', hash: 'aGFzaA' } };
}

function tillgate(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [TILLGATE_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return within(new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr }))), 30_000, `tillgate ${args.slice(0, 2).join(' ')}`);
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(hasCode(err, code), String(err)).toBe(true);
}

let dir = '';
beforeAll(() => assertBuilt());
afterEach(async () => {
  if (dir !== '') await removeDir(dir);
  dir = '';
});

describe('gateway backup', () => {
  it('backup - a snapshot holds every record, values still sealed, and names the data keys; a copy cut short or altered is refused', async () => {
    dir = await makeTempDir('tillgate-backup-');
    const data = join(dir, 'gateway');
    await mkdir(data);
    const clock = new FakeClock();
    const store = await LevelEventStore.open({ dataDir: data, rejectsKeep: 100, clock, keys: defaultDataKeys(data) });
    const chain = await signChain(testSigner('t-1'), 's-1', 't-1', 20);
    const entries: CommitEntry[] = chain.map((e) => ({
      kind: 'event', terminal: 't-1', seq: e.seq, prev: e.payload.prev, jws: e.jws, hash: e.hash,
      id: e.payload.id, type: e.payload.type, outcome: e.payload.outcome, amount: e.payload.amount, currency: e.payload.currency,
    }));
    await store.commit([{ kind: 'enrollment', record: record('t-1'), newKey: null }], clock.now());
    await store.commit(entries, clock.now());
    const lines: string[] = [];
    for await (const l of snapshotLines(store.db, '2026-11-22T09:00:00.000Z')) lines.push(l);
    const manifest = await writeBackup(join(dir, 'b1'), lines, 'offline');
    const keyId = defaultDataKeys(data).current().id;
    await store.close();
    expect(manifest.keysInUse).toEqual([keyId]);
    expect(manifest.entries).toBeGreaterThan(40); // 20 events, their queue and id entries, heads, meta…
    expect(await readManifest(join(dir, 'b1'))).toEqual(manifest);
    // Sealed: no event's bytes, nor its amount field, appear in any value.
    const values: Buffer[] = [];
    for await (const r of backupRecords(join(dir, 'b1'), manifest)) values.push(r.value);
    expect(values).toHaveLength(manifest.entries);
    for (const e of chain) expect(values.some((v) => v.includes(Buffer.from(e.jws)))).toBe(false);
    expect(values.some((v) => v.includes(Buffer.from('"amount"')))).toBe(false);

    // Cut short (no trailer), and one record altered: refused.
    const text = lines.join('');
    const cut = text.split('\n').slice(0, -2).join('\n') + '\n';
    await expectCode(writeBackup(join(dir, 'b2'), [cut], 'offline'), 'BACKUP_INVALID');
    expect(await readdir(join(dir, 'b2'))).toEqual([]);
    await writeFile(join(dir, 'b1', BACKUP_STORE_FILE), text.replace(/"\]\n/, 'A"]\n'));
    await expectCode((async () => {
      for await (const _ of backupRecords(join(dir, 'b1'), manifest)) void _;
    })(), 'BACKUP_INVALID');
  });

  it('backup - restore refuses a directory holding a store without --replace and a damaged backup, then puts back a store with the same heads', async () => {
    dir = await makeTempDir('tillgate-backup-');
    const data = join(dir, 'gateway');
    await mkdir(data);
    const clock = new FakeClock();
    let store = await LevelEventStore.open({ dataDir: data, rejectsKeep: 100, clock, keys: defaultDataKeys(data) });
    await store.commit([{ kind: 'enrollment', record: record('t-1'), newKey: null }], clock.now());
    const chain = await signChain(testSigner('t-1'), 's-1', 't-1', 3);
    await store.commit(chain.map((e) => ({
      kind: 'event' as const, terminal: 't-1', seq: e.seq, prev: e.payload.prev, jws: e.jws, hash: e.hash,
      id: e.payload.id, type: e.payload.type, outcome: e.payload.outcome, amount: e.payload.amount, currency: e.payload.currency,
    })), clock.now());
    await store.close();
    const backup = await tillgate(['gateway', 'backup', '--data-dir', data, '--out', join(dir, 'b')]);
    expect(backup.code, backup.stderr).toBe(0);

    const inUse = await tillgate(['gateway', 'restore', '--from', join(dir, 'b'), '--data-dir', data]);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/^tillgate gateway restore: RESTORE_TARGET_IN_USE: /);
    const damaged = join(dir, 'damaged');
    await tillgate(['gateway', 'backup', '--data-dir', data, '--out', damaged]);
    const text = await readFile(join(damaged, BACKUP_STORE_FILE), 'utf8');
    await writeFile(join(damaged, BACKUP_STORE_FILE), text.split('\n').slice(0, 3).join('\n'));
    const refused = await tillgate(['gateway', 'restore', '--from', damaged, '--data-dir', join(dir, 'elsewhere')]);
    expect(refused.stderr).toMatch(/^tillgate gateway restore: BACKUP_INVALID: /);
    await expect(readdir(join(dir, 'elsewhere'))).rejects.toThrow(); // never created

    const restored = await tillgate(['gateway', 'restore', '--from', join(dir, 'b'), '--data-dir', data, '--replace']);
    expect(restored.code, restored.stderr).toBe(0);
    const names = await readdir(data);
    expect(names.some((n) => n.startsWith('replaced-'))).toBe(true);
    expect(names).toContain('tillgate-restored.json');
    store = await LevelEventStore.open({ dataDir: data, rejectsKeep: 100, clock, keys: defaultDataKeys(data) });
    expect(store.head('t-1')).toEqual({ seq: 3, hash: chain[2]!.hash });
    await store.close();
  });
});
