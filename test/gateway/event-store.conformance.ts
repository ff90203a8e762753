/**
 * The EventStore behaviour, written once and run against every implementation: commits,
 * restart without a scan, the forward queue as the store fills it, invariants, and a closed store
 * failing with a code. The queue's own contract (money, dead letters, retention) is the ForwardQueue
 * conformance suite (test/forwarder/forward-queue.conformance.ts).
 */
import { describe, expect, it } from 'vitest';
import { chainHash } from '../../protocol/chain.js';
import type { EventStore, CommitEntry } from '../../gateway/store/event-store.js';
import type { TerminalRecord } from '../../gateway/store/records.js';
import { signChain, testSigner, type SignedChainEvent } from '../support/events.js';

export interface StoreFactory {
  /** Opens a store over `place` (the same place reopens the same data). */
  open(place: string): Promise<EventStore>;
  newPlace(): Promise<string>;
  dispose(place: string): Promise<void>;
}

const STORE = 's-1';
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);

function enrollment(terminal: string): CommitEntry {
  const signer = testSigner(terminal);
  const key = { kid: signer.kid, publicKey: signer.publicKeyRaw.toString('base64url'), at: '2026-11-22T09:00:00.000Z' };
  const record: TerminalRecord = {
    terminal, keys: [key], enrolledAt: key.at, updatedAt: key.at,
    password: { algo: 'scrypt', n: 16384, r: 8, p: 1, salt: 'c2FsdA', hash: 'aGFzaA' },
  };
  return { kind: 'enrollment', record, newKey: key };
}

function eventEntry(terminal: string, e: SignedChainEvent): CommitEntry {
  return {
    kind: 'event', terminal, seq: e.seq, prev: e.payload.prev, jws: e.jws, hash: e.hash,
    id: e.payload.id, type: e.payload.type, outcome: e.payload.outcome, amount: e.payload.amount, currency: e.payload.currency,
  };
}

