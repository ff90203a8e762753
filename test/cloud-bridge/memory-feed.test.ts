import { describeFeedConformance } from './feed-conformance.js';
import { MemoryLedgerFeed } from './lifecycle/memory-feed.js';

// The double is one object across "reopens", as a database would be.
describeFeedConformance('in-memory double', async () => {
  let feed: MemoryLedgerFeed | undefined;
  return {
    async open(clock) {
      feed ??= new MemoryLedgerFeed(clock);
      const f = feed;
      return {
        feed: f,
        append: async (store, _terminal, events) => {
          f.append(store, events.map((e) => e.jws));
        },
        close: async () => undefined,
      };
    },
    destroy: async () => undefined,
  };
});

// The tapped LevelDB ledger the lifecycle's in-process tests use, appending through the ledger.
describeFeedConformance('LevelDB ledger tapped into the in-memory double', async () => {
  const { makeTempDir, removeDir } = await import('../support/temp.js');
  const { openLevelLedger } = await import('../../cloud-bridge/level-ledger.js');
  const { tapLedger } = await import('./lifecycle/tapped-ledger.js');
  const dir = await makeTempDir('tillgate-tapped-');
  let feed: MemoryLedgerFeed | undefined;
  return {
    async open(clock) {
      feed ??= new MemoryLedgerFeed(clock);
      const { defaultDataKeys } = await import('../../lib/at-rest/options.js');
      const ledger = tapLedger(await openLevelLedger({ dataDir: dir, clock, keys: defaultDataKeys(dir) }), feed);
      return {
        feed: ledger,
        append: async (store, terminal, events) => {
          await ledger.append(store, events.map((e) => ({ terminal, seq: e.seq, prev: e.payload.prev, jws: e.jws })));
        },
        close: () => ledger.close(),
      };
    },
    destroy: () => removeDir(dir),
  };
});
