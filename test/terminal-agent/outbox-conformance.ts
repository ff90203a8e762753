/**
 * The Outbox conformance suite (STYLE 4): every implementation runs these same tests. `durable`
 * implementations also get the reopen tests (what was appended is there after close + open).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hasCode } from '../../protocol/errors.js';
import type { IdempotencyRecord, Outbox, OutboxRecord } from '../../terminal-agent/outbox/outbox.js';

export interface OutboxFixture {
  readonly outbox: Outbox;
  /** A new instance over the same storage (durable implementations only). */
  reopen?(): Outbox;
  cleanup(): Promise<void>;
}

const rec = (seq: number, exposureMinor = 100, recordedAtMs = 1_000 * seq): OutboxRecord => ({
  seq, id: `0190b2d0-0000-7000-8000-${String(seq).padStart(12, '0')}`, jws: `h.p${seq}.s`, hash: `hash-${seq}`.padEnd(43, 'x'), exposureMinor, recordedAtMs,
});

const idem = (seq: number, key = `app-key-${seq}`, recordedAtMs = 1_000 * seq): IdempotencyRecord => ({
  key, id: rec(seq).id, seq, offline: seq % 2 === 0, type: 'payment', amount: 100 * seq, currency: 'EUR', recordedAtMs,
});
const policy = (olderThanMs: number, maxKeys = 1_000, limit = 1_000) => ({ olderThanMs, maxKeys, limit });

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(hasCode(err, code), `expected code ${code}, got ${String((err as { code?: string })?.code ?? err)}`).toBe(true);
}

