/**
 * The `LedgerFeed` contract (cloud-bridge/feed.ts) written once and run against every
 * implementation: the ledgers' feeds, and the in-memory feed the lifecycle's unit tests use (a test
 * double passes the suite of the interface it stands in for). A harness appends through whatever
 * writes its feed (a ledger's `append`, or the double's own), and reopens the same storage.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_FEED_READ, type FeedEntry, type LedgerFeed } from '../../cloud-bridge/feed.js';
import { signEvent } from '../../protocol/jws.js';
import { chainHash } from '../../protocol/chain.js';
import { FakeClock } from '../support/fake-clock.js';
import { samplePayload, signChain, testSigner, type SignedChainEvent } from '../support/events.js';

export interface FeedUnderTest {
  readonly feed: LedgerFeed;
  /** Appends a terminal's events (in chain order) as accepted events; duplicates are no-ops. */
  append(store: string, terminal: string, events: readonly SignedChainEvent[]): Promise<void>;
  close(): Promise<void>;
}

export interface FeedHarness {
  /** Opens the harness's storage (the same one every time). */
  open(clock: FakeClock): Promise<FeedUnderTest>;
  destroy(): Promise<void>;
}

const STORE = 's-1';
const signer = testSigner('feed-conformance');

async function readAll(feed: LedgerFeed, after = 0, page = 7): Promise<FeedEntry[]> {
  const out: FeedEntry[] = [];
  for (;;) {
    const batch = await feed.readFeed(after, page);
    out.push(...batch);
    if (batch.length < page) return out;
    after = batch.at(-1)!.position;
  }
}

export function describeFeedConformance(name: string, makeHarness: () => Promise<FeedHarness>): void {
  describe(`ledger feed conformance (${name})`, () => {
    let harness: FeedHarness;
    let clock: FakeClock;
    let sut: FeedUnderTest;

    beforeEach(async () => {
      harness = await makeHarness();
      clock = new FakeClock();
      sut = await harness.open(clock);
    });
    afterEach(async () => {
      await sut.close();
      await harness.destroy();
    });

    it('feed - an empty ledger has head 0 and nothing to read', async () => {
      expect(await sut.feed.feedHead()).toBe(0);
      expect(await sut.feed.readFeed(0, 10)).toEqual([]);
    });

    it('feed - accepted events appear in order with growing positions and their decoded fields', async () => {
      const chain = await signChain(signer, STORE, 't-1', 3);
      await sut.append(STORE, 't-1', chain);
      const entries = await sut.feed.readFeed(0, 100);
      expect(entries.map((e) => [e.store, e.terminal, e.seq, e.jws])).toEqual(chain.map((e) => [STORE, 't-1', e.seq, e.jws]));
      for (let i = 1; i < entries.length; i++) expect(entries[i]!.position).toBeGreaterThan(entries[i - 1]!.position);
      expect(entries[0]!.position).toBeGreaterThanOrEqual(1);
      const p = chain[0]!.payload;
      expect(entries[0]!.event).toEqual({ id: p.id, type: p.type, at: p.at, amount: p.amount, currency: p.currency, outcome: p.outcome, mode: p.mode });
      expect(Number.isNaN(Date.parse(entries[0]!.receivedAt))).toBe(false);
      expect(await sut.feed.feedHead()).toBe(entries.at(-1)!.position);
    });

    it('feed - the PSP reference is decoded when the event carries one', async () => {
      const payload = samplePayload(STORE, 't-ref', 1, '', { ref: 'PSP-REF-1', mode: 'offline', outcome: 'declined', type: 'refund' });
      const jws = await signEvent(payload, signer);
      await sut.append(STORE, 't-ref', [{ seq: 1, jws, hash: chainHash(jws), payload }]);
      const [entry] = await sut.feed.readFeed(0, 10);
      expect(entry!.event).toMatchObject({ ref: 'PSP-REF-1', mode: 'offline', outcome: 'declined', type: 'refund' });
    });

    it('feed - pages of any size concatenate to the whole feed, each entry once', async () => {
      for (const t of ['t-1', 't-2', 't-3']) await sut.append(STORE, t, await signChain(signer, STORE, t, 8));
      const whole = await sut.feed.readFeed(0, MAX_FEED_READ);
      expect(whole).toHaveLength(24);
      expect(await readAll(sut.feed, 0, 5)).toEqual(whole);
      expect(await readAll(sut.feed, 0, 1)).toEqual(whole);
      expect(await sut.feed.readFeed(whole[9]!.position, 3)).toEqual(whole.slice(10, 13));
      expect(await sut.feed.readFeed(whole.at(-1)!.position, 10)).toEqual([]);
    });

    it('feed - a duplicate append adds nothing', async () => {
      const chain = await signChain(signer, STORE, 't-1', 4);
      await sut.append(STORE, 't-1', chain);
      const before = await sut.feed.readFeed(0, 100);
      clock.advance(60_000);
      await sut.append(STORE, 't-1', chain);
      expect(await sut.feed.readFeed(0, 100)).toEqual(before);
    });

    it('feed - a reader following concurrent writers never misses or repeats an entry', async () => {
      const terminals = ['t-a', 't-b', 't-c', 't-d'];
      const chains = new Map(await Promise.all(terminals.map(async (t) => [t, await signChain(signer, STORE, t, 12)] as const)));
      const seen: FeedEntry[] = [];
      let cursor = 0;
      let writing = true;
      const reader = (async () => {
        while (writing || seen.length < 48) {
          const batch = await sut.feed.readFeed(cursor, 5);
          seen.push(...batch);
          if (batch.length > 0) cursor = batch.at(-1)!.position;
          else await new Promise((r) => setImmediate(r));
        }
      })();
      await Promise.all(terminals.map(async (t) => {
        const chain = chains.get(t)!;
        for (let i = 0; i < chain.length; i += 3) await sut.append(STORE, t, chain.slice(i, i + 3));
      }));
      writing = false;
      await reader;
      expect(seen.map((e) => `${e.terminal}/${e.seq}`).sort()).toEqual(terminals.flatMap((t) => chains.get(t)!.map((e) => `${t}/${e.seq}`)).sort());
      for (const t of terminals) expect(seen.filter((e) => e.terminal === t).map((e) => e.seq)).toEqual(chains.get(t)!.map((e) => e.seq));
    });

    it('feed - entries and positions survive a reopen', async () => {
      await sut.append(STORE, 't-1', await signChain(signer, STORE, 't-1', 5));
      const before = await sut.feed.readFeed(0, 100);
      await sut.close();
      sut = await harness.open(clock);
      expect(await sut.feed.readFeed(0, 100)).toEqual(before);
      expect(await sut.feed.feedHead()).toBe(before.at(-1)!.position);
      const more = await signChain(signer, STORE, 't-1', 2, { seq: 5, hash: chainHash(before.at(-1)!.jws) });
      await sut.append(STORE, 't-1', more);
      const after = await sut.feed.readFeed(before.at(-1)!.position, 100);
      expect(after.map((e) => e.seq)).toEqual([6, 7]);
    });

    it('feed - a limit outside 1..MAX_FEED_READ or a negative cursor is a programmer error', async () => {
      await expect(async () => sut.feed.readFeed(0, 0)).rejects.toThrow(TypeError);
      await expect(async () => sut.feed.readFeed(0, MAX_FEED_READ + 1)).rejects.toThrow(TypeError);
      await expect(async () => sut.feed.readFeed(-1, 10)).rejects.toThrow(TypeError);
    });
  });
}
