/**
 * A restored gateway's confirmation of its terminals' heads (gateway/store/restore-state.ts) on a
 * real store: the marker starts a restore record and is consumed; the cloud's head is adopted when
 * it is ahead (the seqs it alone holds are recorded, not reported lost at the next start, and the
 * cloud seq follows), kept when it is not (an alarm when the hashes differ); the record survives a
 * restart and terminals enrolled later are unconfirmed too; and a running restored gateway answers
 * an unconfirmed terminal's events STORE_FULL until the cloud has answered.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { INTEGRITY_CODES } from '../../gateway/integrity.js';
import type { CommitEntry } from '../../gateway/store/event-store.js';
import { LevelEventStore } from '../../gateway/store/level-event-store.js';
import type { TerminalRecord } from '../../gateway/store/records.js';
import { RESTORE_MARKER_FILE, RestoreState } from '../../gateway/store/restore-state.js';
import { checkStoreOnStart } from '../../gateway/store/start-check.js';
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { silentLogger } from '../../lib/logger.js';
import { topics } from '../../protocol/topics.js';
import { signChain, testSigner, type SignedChainEvent } from '../support/events.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';
import { connectTerminal, endClient, enroll, Inbox, publishEvent, startTestGateway, stopTestGateway, subscribe, type TestGateway } from './support.js';

function record(terminal: string): TerminalRecord {
  const s = testSigner(terminal);
  const at = '2026-11-22T09:00:00.000Z';
  return { terminal, keys: [{ kid: s.kid, publicKey: s.publicKeyRaw.toString('base64url'), at }], enrolledAt: at, updatedAt: at, password: { algo: 'scrypt', n: 16384, r: 8, p: 1, salt: 'c2FsdA', hash: 'aGFzaA' } };
}

const eventEntry = (terminal: string, e: SignedChainEvent): CommitEntry => ({
  kind: 'event', terminal, seq: e.seq, prev: e.payload.prev, jws: e.jws, hash: e.hash,
  id: e.payload.id, type: e.payload.type, outcome: e.payload.outcome, amount: e.payload.amount, currency: e.payload.currency,
});

const marker = JSON.stringify({ v: 1, restoredAt: '2026-11-22T10:00:00.000Z', backupTakenAt: '2026-11-22T08:00:00.000Z' });

let dir = '';
let gateway: TestGateway | undefined;
afterEach(async () => {
  await stopTestGateway(gateway, true);
  gateway = undefined;
  if (dir !== '') await removeDir(dir);
  dir = '';
});

describe('restore state', () => {
  it('restore - adopts the cloud\'s head where the cloud is ahead, keeps the restored one where it is not, and remembers both across a restart', async () => {
    dir = await makeTempDir('tillgate-restore-');
    const clock = new FakeClock();
    const open = () => LevelEventStore.open({ dataDir: dir, rejectsKeep: 100, clock, keys: defaultDataKeys(dir) });
    let store = await open();
    const a = await signChain(testSigner('t-a'), 's-1', 't-a', 5);
    const b = await signChain(testSigner('t-b'), 's-1', 't-b', 3);
    await store.commit([{ kind: 'enrollment', record: record('t-a'), newKey: null }, { kind: 'enrollment', record: record('t-b'), newKey: null }], clock.now());
    await store.commit([...a.slice(0, 3).map((e) => eventEntry('t-a', e)), ...b.map((e) => eventEntry('t-b', e))], clock.now());
    await writeFile(join(dir, RESTORE_MARKER_FILE), marker);
    let state = await RestoreState.open(store, dir, { confirmable: true, clock, logger: silentLogger });
    expect(existsSync(join(dir, RESTORE_MARKER_FILE))).toBe(false);
    expect(state.unconfirmedTerminals()).toEqual(['t-a', 't-b']);
    expect(state.status()).toMatchObject({ state: 'confirming', backupTakenAt: '2026-11-22T08:00:00.000Z', unconfirmedCount: 2 });

    // t-a: the cloud holds it through 5, the backup through 3.
    const checkA = await state.confirm('t-a', { seq: 5, hash: a[4]!.hash });
    expect(checkA).toMatchObject({ restoredSeq: 3, cloudSeq: 5, cloudOnly: { from: 4, through: 5 }, mismatch: false });
    expect(store.head('t-a')).toEqual({ seq: 5, hash: a[4]!.hash });
    expect(store.queue.cloudSeq('t-a')).toBe(5);
    // t-b: the cloud holds it through 2 only, and with another event at 2 than this store.
    const checkB = await state.confirm('t-b', { seq: 2, hash: 'not-the-hash-of-this-stores-seq-2' });
    expect(checkB).toMatchObject({ restoredSeq: 3, cloudSeq: 2, cloudOnly: null, mismatch: true });
    expect(store.head('t-b').seq).toBe(3);
    expect(state.status()).toMatchObject({ state: 'confirmed', unconfirmedCount: 0, cloudOnly: [{ terminal: 't-a', from: 4, through: 5 }], mismatches: ['t-b'] });

    await store.close();
    store = await open();
    state = await RestoreState.open(store, dir, { confirmable: true, clock, logger: silentLogger });
    expect(state.restored).toBe(true);
    expect(state.unconfirmedTerminals()).toEqual([]);
    expect(store.head('t-a').seq).toBe(5);
    expect(store.queue.cloudSeq('t-a')).toBe(5);
    // The seqs only the cloud holds are not "acknowledged events missing" at the next start.
    const checked = await checkStoreOnStart(store, { kind: 'none' }, '');
    expect(checked.findings.filter((f) => f.problem.code === INTEGRITY_CODES.eventsMissing)).toEqual([]);
    // A terminal enrolled after the restore waits for the cloud too.
    await store.commit([{ kind: 'enrollment', record: record('t-c'), newKey: null }], clock.now());
    expect(state.unconfirmed('t-c')).toBe(true);
    // Without a cloud to ask, the restored heads stand.
    expect((await RestoreState.open(store, dir, { confirmable: false, clock, logger: silentLogger })).unconfirmed('t-c')).toBe(false);
    await store.close();
  });

  it('restore - a running restored gateway answers an unconfirmed terminal\'s events STORE_FULL (keep it, retry later) while the cloud cannot be asked', async () => {
    dir = await makeTempDir('tillgate-restore-gw-');
    gateway = await startTestGateway({ dataDir: dir });
    const t = await enroll(gateway.gw, 't-1');
    const chain = await signChain(t.signer, 's-1', 't-1', 3);
    let client = await connectTerminal(gateway.gw, 't-1', t.password);
    await publishEvent(client, 't-1', chain[0]!.jws);
    await endClient(client);
    await stopTestGateway(gateway, true);
    await writeFile(join(dir, RESTORE_MARKER_FILE), marker);
    // The cloud is unreachable (nothing listens on port 9): the head stays unconfirmed.
    gateway = await startTestGateway({ dataDir: dir, cloudUrl: 'http://127.0.0.1:9', cloudToken: 'cloud-token-for-tests', resyncRetryMs: 50 });
    client = await connectTerminal(gateway.gw, 't-1', t.password);
    const inbox = new Inbox(client);
    await subscribe(client, topics.rejects('s-1', 't-1'));
    await publishEvent(client, 't-1', chain[1]!.jws);
    const reject = await waitFor(() => inbox.on(topics.rejects('s-1', 't-1'))[0], { what: 'the reject' });
    expect(reject).toMatchObject({ seq: 2, code: 'STORE_FULL' });
    const status = (await (await gateway.gw.app.request('/api/status')).json()) as { restore: { state: string; unconfirmed: string[] } };
    expect(status.restore).toMatchObject({ state: 'confirming', unconfirmed: ['t-1'] });
    await endClient(client);
  });
});
