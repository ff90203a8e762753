/**
 * A test double of "a ledger with a feed": the real LevelDB ledger, whose accepted appends are
 * also written to an in-memory feed. Not crash-safe (the feed is memory), so it is for in-process
 * tests only; it passes the feed conformance suite (test/cloud-bridge/memory-feed.test.ts). The
 * ledgers' own feeds replace it where they exist.
 */
import type { FeedEntry, LedgerFeed } from '../../../cloud-bridge/feed.js';
import type { AppendItem, AppendOutcome, Ledger } from '../../../cloud-bridge/ledger.js';
import { MemoryLedgerFeed } from './memory-feed.js';

export type LedgerWithFeed = Ledger & LedgerFeed;

export function tapLedger(ledger: Ledger, feed: MemoryLedgerFeed): LedgerWithFeed {
  return {
    get state() {
      return ledger.state;
    },
    enroll: (store, records) => ledger.enroll(store, records),
    getKey: (store, terminal, kid) => ledger.getKey(store, terminal, kid),
    head: (store, terminal) => ledger.head(store, terminal),
    listHeads: (store, after, limit) => ledger.listHeads(store, after, limit),
    readEvents: (store, terminal, after, limit) => ledger.readEvents(store, terminal, after, limit),
    async append(store: string, items: readonly AppendItem[]): Promise<AppendOutcome[]> {
      const outcomes = await ledger.append(store, items);
      feed.append(store, items.filter((_, i) => outcomes[i]?.status === 'accepted').map((it) => it.jws));
      return outcomes;
    },
    close: () => ledger.close(),
    readFeed: (after: number, limit: number): Promise<FeedEntry[]> => feed.readFeed(after, limit),
    feedHead: () => feed.feedHead(),
  };
}
