/**
 * The lifecycle's feed conformance cases (feed-conformance.ts) on the ledgers themselves: the
 * LevelDB ledger and the PostgreSQL ledger, appending through `Ledger.append` as ingest does.
 */
import { decodeEvent } from '../../protocol/jws.js';
import type { AppendItem, Ledger } from '../../cloud-bridge/ledger.js';
import { describePg } from '../support/postgres/test-database.js';
import type { SignedChainEvent } from '../support/events.js';
import { describeFeedConformance, type FeedHarness } from './feed-conformance.js';
import { STORAGES } from './helpers.js';

function appendItem(terminal: string, e: SignedChainEvent): AppendItem {
  const { header, payload } = decodeEvent(e.jws);
  return {
    terminal, seq: e.seq, prev: payload.prev, jws: e.jws, kid: header.kid,
    event: { id: payload.id, type: payload.type, at: payload.at, amount: payload.amount, currency: payload.currency, outcome: payload.outcome, mode: payload.mode, ...(payload.ref === undefined ? {} : { ref: payload.ref }) },
  };
}

function harnessOf(kind: keyof typeof STORAGES): () => Promise<FeedHarness> {
  return async () => {
    const storage = await STORAGES[kind]();
    return {
      async open(clock) {
        const ledger: Ledger = await storage.open(clock);
        return {
          feed: ledger,
          append: async (store, terminal, events) => {
            await ledger.append(store, events.map((e) => appendItem(terminal, e)));
          },
          close: () => ledger.close(),
        };
      },
      destroy: () => storage.destroy(),
    };
  };
}

describeFeedConformance('LevelDB ledger', harnessOf('LevelDB'));
describePg('PostgreSQL ledger feed', () => describeFeedConformance('PostgreSQL ledger', harnessOf('PostgreSQL')));
