/**
 * The ForwardQueue behaviour (gateway/forward-queue.ts), written once and run against
 * every implementation: the LevelDB queue of the event store and the in-memory test double the
 * forwarder tests use. Order and bounds of reads, the cursor, money by class, dead letters, and
 * retention: age counts from the cloud's acceptance, a dead letter is never deleted however old,
 * nothing past the cursor is ever touched.
 */
import { describe, expect, it } from 'vitest';
import type { ForwardQueue } from '../../gateway/forward-queue.js';
import { chainHash } from '../../protocol/chain.js';
import type { EventPayload } from '../../protocol/event.js';
import { signEvent } from '../../protocol/jws.js';
import { samplePayload, testSigner, type SignedChainEvent } from '../support/events.js';
import { FakeClock } from '../support/fake-clock.js';

export const DAY_MS = 86_400_000;
const STORE = 's-1';

export interface ForwardQueueHarness {
  readonly queue: ForwardQueue;
  readonly clock: FakeClock;
  appendEnrollment(terminal: string): Promise<void>;
  /** Appends the events in one append, stored at `clock.now()`. */
  appendEvents(terminal: string, events: readonly SignedChainEvent[]): Promise<void>;
  /** True while the event is still kept. */
  hasEvent(terminal: string, seq: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface ForwardQueueFactory {
  create(clock: FakeClock): Promise<ForwardQueueHarness>;
}

/** Signs a chain whose events get `overrides(seq)` on top of the sample payload. */
export async function signChainWith(terminal: string, count: number, overrides: (seq: number) => Partial<EventPayload>, from = { seq: 0, hash: '' }): Promise<SignedChainEvent[]> {
  const signer = testSigner(terminal);
  const out: SignedChainEvent[] = [];
  let prev = from.hash;
  for (let seq = from.seq + 1; seq <= from.seq + count; seq++) {
    const payload = samplePayload(STORE, terminal, seq, prev, overrides(seq));
    const jws = await signEvent(payload, signer);
    prev = chainHash(jws);
    out.push({ seq, jws, hash: prev, payload });
  }
  return out;
}

const plain = () => ({});

export function forwardQueueConformance(name: string, factory: ForwardQueueFactory): void {
  describe(`${name} forward queue conformance`, () => {
    async function withQueue(fn: (h: ForwardQueueHarness) => Promise<void>): Promise<void> {
      const h = await factory.create(new FakeClock());
      try {
        await fn(h);
      } finally {
        await h.close();
      }
    }

    it(`${name} - reads in position order, bounded by count and bytes, and never moves the cursor back`, async () => {
      await withQueue(async (h) => {
        await h.appendEnrollment('t-a');
        const a = await signChainWith('t-a', 4, plain);
        await h.appendEvents('t-a', a);
        expect(h.queue.head()).toBe(5);
        expect((await h.queue.readAfter(0, 10, 1 << 20)).map((e) => [e.pos, e.kind])).toEqual([[1, 'enrollment'], [2, 'event'], [3, 'event'], [4, 'event'], [5, 'event']]);
        expect(await h.queue.readAfter(1, 10, 1)).toHaveLength(1);
        expect((await h.queue.readAfter(1, 2, 1 << 20)).map((e) => e.pos)).toEqual([2, 3]);
        expect((await h.queue.readTerminalEvents('t-a', 3, 10)).map((e) => e.seq)).toEqual([3, 4]);
        await h.queue.advanceCursor(4);
        await h.queue.advanceCursor(2);
        expect(h.queue.cursor()).toBe(4);
        expect(h.queue.backlog().events).toBe(1);
        await expect(h.queue.advanceCursor(99)).rejects.toBeInstanceOf(TypeError);
      });
    });

    it(`${name} - counts approved payments as takings, refunds and voids apart, declined as no money`, async () => {
      await withQueue(async (h) => {
        const kinds: Record<number, Partial<EventPayload>> = {
          1: { type: 'payment', outcome: 'approved', amount: 1000 },
          2: { type: 'payment', outcome: 'declined', amount: 5000 },
          3: { type: 'refund', outcome: 'approved', amount: 300 },
          4: { type: 'void', outcome: 'approved', amount: 700 },
          5: { type: 'tip-adjust', outcome: 'approved', amount: 50 },
          6: { type: 'payment', outcome: 'approved', amount: 250, currency: 'USD' },
          7: { type: 'refund', outcome: 'declined', amount: 999 },
        };
        await h.appendEvents('t-a', await signChainWith('t-a', 7, (seq) => kinds[seq] ?? {}));
        const b = h.queue.backlog();
        expect(b.events).toBe(7);
        expect(b.amountByCurrency).toEqual({ EUR: 1000, USD: 250 });
        expect(b.money.takings).toEqual({ count: 2, byCurrency: { EUR: 1000, USD: 250 } });
        expect(b.money.refunds).toEqual({ count: 1, byCurrency: { EUR: 300 } });
        expect(b.money.voids).toEqual({ count: 1, byCurrency: { EUR: 700 } });
        expect(b.money.other).toEqual({ count: 1, byCurrency: { EUR: 50 } });
        expect(b.money.declined).toEqual({ count: 2, byCurrency: {} });
        await h.queue.advanceCursor(2);
        expect(h.queue.backlog().money.takings).toEqual({ count: 1, byCurrency: { USD: 250 } });
        expect(h.queue.backlog().money.declined.count).toBe(1);
      });
    });

    it(`${name} - keeps dead letters out of the backlog and hands them back once delivered`, async () => {
      await withQueue(async (h) => {
        await h.appendEvents('t-a', await signChainWith('t-a', 3, plain));
        const dl = { pos: 2, terminal: 't-a', seq: 2, code: 'FUTURE_CODE', message: 'x', atMs: h.clock.now() };
        await h.queue.advanceCursorWithDeadLetters(2, [dl]);
        expect(h.queue.deadLetterCount()).toBe(1);
        expect(await h.queue.listDeadLetters(10)).toEqual([dl]);
        expect(h.queue.backlog()).toMatchObject({ events: 1, amountByCurrency: { EUR: 103 } });
        expect(await h.queue.takeDeadLetters([2, 77])).toEqual([dl]);
        expect(h.queue.deadLetterCount()).toBe(0);
      });
    });

    it(`${name} - retention counts age from the cloud's acceptance, not from storage`, async () => {
      await withQueue(async (h) => {
        await h.appendEvents('t-a', await signChainWith('t-a', 4, plain)); // stored on day 0
        h.clock.advance(20 * DAY_MS);
        await h.queue.advanceCursor(4); // the WAN was down: the cloud took them on day 20
        h.clock.advance(15 * DAY_MS); // day 35: stored 35 days ago, accepted 15 days ago
        expect(await h.queue.pruneAccepted(h.clock.now() - 30 * DAY_MS, 100)).toBe(0);
        expect(await h.hasEvent('t-a', 1)).toBe(true);
        h.clock.advance(16 * DAY_MS); // day 51: accepted 31 days ago
        expect(await h.queue.pruneAccepted(h.clock.now() - 30 * DAY_MS, 100)).toBe(4);
        expect(await h.hasEvent('t-a', 4)).toBe(false);
      });
    });

    it(`${name} - retention never deletes a dead letter, however old, until a retry delivered it`, async () => {
      await withQueue(async (h) => {
        await h.appendEvents('t-a', await signChainWith('t-a', 3, plain));
        const dl = { pos: 2, terminal: 't-a', seq: 2, code: 'KEY_REVOKED', message: 'refused', atMs: h.clock.now() };
        await h.queue.advanceCursorWithDeadLetters(3, [dl]);
        h.clock.advance(400 * DAY_MS);
        expect(await h.queue.pruneAccepted(h.clock.now() - 30 * DAY_MS, 100)).toBe(2);
        expect(await h.hasEvent('t-a', 2)).toBe(true);
        expect(await h.hasEvent('t-a', 1)).toBe(false);
        expect(h.queue.deadLetterCount()).toBe(1);
        // An admin retry that the cloud accepted: the retention clock starts now.
        await h.queue.takeDeadLetters([2]);
        h.clock.advance(10 * DAY_MS);
        expect(await h.queue.pruneAccepted(h.clock.now() - 30 * DAY_MS, 100)).toBe(0);
        expect(await h.hasEvent('t-a', 2)).toBe(true);
        h.clock.advance(21 * DAY_MS);
        expect(await h.queue.pruneAccepted(h.clock.now() - 30 * DAY_MS, 100)).toBe(1);
        expect(await h.hasEvent('t-a', 2)).toBe(false);
      });
    });

    it(`${name} - retention never touches anything past the cursor, and is bounded per call`, async () => {
      await withQueue(async (h) => {
        await h.appendEnrollment('t-a');
        await h.appendEvents('t-a', await signChainWith('t-a', 30, plain));
        await h.queue.advanceCursor(21); // the enrollment and seq 1–20
        h.clock.advance(365 * DAY_MS);
        const cutoff = h.clock.now() - 30 * DAY_MS;
        expect(await h.queue.pruneAccepted(cutoff, 12)).toBe(12);
        expect(await h.queue.pruneAccepted(cutoff, 12)).toBe(8);
        expect(await h.queue.pruneAccepted(cutoff, 12)).toBe(0);
        expect(await h.hasEvent('t-a', 20)).toBe(false);
        expect(await h.hasEvent('t-a', 21)).toBe(true);
        expect(h.queue.backlog().events).toBe(10);
        // Enrollments stay: the forwarder resends them after restarts.
        expect((await h.queue.readAfter(0, 5, 1 << 20)).map((e) => e.kind)).toEqual(['enrollment', 'event', 'event', 'event', 'event']);
      });
    });

    it(`${name} - knows per terminal how far the cloud holds its chain: cursor advances move it, dead letters do not until a retry delivers them`, async () => {
      await withQueue(async (h) => {
        const moved: string[][] = [];
        h.queue.onCloudAdvance((terminals) => moved.push([...terminals].sort()));
        await h.appendEnrollment('t-a');
        await h.appendEvents('t-a', await signChainWith('t-a', 3, plain)); // pos 2–4
        await h.appendEvents('t-b', await signChainWith('t-b', 2, plain)); // pos 5–6
        expect(h.queue.cloudSeq('t-a')).toBe(0);
        await h.queue.advanceCursor(3);
        expect([h.queue.cloudSeq('t-a'), h.queue.cloudSeq('t-b')]).toEqual([2, 0]);
        const dl = { pos: 6, terminal: 't-b', seq: 2, code: 'KEY_REVOKED', message: 'refused', atMs: h.clock.now() };
        await h.queue.advanceCursorWithDeadLetters(6, [dl]);
        expect([h.queue.cloudSeq('t-a'), h.queue.cloudSeq('t-b')]).toEqual([3, 1]);
        await h.queue.takeDeadLetters([6]);
        expect(h.queue.cloudSeq('t-b')).toBe(2);
        expect(moved).toEqual([['t-a'], ['t-a', 't-b'], ['t-b']]);
      });
    });

    it(`${name} - notifies appends until unsubscribed`, async () => {
      await withQueue(async (h) => {
        let calls = 0;
        const off = h.queue.onAppend(() => calls++);
        await h.appendEvents('t-a', await signChainWith('t-a', 1, plain));
        off();
        await h.appendEnrollment('t-b');
        expect(calls).toBe(1);
      });
    });
  });
}
