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

