/**
 * The gateway's extension point calls this (gateway/index.ts `wireExtensions`): with a cloud URL
 * and token it follows the cloud's payment updates for its store and publishes them to terminals
 * (DESIGN §3.6), and shows the follower's state at `GET /api/updates`.
 */
import { join } from 'node:path';
import type { GatewayContext } from '../index.js';
import { FileCursorStore } from './cursor-store.js';
import { httpUpdatesFetcher, UpdatesFollower } from './follower.js';
import { updatesOptionsSchema, updatesOptionsShape } from './options.js';

/** The cursor file, in the gateway's data directory. */
export const UPDATES_CURSOR_FILE = 'updates-cursor.json';

export async function wireUpdates(ctx: GatewayContext): Promise<UpdatesFollower | null> {
  const { cloudUrl, cloudToken } = ctx.options;
  if (cloudUrl === undefined || cloudToken === undefined) return null;
  const given = ctx.options as unknown as Record<string, unknown>;
  const o = updatesOptionsSchema.parse(Object.fromEntries(Object.keys(updatesOptionsShape).filter((k) => given[k] !== undefined).map((k) => [k, given[k]])));
  const follower = new UpdatesFollower(
    ctx.options.store,
    httpUpdatesFetcher({ cloudUrl, cloudToken, store: ctx.options.store, timeoutMs: o.updatesTimeoutMs, maxResponseBytes: o.updatesMaxResponseBytes }),
    new FileCursorStore(join(ctx.options.dataDir, UPDATES_CURSOR_FILE)),
    ctx.bus,
    o,
    ctx.clock,
    ctx.logger.child({ component: 'updates' }),
  );
  await follower.start();
  ctx.onClose(() => follower.stop());
  ctx.app.get('/api/updates', (c) => c.json({ state: follower.state, ...follower.stats }));
  return follower;
}