export function eventStoreConformance(name: string, factory: StoreFactory): void {
  describe(`${name} event store conformance`, () => {
    async function withStore<T>(fn: (store: EventStore, place: string) => Promise<T>): Promise<T> {
      const place = await factory.newPlace();
      const store = await factory.open(place);
      try {
        return await fn(store, place);
      } finally {
        await store.close();
        await factory.dispose(place);
      }
    }

    it(`${name} - commits enrollments and events in one batch, in order, and reads them back`, async () => {
      await withStore(async (store) => {
        const chain = await signChain(testSigner('t-1'), STORE, 't-1', 3);
        await store.commit([enrollment('t-1'), ...chain.map((e) => eventEntry('t-1', e))], T0);
        expect(store.head('t-1')).toEqual({ seq: 3, hash: chain[2]!.hash });
        expect(store.stats()).toMatchObject({ eventsStored: 3, terminals: 1 });
        expect((await store.getEvent('t-1', 2))?.jws).toBe(chain[1]!.jws);
        expect(await store.getEvent('t-1', 4)).toBeUndefined();
        const entries = await store.queue.readAfter(0, 10, 1 << 20);
        expect(entries.map((e) => [e.pos, e.kind])).toEqual([[1, 'enrollment'], [2, 'event'], [3, 'event'], [4, 'event']]);
        expect(store.queue.head()).toBe(4);
        expect(store.queue.backlog()).toMatchObject({ events: 3, oldestStoredAtMs: T0, amountByCurrency: { EUR: 101 + 102 + 103 } });
      });
    });

    it(`${name} - refuses a commit that breaks a chain or names an unenrolled terminal`, async () => {
      await withStore(async (store) => {
        const chain = await signChain(testSigner('t-1'), STORE, 't-1', 2);
        await expect(store.commit([eventEntry('t-1', chain[0]!)], T0)).rejects.toBeInstanceOf(TypeError);
        await store.commit([enrollment('t-1')], T0);
        await expect(store.commit([eventEntry('t-1', chain[1]!)], T0)).rejects.toBeInstanceOf(TypeError);
        await expect(store.commit([{ ...eventEntry('t-1', chain[0]!), hash: chainHash('x') } as CommitEntry], T0)).rejects.toBeInstanceOf(TypeError);
        expect(store.head('t-1').seq).toBe(0);
      });
    });

    it(`${name} - restarts with heads, counters, cursor and dead letters as they were`, async () => {
      const place = await factory.newPlace();
      try {
        let store = await factory.open(place);
        const chain = await signChain(testSigner('t-1'), STORE, 't-1', 4);
        await store.commit([enrollment('t-1'), ...chain.map((e) => eventEntry('t-1', e))], T0);
        await store.commit([{ kind: 'reject', terminal: 't-1', seq: 9, id: '', code: 'SEQ_GAP', message: 'gap', expected: 5 }], T0);
        await store.queue.advanceCursorWithDeadLetters(3, [{ pos: 3, terminal: 't-1', seq: 2, code: 'SCHEMA', message: 'no', atMs: T0 }]);
        await store.close();
        store = await factory.open(place);
        expect(store.head('t-1')).toEqual({ seq: 4, hash: chain[3]!.hash });
        expect(store.stats()).toMatchObject({ eventsStored: 4, rejectsByCode: { SEQ_GAP: 1 }, terminals: 1 });
        expect(store.queue.cursor()).toBe(3);
        expect(store.queue.deadLetterCount()).toBe(1);
        expect(store.queue.backlog()).toMatchObject({ events: 2, oldestStoredAtMs: T0, amountByCurrency: { EUR: 103 + 104 } });
        expect(await store.recentRejects(10)).toEqual([expect.objectContaining({ code: 'SEQ_GAP', expected: 5, seq: 9 })]);
        await store.close();
      } finally {
        await factory.dispose(place);
      }
    });

    it(`${name} - reads the queue by count and bytes, per terminal from a seq, and never moves the cursor back`, async () => {
      await withStore(async (store) => {
        const a = await signChain(testSigner('t-a'), STORE, 't-a', 3);
        const b = await signChain(testSigner('t-b'), STORE, 't-b', 3);
        await store.commit([enrollment('t-a'), enrollment('t-b')], T0);
        await store.commit([0, 1, 2].flatMap((i) => [eventEntry('t-a', a[i]!), eventEntry('t-b', b[i]!)]), T0 + 1);
        const oneByBytes = await store.queue.readAfter(2, 10, 1);
        expect(oneByBytes).toHaveLength(1);
        const twoByBytes = await store.queue.readAfter(2, 10, a[0]!.jws.length + b[0]!.jws.length);
        expect(twoByBytes.map((e) => e.pos)).toEqual([3, 4]);
        expect((await store.queue.readAfter(2, 3, 1 << 20)).map((e) => e.pos)).toEqual([3, 4, 5]);
        expect((await store.queue.readTerminalEvents('t-b', 2, 10)).map((e) => e.seq)).toEqual([2, 3]);
        await store.queue.advanceCursor(5);
        await store.queue.advanceCursor(4);
        expect(store.queue.cursor()).toBe(5);
        expect(store.queue.backlog().events).toBe(3);
        await expect(store.queue.advanceCursor(99)).rejects.toBeInstanceOf(TypeError);
      });
    });

    it(`${name} - takes dead letters back for a retry`, async () => {
      await withStore(async (store) => {
        const a = await signChain(testSigner('t-a'), STORE, 't-a', 2);
        await store.commit([enrollment('t-a'), eventEntry('t-a', a[0]!), eventEntry('t-a', a[1]!)], T0);
        const dl = { pos: 2, terminal: 't-a', seq: 1, code: 'BAD_SIGNATURE', message: 'x', atMs: T0 };
        await store.queue.advanceCursorWithDeadLetters(3, [dl]);
        expect(await store.queue.listDeadLetters(10)).toEqual([dl]);
        expect(await store.queue.takeDeadLetters([2, 77])).toEqual([dl]);
        expect(store.queue.deadLetterCount()).toBe(0);
      });
    });

    it(`${name} - notifies appends`, async () => {
      await withStore(async (store) => {
        let calls = 0;
        const off = store.queue.onAppend(() => calls++);
        await store.commit([enrollment('t-a')], T0);
        off();
        await store.commit([enrollment('t-b')], T0);
        expect(calls).toBe(1);
      });
    });

    it(`${name} - on a closed store every call fails with a code`, async () => {
      const place = await factory.newPlace();
      const store = await factory.open(place);
      await store.close();
      try {
        const calls: (() => unknown)[] = [
          () => store.head('t'), () => store.terminal('t'), () => store.stats(), () => store.getEvent('t', 1),
          () => store.commit([], T0), () => store.queue.head(), () => store.queue.readAfter(0, 1, 1), () => store.queue.backlog(),
          () => store.queue.advanceCursor(0),
        ];
        for (const call of calls) {
          let err: unknown;
          try {
            await call();
          } catch (e) {
            err = e;
          }
          expect(err).toMatchObject({ code: 'STORE_CLOSED' });
        }
      } finally {
        await factory.dispose(place);
      }
    });
  });
}