export function outboxConformance(name: string, make: () => Promise<OutboxFixture>, options: { durable: boolean }): void {
  describe(`${name} - outbox conformance`, () => {
    let fx: OutboxFixture | undefined;
    const open = async () => {
      fx = await make();
      await fx.outbox.open();
      return fx.outbox;
    };
    afterEach(async () => {
      if (fx?.outbox.state === 'open') await fx.outbox.close();
      await fx?.cleanup();
      fx = undefined;
    });

    it(`${name} - starts empty, unsynced, at seq 0`, async () => {
      const o = await open();
      expect(o.head()).toEqual({ seq: 0, hash: '' });
      expect(o.acked()).toEqual({ seq: 0, hash: '' });
      expect(o.synced()).toBe(false);
      expect(o.stats()).toEqual({ depth: 0, oldestRecordedAtMs: null, exposureCount: 0, exposureMinor: 0, rejected: 0 });
    });

    it(`${name} - appends in order and reads back from a seq with a limit`, async () => {
      const o = await open();
      for (let s = 1; s <= 5; s++) await o.append(rec(s));
      expect(o.head()).toEqual({ seq: 5, hash: rec(5).hash });
      expect((await o.read(2, 2)).map((r) => r.seq)).toEqual([2, 3]);
      expect(await o.read(1, 10)).toEqual([1, 2, 3, 4, 5].map((s) => rec(s)));
    });

    it(`${name} - refuses an append that does not follow the head`, async () => {
      const o = await open();
      await o.append(rec(1));
      await expectCode(o.append(rec(3)), 'OUTBOX_SEQUENCE');
      await expectCode(o.append(rec(1)), 'OUTBOX_SEQUENCE');
      expect(o.head().seq).toBe(1);
    });

    it(`${name} - an ack prunes what it covers and keeps the rest, and exposure follows`, async () => {
      const o = await open();
      for (let s = 1; s <= 4; s++) await o.append(rec(s, s === 2 ? 0 : 100));
      expect(o.stats()).toMatchObject({ depth: 4, exposureCount: 3, exposureMinor: 300, oldestRecordedAtMs: 1000 });
      expect(await o.acknowledge({ seq: 2, hash: rec(2).hash })).toBe(2);
      expect(o.acked()).toEqual({ seq: 2, hash: rec(2).hash });
      expect(o.synced()).toBe(true);
      expect((await o.read(1, 10)).map((r) => r.seq)).toEqual([3, 4]);
      expect(o.stats()).toMatchObject({ depth: 2, exposureCount: 2, exposureMinor: 200, oldestRecordedAtMs: 3000 });
    });

    it(`${name} - ignores an older ack and an ack beyond the head`, async () => {
      const o = await open();
      for (let s = 1; s <= 3; s++) await o.append(rec(s));
      await o.acknowledge({ seq: 2, hash: rec(2).hash });
      expect(await o.acknowledge({ seq: 1, hash: rec(1).hash })).toBe(0);
      expect(await o.acknowledge({ seq: 9, hash: 'x' })).toBe(0);
      expect(o.acked().seq).toBe(2);
      expect(o.head().seq).toBe(3);
    });

    it(`${name} - adopts the gateway's base after a reset and continues the chain from it`, async () => {
      const o = await open();
      await o.adoptBase({ seq: 41, hash: rec(41).hash });
      expect(o.synced()).toBe(true);
      expect(o.head()).toEqual({ seq: 41, hash: rec(41).hash });
      expect(o.acked()).toEqual({ seq: 41, hash: rec(41).hash });
      await o.append(rec(42));
      expect((await o.read(1, 10)).map((r) => r.seq)).toEqual([42]);
    });

    it(`${name} - adopting a base never moves a head that has pending events`, async () => {
      const o = await open();
      await o.append(rec(1));
      await o.adoptBase({ seq: 7, hash: 'x' });
      expect(o.head().seq).toBe(1);
      expect(o.synced()).toBe(true);
    });

    it(`${name} - sets a rejected event aside with its code, out of the pending reads`, async () => {
      const o = await open();
      for (let s = 1; s <= 3; s++) await o.append(rec(s));
      expect(await o.setAside(2, 'PAN_DETECTED', 'looks like a card', 5)).toBe(true);
      expect((await o.read(1, 10)).map((r) => r.seq)).toEqual([1, 3]);
      expect(await o.rejected(10)).toEqual([{ ...rec(2), code: 'PAN_DETECTED', message: 'looks like a card', rejectedAtMs: 5 }]);
      expect(o.stats()).toMatchObject({ depth: 2, rejected: 1, exposureCount: 2 });
      expect(await o.setAside(99, 'SCHEMA', 'not there', 6)).toBe(false); // unknown seq: nothing changes
      expect(await o.setAside(2, 'SCHEMA', 'again', 7)).toBe(false); // already aside: keeps its first code
      expect(o.stats().rejected).toBe(1);
    });

    it(`${name} - on a closed outbox every call fails with a code`, async () => {
      const o = await open();
      await o.append(rec(1));
      await o.close();
      expect(o.state).toBe('closed');
      for (const call of [() => o.head(), () => o.acked(), () => o.synced(), () => o.stats()]) await expectCode(call, 'OUTBOX_CLOSED');
      await expectCode(o.append(rec(2)), 'OUTBOX_CLOSED');
      await expectCode(o.read(1, 1), 'OUTBOX_CLOSED');
      await expectCode(o.acknowledge({ seq: 1, hash: 'x' }), 'OUTBOX_CLOSED');
      await expectCode(o.adoptBase({ seq: 1, hash: 'x' }), 'OUTBOX_CLOSED');
      await expectCode(o.setAside(1, 'SCHEMA', 'x', 1), 'OUTBOX_CLOSED');
      await expectCode(o.rejected(1), 'OUTBOX_CLOSED');
      await expectCode(o.idempotencyRecord('app-key-1'), 'OUTBOX_CLOSED');
      await expectCode(() => o.idempotencyKeyCount(), 'OUTBOX_CLOSED');
      await expectCode(o.pruneIdempotencyKeys(policy(0)), 'OUTBOX_CLOSED');
    });

    it(`${name} - before open every call fails with a code`, async () => {
      fx = await make();
      await expectCode(() => fx!.outbox.head(), 'OUTBOX_CLOSED');
      await expectCode(fx.outbox.append(rec(1)), 'OUTBOX_CLOSED');
    });

    it(`${name} - stores an idempotency key with its event and finds it by key`, async () => {
      const o = await open();
      await o.append(rec(1), idem(1));
      await o.append(rec(2)); // no key: nothing stored for it
      await o.append(rec(3), idem(3, 'order-77:attempt-1'));
      expect(await o.idempotencyRecord('app-key-1')).toEqual(idem(1));
      expect(await o.idempotencyRecord('order-77:attempt-1')).toEqual(idem(3, 'order-77:attempt-1'));
      expect(await o.idempotencyRecord('app-key-2')).toBeUndefined();
      expect(o.idempotencyKeyCount()).toBe(2);
    });

    it(`${name} - a refused append stores no key, and a key is stored only once`, async () => {
      const o = await open();
      await expectCode(o.append(rec(2), idem(2)), 'OUTBOX_SEQUENCE'); // does not follow the head
      expect(await o.idempotencyRecord('app-key-2')).toBeUndefined();
      await o.append(rec(1), idem(1, 'k'));
      await expectCode(o.append(rec(2), idem(2, 'k')), 'OUTBOX_SEQUENCE');
      expect(o.head().seq).toBe(1);
      expect(await o.idempotencyRecord('k')).toEqual(idem(1, 'k'));
      await expect(o.append(rec(2), idem(3))).rejects.toBeInstanceOf(TypeError); // names another event
      expect(o.head().seq).toBe(1);
      expect(o.idempotencyKeyCount()).toBe(1);
    });

    it(`${name} - an ack or a reject of the event keeps its idempotency key`, async () => {
      const o = await open();
      for (let s = 1; s <= 3; s++) await o.append(rec(s), idem(s));
      await o.acknowledge({ seq: 2, hash: rec(2).hash });
      await o.setAside(3, 'BAD_CHAIN', 'x', 9);
      for (let s = 1; s <= 3; s++) expect(await o.idempotencyRecord(`app-key-${s}`)).toEqual(idem(s));
    });

    it(`${name} - prunes the keys older than the cut-off, oldest first, and keeps the younger`, async () => {
      const o = await open();
      for (let s = 1; s <= 5; s++) await o.append(rec(s), idem(s)); // recorded at 1000..5000 ms
      expect(await o.pruneIdempotencyKeys(policy(3_500))).toBe(3);
      for (let s = 1; s <= 3; s++) expect(await o.idempotencyRecord(`app-key-${s}`)).toBeUndefined();
      expect(await o.idempotencyRecord('app-key-4')).toEqual(idem(4));
      expect(o.idempotencyKeyCount()).toBe(2);
      expect(await o.pruneIdempotencyKeys(policy(3_500))).toBe(0);
      expect(o.head().seq).toBe(5); // events are untouched
      expect((await o.read(1, 10)).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    });

    it(`${name} - prunes the oldest keys beyond the count bound, at most the batch limit per call`, async () => {
      const o = await open();
      for (let s = 1; s <= 5; s++) await o.append(rec(s), idem(s));
      expect(await o.pruneIdempotencyKeys(policy(0, 2, 2))).toBe(2);
      expect(await o.pruneIdempotencyKeys(policy(0, 2, 2))).toBe(1);
      expect(await o.pruneIdempotencyKeys(policy(0, 2, 2))).toBe(0);
      expect(o.idempotencyKeyCount()).toBe(2);
      expect(await o.idempotencyRecord('app-key-3')).toBeUndefined();
      expect(await o.idempotencyRecord('app-key-4')).toEqual(idem(4));
      expect(await o.idempotencyRecord('app-key-5')).toEqual(idem(5));
    });

    it(`${name} - concurrent appends and acks leave a consistent head and ack`, async () => {
      const o = await open();
      const ops: Promise<unknown>[] = [];
      for (let s = 1; s <= 50; s++) {
        ops.push(o.append(rec(s)));
        if (s % 10 === 0) ops.push(o.acknowledge({ seq: s - 5, hash: rec(s - 5).hash }));
      }
      await Promise.all(ops);
      expect(o.head().seq).toBe(50);
      expect(o.acked().seq).toBe(45);
      expect((await o.read(1, 100)).map((r) => r.seq)).toEqual([46, 47, 48, 49, 50]);
    });

    // Registered only for durable implementations, so no test is ever silently skipped.
    if (options.durable) it(`${name} - keeps idempotency keys across close and reopen, and pruned keys stay pruned`, async () => {
      const o = await open();
      if (fx?.reopen === undefined) throw new TypeError('a durable fixture must provide reopen()');
      for (let s = 1; s <= 4; s++) await o.append(rec(s), idem(s));
      await o.acknowledge({ seq: 4, hash: rec(4).hash });
      expect(await o.pruneIdempotencyKeys(policy(1_500))).toBe(1);
      await o.close();
      const again = fx.reopen();
      await again.open();
      try {
        expect(again.idempotencyKeyCount()).toBe(3);
        expect(await again.idempotencyRecord('app-key-1')).toBeUndefined();
        for (let s = 2; s <= 4; s++) expect(await again.idempotencyRecord(`app-key-${s}`)).toEqual(idem(s));
        await again.append(rec(5), idem(5));
        expect(again.idempotencyKeyCount()).toBe(4);
      } finally {
        await again.close();
      }
    });

    if (options.durable) it(`${name} - keeps everything across close and reopen`, async () => {
      const o = await open();
      if (fx?.reopen === undefined) throw new TypeError('a durable fixture must provide reopen()');
      for (let s = 1; s <= 4; s++) await o.append(rec(s));
      await o.acknowledge({ seq: 1, hash: rec(1).hash });
      await o.setAside(3, 'BAD_CHAIN', 'x', 9);
      await o.close();
      const again = fx.reopen();
      await again.open();
      try {
        expect(again.head()).toEqual({ seq: 4, hash: rec(4).hash });
        expect(again.acked()).toEqual({ seq: 1, hash: rec(1).hash });
        expect(again.synced()).toBe(true);
        expect((await again.read(1, 10)).map((r) => r.seq)).toEqual([2, 4]);
        expect(again.stats()).toMatchObject({ depth: 2, exposureCount: 2, exposureMinor: 200, rejected: 1, oldestRecordedAtMs: 2000 });
      } finally {
        await again.close();
      }
    });
  });
}
