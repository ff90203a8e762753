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
import { PgLedger } from '../pg/pg-ledger.js';
import { openLevelLifecycleStore } from './level-lifecycle-store.js';
import type { AtRestOptions, KeyProvider } from '../../lib/at-rest/index.js';
import { PgLifecycleStore } from './pg-lifecycle-store.js';
import { Lifecycle } from './lifecycle.js';
import { lifecycleOptionsSchema, lifecycleOptionsShape, type LifecycleOptions } from './options.js';
import { HttpPspClient } from './psp-client.js';

/** The LevelDB lifecycle store lives in this subdirectory of the ledger's data directory. */
export const LIFECYCLE_SUBDIR = 'lifecycle';

export interface LifecycleHandle {
  readonly lifecycle: Lifecycle;
  close(): Promise<void>;
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
  /** Retries of a lost-race transaction on PostgreSQL (the ledger's --db-retry-max). */
  readonly dbRetryMax: number;
  readonly options: LifecycleOptions;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Data keys and re-seal pace of the embedded (LevelDB) cloud: its lifecycle store is sealed too. */
  readonly atRest?: EmbeddedAtRest;
}

/** Encryption at rest of the embedded cloud's stores (lib/at-rest). */
export interface EmbeddedAtRest {
  readonly keys: KeyProvider;
  readonly pace: AtRestOptions;
}

/**
 * The ledger is the feed the lifecycle follows (DESIGN §5.4). On PostgreSQL the lifecycle's tables
 * live in the ledger's database, on its pool; on LevelDB in `<data-dir>/lifecycle`.
 */
function requireKeys(input: OpenLifecycleInput): KeyProvider {
  if (input.atRest === undefined) throw new TypeError('the embedded lifecycle store needs the data keys');
  return input.atRest.keys;
}

export async function openLifecycle(input: OpenLifecycleInput): Promise<LifecycleHandle> {
  const o = input.options;
  const store = input.ledger instanceof PgLedger
    ? new PgLifecycleStore(input.ledger.pool, { retryMax: input.dbRetryMax, random: Math.random }, { updatesKeepPerStore: o.updatesKeepPerStore })
    : await openLevelLifecycleStore({ dataDir: join(input.dataDir, LIFECYCLE_SUBDIR), updatesKeepPerStore: o.updatesKeepPerStore, keys: requireKeys(input), atRest: input.atRest?.pace ?? {} });
  const feed: LedgerFeed = input.ledger;
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
