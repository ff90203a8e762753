/**
 * The Outbox conformance suite: every implementation runs these same tests. `durable`
 * implementations also get the reopen tests (what was appended is there after close + open).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hasCode } from '../../protocol/errors.js';
import type { IdempotencyRecord, Outbox, OutboxRecord, ResequencePlan } from '../../terminal-agent/outbox/outbox.js';

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
/** The record `fromSeq` re-signed at `seq` (same id, new bytes and hash), as a re-sequence writes it. */
const movedTo = (fromSeq: number, seq: number): OutboxRecord => ({ ...rec(fromSeq), seq, jws: `h.p${fromSeq}@${seq}.s`, hash: `moved-${fromSeq}-${seq}`.padEnd(43, 'x') });
const move = (fromSeq: number, seq: number) => ({ fromSeq, record: movedTo(fromSeq, seq) });
const base = (seq: number) => ({ seq, hash: `gateway-${seq}`.padEnd(43, 'g') });
const aside = (seq: number, code = 'PAN_DETECTED') => ({ seq, id: rec(seq).id, outcome: 'set-aside' as const, code, message: 'refused', atMs: 77 });

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
      expect(o.stats()).toEqual({ depth: 0, oldestRecordedAtMs: null, exposureCount: 0, exposureMinor: 0, rejected: 0, retained: 0 });
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
      expect(await o.acknowledge({ seq: 2, hash: rec(2).hash })).toEqual({ kind: 'pruned', count: 2 });
      expect(o.acked()).toEqual({ seq: 2, hash: rec(2).hash });
      expect(o.synced()).toBe(true);
      expect((await o.read(1, 10)).map((r) => r.seq)).toEqual([3, 4]);
      expect(o.stats()).toMatchObject({ depth: 2, exposureCount: 2, exposureMinor: 200, oldestRecordedAtMs: 3000 });
    });

    it(`${name} - an ack with \`cloud\` keeps the acknowledged events the cloud does not have, outside the exposure, until a later ack says it has them`, async () => {
      const o = await open();
      for (let s = 1; s <= 6; s++) await o.append(rec(s));
      expect(await o.acknowledge({ seq: 5, hash: rec(5).hash, cloud: 2 })).toEqual({ kind: 'pruned', count: 5 });
      expect(o.acked()).toEqual({ seq: 5, hash: rec(5).hash });
      expect(o.base()).toEqual({ seq: 2, hash: rec(2).hash });
      expect(o.stats()).toMatchObject({ depth: 1, exposureCount: 1, exposureMinor: 100, retained: 3 });
      expect((await o.read(1, 10)).map((r) => r.seq)).toEqual([3, 4, 5, 6]);
      // The same head again, the cloud further: only the cloud moved.
      expect(await o.acknowledge({ seq: 5, hash: rec(5).hash, cloud: 4 })).toEqual({ kind: 'pruned', count: 0 });
      expect(o.stats()).toMatchObject({ depth: 1, retained: 1 });
      expect(o.base()).toEqual({ seq: 4, hash: rec(4).hash });
      // A cloud seq beyond the head counts only up to the head.
      expect(await o.acknowledge({ seq: 6, hash: rec(6).hash, cloud: 99 })).toEqual({ kind: 'pruned', count: 1 });
      expect(o.stats()).toMatchObject({ depth: 0, retained: 0 });
      expect(await o.read(1, 10)).toEqual([]);
    });

    it(`${name} - keeps at most maxRetained acknowledged events, deleting the oldest, and says how many`, async () => {
      const o = await open();
      for (let s = 1; s <= 10; s++) await o.append(rec(s));
      expect(await o.acknowledge({ seq: 8, hash: rec(8).hash, cloud: 0 }, { maxRetained: 3 })).toEqual({ kind: 'pruned', count: 8, dropped: 5 });
      expect((await o.read(1, 20)).map((r) => r.seq)).toEqual([6, 7, 8, 9, 10]);
      expect(o.stats()).toMatchObject({ depth: 2, retained: 3 });
      expect(await o.acknowledge({ seq: 10, hash: rec(10).hash, cloud: 0 }, { maxRetained: 3 })).toEqual({ kind: 'pruned', count: 2, dropped: 2 });
      expect((await o.read(1, 20)).map((r) => r.seq)).toEqual([8, 9, 10]);
    });

    it(`${name} - an ack below the acked seq that names a kept event rewinds: the events after it are pending again, to resend`, async () => {
      const o = await open();
      for (let s = 1; s <= 8; s++) await o.append(rec(s, 100));
      await o.acknowledge({ seq: 8, hash: rec(8).hash, cloud: 3 });
      expect(o.stats()).toMatchObject({ depth: 0, retained: 5, exposureCount: 0 });
      // A gateway restored from an older backup: its head is our kept event 5 (or our base 3).
      expect(await o.acknowledge({ seq: 5, hash: rec(5).hash, cloud: 3 })).toEqual({ kind: 'behind', to: { seq: 5, hash: rec(5).hash } });
      expect(await o.acknowledge({ seq: 3, hash: rec(3).hash })).toEqual({ kind: 'behind', to: { seq: 3, hash: rec(3).hash } });
      expect(o.acked().seq).toBe(8); // a verdict changes nothing by itself
      expect(o.rewindTarget(5)).toEqual({ seq: 5, hash: rec(5).hash });
      expect(o.rewindTarget(2)).toBeUndefined(); // deleted: the cloud has it
      expect(await o.rewind({ seq: 5, hash: rec(5).hash })).toBe(3);
      expect(o.acked()).toEqual({ seq: 5, hash: rec(5).hash });
      expect(o.stats()).toMatchObject({ depth: 3, retained: 2, exposureCount: 3, oldestRecordedAtMs: 6000 });
      expect((await o.read(6, 10)).map((r) => r.seq)).toEqual([6, 7, 8]);
      // The refilled gateway acknowledges them again, and the cloud catches up.
      expect(await o.acknowledge({ seq: 8, hash: rec(8).hash, cloud: 8 })).toEqual({ kind: 'pruned', count: 3 });
      expect(o.stats()).toMatchObject({ depth: 0, retained: 0 });
    });

    it(`${name} - never rewinds onto an event it does not hold, and an older ack that is not ours stays old news`, async () => {
      const o = await open();
      for (let s = 1; s <= 6; s++) await o.append(rec(s));
      await o.acknowledge({ seq: 6, hash: rec(6).hash, cloud: 4 });
      expect(await o.acknowledge({ seq: 5, hash: 'another-event-5'.padEnd(43, 'z') })).toEqual({ kind: 'old' });
      expect(await o.acknowledge({ seq: 2, hash: rec(2).hash })).toEqual({ kind: 'old' }); // below the base: deleted
      await expectCode(o.rewind({ seq: 2, hash: rec(2).hash }), 'OUTBOX_SEQUENCE');
      await expectCode(o.rewind({ seq: 5, hash: 'another-event-5'.padEnd(43, 'z') }), 'OUTBOX_SEQUENCE');
      expect(o.acked().seq).toBe(6);
      expect(o.stats()).toMatchObject({ depth: 0, retained: 2 });
    });

    it(`${name} - ignores an older ack and an ack beyond the head`, async () => {
      const o = await open();
      for (let s = 1; s <= 3; s++) await o.append(rec(s));
      await o.acknowledge({ seq: 2, hash: rec(2).hash });
      expect(await o.acknowledge({ seq: 1, hash: rec(1).hash })).toEqual({ kind: 'old' });
      expect(await o.acknowledge({ seq: 9, hash: 'x' })).toEqual({ kind: 'ahead' });
      expect(await o.acknowledge({ seq: 2, hash: rec(2).hash })).toEqual({ kind: 'pruned', count: 0 });
      expect(o.acked().seq).toBe(2);
      expect(o.head().seq).toBe(3);
    });

    it(`${name} - an ack whose hash is not the outbox's own event at that seq prunes nothing`, async () => {
      const o = await open();
      for (let s = 1; s <= 10; s++) await o.append(rec(s));
      await o.acknowledge({ seq: 5, hash: rec(5).hash });
      // The gateway holds other events at 8 (and at its acked 5): a restored backup, another chain.
      expect(await o.acknowledge({ seq: 8, hash: 'another-event-8'.padEnd(43, 'z') })).toEqual({ kind: 'diverged' });
      expect(await o.acknowledge({ seq: 5, hash: 'another-event-5'.padEnd(43, 'z') })).toEqual({ kind: 'diverged' });
      expect(o.acked()).toEqual({ seq: 5, hash: rec(5).hash });
      expect((await o.read(1, 20)).map((r) => r.seq)).toEqual([6, 7, 8, 9, 10]);
      expect(o.stats()).toMatchObject({ depth: 5, exposureCount: 5 });
      expect(await o.acknowledge({ seq: 8, hash: rec(8).hash })).toEqual({ kind: 'pruned', count: 3 });
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

    it(`${name} - re-sequences onto the gateway's head: prunes the delivered, sets the refused aside, moves the rest`, async () => {
      const o = await open();
      for (let s = 1; s <= 6; s++) await o.append(rec(s));
      await o.acknowledge({ seq: 1, hash: rec(1).hash });
      // 2 and 3 reached the gateway, 4 was refused, 5 and 6 follow it onto the gateway's head 3.
      await o.resequence({ deliveredUpTo: 3, base: { seq: 3, hash: rec(3).hash }, refused: aside(4), moved: [move(5, 4), move(6, 5)] });
      expect(o.head()).toEqual({ seq: 5, hash: movedTo(6, 5).hash });
      expect(o.acked()).toEqual({ seq: 3, hash: rec(3).hash });
      expect(await o.read(4, 10)).toEqual([movedTo(5, 4), movedTo(6, 5)]);
      expect((await o.listSetAside(10)).records).toEqual([{ ...rec(4), code: 'PAN_DETECTED', message: 'refused', rejectedAtMs: 77 }]);
      // The set-aside payment leaves the exposure; the moved ones keep theirs and their age. The
      // delivered ones are acknowledged: kept (retained) until an ack says the cloud has them.
      expect(o.stats()).toMatchObject({ depth: 2, rejected: 1, exposureCount: 2, exposureMinor: 200, oldestRecordedAtMs: 5000, retained: 2 });
      expect(await o.acknowledge({ seq: 4, hash: movedTo(5, 4).hash })).toEqual({ kind: 'pruned', count: 1 });
      expect(o.stats().retained).toBe(0); // an ack without `cloud` (an older gateway) deletes what it covers
      await o.append(rec(6)); // the next record follows the new head
      expect(o.head().seq).toBe(6);
    });

    it(`${name} - re-sequencing onto a head the gateway is ahead with keeps every record and can drop one as delivered`, async () => {
      const o = await open();
      for (let s = 1; s <= 4; s++) await o.append(rec(s));
      // The gateway holds 1..10 of another chain (a restored backup): everything moves above 10,
      // except seq 2, whose id the gateway already has (DUPLICATE_ID): delivered, not set aside.
      const plan: ResequencePlan = {
        deliveredUpTo: 0, base: base(10),
        refused: { seq: 2, id: rec(2).id, outcome: 'delivered', code: 'DUPLICATE_ID', message: 'known', atMs: 5 },
        moved: [move(1, 11), move(3, 12), move(4, 13)],
      };
      await o.resequence(plan);
      expect(o.acked()).toEqual(base(10));
      expect((await o.read(1, 20)).map((r) => [r.seq, r.id])).toEqual([[11, rec(1).id], [12, rec(3).id], [13, rec(4).id]]);
      expect((await o.listSetAside(10)).records).toEqual([]);
      expect(o.stats()).toMatchObject({ depth: 3, rejected: 0 });
      expect(o.synced()).toBe(true);
    });

    it(`${name} - adopts the gateway's head through a re-sequence with nothing to move`, async () => {
      const o = await open();
      for (let s = 1; s <= 3; s++) await o.append(rec(s));
      await o.acknowledge({ seq: 3, hash: rec(3).hash });
      await o.resequence({ deliveredUpTo: 3, base: base(10), moved: [] });
      expect(o.head()).toEqual(base(10));
      expect(o.acked()).toEqual(base(10));
      await o.append(rec(11));
      expect(o.head().seq).toBe(11);
    });

    it(`${name} - refuses a re-sequence plan that would lose or renumber a payment wrongly, and changes nothing`, async () => {
      const o = await open();
      for (let s = 1; s <= 4; s++) await o.append(rec(s));
      const bad: ResequencePlan[] = [
        { deliveredUpTo: 1, base: base(1), moved: [move(2, 2), move(4, 3)] }, // drops 3
        { deliveredUpTo: 1, base: base(1), moved: [move(2, 2), move(3, 3), move(4, 5)] }, // leaves a gap
        { deliveredUpTo: 1, base: base(1), moved: [move(2, 2), move(3, 3), { fromSeq: 4, record: { ...movedTo(4, 4), id: rec(9).id } }] }, // changes an id
        { deliveredUpTo: 1, base: base(1), refused: { ...aside(3), id: rec(9).id }, moved: [move(2, 2), move(4, 3)] }, // refuses another event
        { deliveredUpTo: 2, base: base(1), moved: [move(3, 2), move(4, 3)] }, // base below what is delivered
        { deliveredUpTo: 9, base: base(9), moved: [] }, // delivers beyond the head
      ];
      for (const plan of bad) await expectCode(o.resequence(plan), 'OUTBOX_SEQUENCE');
      expect(await o.read(1, 10)).toEqual([1, 2, 3, 4].map((s) => rec(s)));
      expect(o.head()).toEqual({ seq: 4, hash: rec(4).hash });
      expect(o.stats()).toMatchObject({ depth: 4, rejected: 0 });
    });

    it(`${name} - a re-sequence points each moved payment's idempotency key at its new seq, and marks a set-aside one`, async () => {
      const o = await open();
      for (let s = 1; s <= 4; s++) await o.append(rec(s), idem(s));
      await o.resequence({ deliveredUpTo: 1, base: base(7), refused: aside(2), moved: [move(3, 8), move(4, 9)] });
      expect(await o.idempotencyRecord('app-key-1')).toEqual(idem(1));
      expect(await o.idempotencyRecord('app-key-2')).toEqual({ ...idem(2), refusedCode: 'PAN_DETECTED' });
      expect(await o.idempotencyRecord('app-key-3')).toEqual({ ...idem(3), seq: 8 });
      expect(await o.idempotencyRecord('app-key-4')).toEqual({ ...idem(4), seq: 9 });
      // Moved again (they carry their key), then new keys: nothing collides, counts stay right.
      await o.resequence({ deliveredUpTo: 7, base: base(7), refused: { ...aside(8, 'SCHEMA'), id: rec(3).id }, moved: [{ fromSeq: 9, record: { ...movedTo(4, 8) } }] });
      expect(await o.idempotencyRecord('app-key-4')).toEqual({ ...idem(4), seq: 8 });
      await o.append({ ...rec(9), seq: 9 }, { ...idem(9, 'after'), recordedAtMs: 9_500 });
      expect(o.idempotencyKeyCount()).toBe(5);
      expect(await o.pruneIdempotencyKeys(policy(0, 4))).toBe(1); // the oldest (app-key-1) goes
      expect(await o.idempotencyRecord('app-key-1')).toBeUndefined();
      expect(await o.idempotencyRecord('after')).toMatchObject({ seq: 9 });
    });

    it(`${name} - lists set-aside events in pages, and counts those above a seq`, async () => {
      const o = await open();
      for (let s = 1; s <= 5; s++) await o.append(rec(s));
      await o.resequence({ deliveredUpTo: 0, base: base(0), refused: aside(1), moved: [move(2, 1), move(3, 2), move(4, 3), move(5, 4)] });
      // The same seq refused twice (after the first re-sequence, another event holds seq 1).
      await o.resequence({ deliveredUpTo: 0, base: base(0), refused: { ...aside(1, 'SCHEMA'), id: rec(2).id }, moved: [{ fromSeq: 2, record: movedTo(3, 1) }, { fromSeq: 3, record: movedTo(4, 2) }, { fromSeq: 4, record: movedTo(5, 3) }] });
      const first = await o.listSetAside(1);
      expect(first.records.map((r) => [r.seq, r.code])).toHaveLength(1);
      expect(first.next).toBeDefined();
      const second = await o.listSetAside(5, first.next);
      expect(second.next).toBeUndefined();
      expect([...first.records, ...second.records].map((r) => r.id).sort()).toEqual([rec(1).id, rec(2).id].sort());
      expect(await o.setAsideAbove(0, 100)).toBe(2);
      expect(await o.setAsideAbove(1, 100)).toBe(0);
      expect(o.stats().rejected).toBe(2);
    });

    it(`${name} - on a closed outbox every call fails with a code`, async () => {
      const o = await open();
      await o.append(rec(1));
      await o.close();
      expect(o.state).toBe('closed');
      for (const call of [() => o.head(), () => o.acked(), () => o.base(), () => o.synced(), () => o.stats(), () => o.rewindTarget(0)]) await expectCode(call, 'OUTBOX_CLOSED');
      await expectCode(o.rewind({ seq: 0, hash: '' }), 'OUTBOX_CLOSED');
      await expectCode(o.append(rec(2)), 'OUTBOX_CLOSED');
      await expectCode(o.read(1, 1), 'OUTBOX_CLOSED');
      await expectCode(o.acknowledge({ seq: 1, hash: 'x' }), 'OUTBOX_CLOSED');
      await expectCode(o.adoptBase({ seq: 1, hash: 'x' }), 'OUTBOX_CLOSED');
      await expectCode(o.resequence({ deliveredUpTo: 1, base: base(1), moved: [] }), 'OUTBOX_CLOSED');
      await expectCode(o.listSetAside(1), 'OUTBOX_CLOSED');
      await expectCode(o.setAsideAbove(0, 1), 'OUTBOX_CLOSED');
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

    it(`${name} - an ack of the event keeps its idempotency key`, async () => {
      const o = await open();
      for (let s = 1; s <= 3; s++) await o.append(rec(s), idem(s));
      await o.acknowledge({ seq: 2, hash: rec(2).hash });
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

    if (options.durable) it(`${name} - keeps retained events across close and reopen, apart from the pending ones`, async () => {
      const o = await open();
      if (fx?.reopen === undefined) throw new TypeError('a durable fixture must provide reopen()');
      for (let s = 1; s <= 6; s++) await o.append(rec(s));
      await o.acknowledge({ seq: 4, hash: rec(4).hash, cloud: 1 });
      await o.close();
      const again = fx.reopen();
      await again.open();
      try {
        expect(again.stats()).toMatchObject({ depth: 2, retained: 3, exposureCount: 2 });
        expect(again.base()).toEqual({ seq: 1, hash: rec(1).hash });
        expect(await again.rewind({ seq: 2, hash: rec(2).hash })).toBe(2);
      } finally {
        await again.close();
      }
      const third = fx.reopen();
      await third.open();
      try {
        // The rewind was written: after a restart the kept events are still pending, to resend.
        expect(third.acked()).toEqual({ seq: 2, hash: rec(2).hash });
        expect(third.stats()).toMatchObject({ depth: 4, retained: 1 });
      } finally {
        await third.close();
      }
    });

    if (options.durable) it(`${name} - keeps everything across close and reopen`, async () => {
      const o = await open();
      if (fx?.reopen === undefined) throw new TypeError('a durable fixture must provide reopen()');
      for (let s = 1; s <= 4; s++) await o.append(rec(s), idem(s));
      await o.acknowledge({ seq: 1, hash: rec(1).hash });
      await o.resequence({ deliveredUpTo: 2, base: { seq: 2, hash: rec(2).hash }, refused: aside(3, 'BAD_SIGNATURE'), moved: [move(4, 3)] });
      await o.close();
      const again = fx.reopen();
      await again.open();
      try {
        expect(again.head()).toEqual({ seq: 3, hash: movedTo(4, 3).hash });
        expect(again.acked()).toEqual({ seq: 2, hash: rec(2).hash });
        expect(again.synced()).toBe(true);
        expect(await again.read(3, 10)).toEqual([{ ...movedTo(4, 3), idempotencyKey: 'app-key-4' }]);
        expect(again.stats()).toMatchObject({ depth: 1, exposureCount: 1, exposureMinor: 100, rejected: 1, oldestRecordedAtMs: 4000, retained: 1 });
        expect((await again.listSetAside(10)).records.map((r) => [r.seq, r.code])).toEqual([[3, 'BAD_SIGNATURE']]);
        expect(await again.idempotencyRecord('app-key-4')).toEqual({ ...idem(4), seq: 3 });
        expect(await again.acknowledge({ seq: 3, hash: 'not-ours'.padEnd(43, 'q') })).toEqual({ kind: 'diverged' });
        expect(again.stats().depth).toBe(1);
      } finally {
        await again.close();
      }
    });
  });
}
