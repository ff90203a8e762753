/** Runs the event store conformance suite against the LevelDB store in temp dirs, and opens data of the previous release. */
import { describe, expect, it } from 'vitest';
import { eventKey, pad } from '../../gateway/store/keys.js';
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { LevelEventStore } from '../../gateway/store/level-event-store.js';
import { openDb, put, writeBatch, type BatchOp, type Section } from '../../gateway/store/sections.js';
import { signChain, testSigner } from '../support/events.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { eventStoreConformance } from './event-store.conformance.js';

eventStoreConformance('leveldb', {
  open: (dataDir) => LevelEventStore.open({ dataDir, rejectsKeep: 1_000, keys: defaultDataKeys(dataDir) }),
  newPlace: () => makeTempDir('tillgate-store-'),
  dispose: (dir) => removeDir(dir),
});

describe('leveldb event store - data of the previous release', () => {
  it('event store - opens data written before money classes and the acceptance log, and never shows it as takings', async () => {
    const dir = await makeTempDir('tillgate-store-legacy-');
    try {
      const chain = await signChain(testSigner('t-1'), 's-1', 't-1', 4);
      const key = { kid: testSigner('t-1').kid, publicKey: testSigner('t-1').publicKeyRaw.toString('base64url'), at: '2026-11-22T09:00:00.000Z' };
      // Exactly what the previous release wrote: plain JSON, no id, no class, one money sum per currency.
      const db = openDb(dir);
      await db.open();
      const plain = (name: string): Section => db.sublevel<string, unknown>(name, { valueEncoding: 'json' });
      const s = { terminals: plain('terminals'), heads: plain('heads'), meta: plain('meta'), events: plain('events'), queue: plain('queue') };
      const T0 = Date.UTC(2026, 10, 22, 9);
      const ops: BatchOp[] = [
        put(s.terminals, 't-1', { terminal: 't-1', keys: [key], enrolledAt: key.at, updatedAt: key.at, password: { algo: 'scrypt', n: 16384, r: 8, p: 1, salt: 'c2FsdA', hash: 'aGFzaA' } }),
        put(s.heads, 't-1', { seq: 4, hash: chain[3]!.hash }),
        put(s.meta, 'ingest', { queueHead: 4, eventsStored: 4, amountStoredByCurrency: { EUR: 101 + 102 + 103 + 104 }, rejectSeq: 0, rejectsByCode: {} }),
        put(s.meta, 'forward', { cursor: 2, eventsForwarded: 2, amountForwardedByCurrency: { EUR: 101 + 102 }, deadLetters: 0 }),
      ];
      for (const e of chain) {
        ops.push(put(s.events, eventKey('t-1', e.seq), { terminal: 't-1', seq: e.seq, pos: e.seq, jws: e.jws, storedAtMs: T0, amount: e.payload.amount, currency: 'EUR' }));
        ops.push(put(s.queue, pad(e.seq), { kind: 'event', terminal: 't-1', seq: e.seq, storedAtMs: T0, amount: e.payload.amount, currency: 'EUR' }));
      }
      await writeBatch(db, ops, true);
      await db.close();

      const clock = new FakeClock(T0 + 40 * 86_400_000);
      const store = await LevelEventStore.open({ dataDir: dir, rejectsKeep: 1_000, clock, keys: defaultDataKeys(dir) });
      try {
        const backlog = store.queue.backlog();
        expect(backlog.events).toBe(2);
        expect(backlog.amountByCurrency).toEqual({});
        expect(backlog.money.unclassified).toEqual({ count: 2, byCurrency: { EUR: 103 + 104 } });
        // What the old cursor passed counts as accepted at the upgrade: retention waits its window.
        expect(await store.queue.pruneAccepted(clock.now() - 30 * 86_400_000, 100)).toBe(0);
        clock.advance(31 * 86_400_000);
        expect(await store.queue.pruneAccepted(clock.now() - 30 * 86_400_000, 100)).toBe(2);
        await store.queue.advanceCursor(4);
        expect(store.queue.backlog().money.unclassified).toEqual({ count: 0, byCurrency: {} });
        const next = await signChain(testSigner('t-1'), 's-1', 't-1', 1, { seq: 4, hash: chain[3]!.hash });
        const e = next[0]!;
        await store.commit([{ kind: 'event', terminal: 't-1', seq: 5, prev: e.payload.prev, jws: e.jws, hash: e.hash, id: e.payload.id, type: 'payment', outcome: 'approved', amount: 105, currency: 'EUR' }], clock.now());
        expect(store.queue.backlog().amountByCurrency).toEqual({ EUR: 105 });
        expect(await store.eventIdOwner(e.payload.id)).toEqual({ terminal: 't-1', seq: 5 });
        expect(await store.eventIdOwner(chain[0]!.payload.id)).toBeUndefined();
      } finally {
        await store.close();
      }
    } finally {
      await removeDir(dir);
    }
  });
});
