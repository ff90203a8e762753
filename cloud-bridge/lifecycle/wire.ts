/**
 * Opens the payment lifecycle's production parts for `startCloud()` (the cloud's one wiring place
 * calls this): the ledger's feed, the lifecycle storage next to the ledger, the PSP status client.
 */
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { LedgerFeed } from '../feed.js';
import type { Ledger } from '../ledger.js';
import { openLevelLifecycleStore } from './level-lifecycle-store.js';
import { Lifecycle } from './lifecycle.js';
import { lifecycleOptionsSchema, lifecycleOptionsShape, type LifecycleOptions } from './options.js';
import { HttpPspClient } from './psp-client.js';

/** The LevelDB lifecycle store lives in this subdirectory of the ledger's data directory. */
export const LIFECYCLE_SUBDIR = 'lifecycle';

export interface LifecycleHandle {
  readonly lifecycle: Lifecycle;
  close(): Promise<void>;
}

/** The ledger's feed, when this ledger has one (the feed is part of the ledger's log, DESIGN §5.4). */
export function feedOf(ledger: Ledger): LedgerFeed | undefined {
  const candidate = ledger as Ledger & Partial<LedgerFeed>;
  return typeof candidate.readFeed === 'function' && typeof candidate.feedHead === 'function' ? (candidate as unknown as LedgerFeed) : undefined;
}

/** Picks the lifecycle's options out of the cloud's (they are spread into its one schema). */
export function lifecycleOptionsOf(options: Readonly<Record<string, unknown>>): LifecycleOptions {
  const picked = Object.fromEntries(Object.keys(lifecycleOptionsShape).filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
  return lifecycleOptionsSchema.parse(picked);
}

export interface OpenLifecycleInput {
  readonly ledger: Ledger;
  /** Directory of the LevelDB ledger (the lifecycle store goes in a subdirectory). */
  readonly dataDir: string;
  readonly options: LifecycleOptions;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
}

/** Null (with a warning) when the ledger has no feed to follow. */
export async function openLifecycle(input: OpenLifecycleInput): Promise<LifecycleHandle | null> {
  const feed = feedOf(input.ledger);
  if (feed === undefined) {
    input.logger.warn('this ledger offers no feed: the payment lifecycle (webhooks, optimism, reconciliation, dashboard) is off');
    return null;
  }
  const o = input.options;
  const store = await openLevelLifecycleStore({ dataDir: join(input.dataDir, LIFECYCLE_SUBDIR), updatesKeepPerStore: o.updatesKeepPerStore });
  const psp = o.pspUrl === undefined ? null : new HttpPspClient({ baseUrl: o.pspUrl, timeoutMs: o.pspTimeoutMs });
  const lifecycle = new Lifecycle({ feed, payments: store, inbox: store, psp, clock: input.clock, logger: input.logger.child({ component: 'lifecycle' }), registry: input.registry }, o);
  return {
    lifecycle,
    async close() {
      await lifecycle.close();
      await store.close();
    },
  };
}
