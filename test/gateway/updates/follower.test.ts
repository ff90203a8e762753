/** The gateway's updates follower (gateway/updates/follower.ts) with a scripted cloud and a recording bus. */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { silentLogger } from '../../../lib/logger.js';
import { FileCursorStore } from '../../../gateway/updates/cursor-store.js';
import { UpdatesFollower, type UpdatesFetcher } from '../../../gateway/updates/follower.js';
import type { MessageBus } from '../../../gateway/ingest/message-bus.js';
import { FakeClock } from '../../support/fake-clock.js';
import { makeTempDir, removeDir } from '../../support/temp.js';
import { paymentId } from '../../cloud-bridge/lifecycle/support.js';

const update = (n: number, extra: Record<string, unknown> = {}) => ({ terminal: `t-${n % 2}`, id: paymentId(n), seq: n, state: 'captured', charged: true, contradicted: false, ...extra });

describe('gateway updates follower', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(pages: Array<unknown | Error>) {
    const dir = await makeTempDir('tillgate-updates-follower-');
    cleanups.push(() => removeDir(dir));
    const asked: string[] = [];
    const fetchPage: UpdatesFetcher = async (after) => {
      asked.push(after);
      const next = pages.shift();
      if (next instanceof Error) throw next;
      return next ?? { cursor: after, updates: [] };
    };
    const published: Array<{ topic: string; message: unknown }> = [];
    const bus: MessageBus = { publish: async (topic, message) => void published.push({ topic, message }) };
    const cursors = new FileCursorStore(join(dir, 'cursor.json'));
    const make = () => new UpdatesFollower('s-1', fetchPage, cursors, bus, { updatesPollIntervalMs: 10_000, updatesPageLimit: 2 }, new FakeClock(), silentLogger);
    return { asked, published, cursors, make };
  }

  it('updates follower - publishes each update on its terminal\'s topic, then saves the cursor', async () => {
    const { asked, published, cursors, make } = await setup([{ cursor: '2', updates: [update(1), update(2)] }, { cursor: '3', updates: [update(3)] }]);
    const f = make();
    expect(await f.pollOnce()).toBe(2);
    expect(await f.pollOnce()).toBe(1);
    expect(asked).toEqual(['0', '2']);
    expect(published.map((p) => p.topic)).toEqual(['tillgate/v1/s-1/t-1/updates', 'tillgate/v1/s-1/t-0/updates', 'tillgate/v1/s-1/t-1/updates']);
    expect(await cursors.load()).toBe('3');
  });

  it('updates follower - an update it cannot read is skipped and counted, never a stall', async () => {
    const { published, cursors, make } = await setup([{ cursor: '2', updates: [{ terminal: 'BAD ID', id: 'x' }, update(2, { state: 'some_new_state' })] }]);
    const f = make();
    expect(await f.pollOnce()).toBe(2);
    expect(f.stats).toMatchObject({ published: 1, skipped: 1 });
    expect(published).toHaveLength(1);
    expect(await cursors.load()).toBe('2');
  });

  it('updates follower - a page that is not one leaves the cursor where it was', async () => {
    const { cursors, make } = await setup([{ cursor: 'abc', updates: [] }, new Error('ECONNREFUSED')]);
    const f = make();
    await expect(f.pollOnce()).rejects.toThrow(TypeError);
    await expect(f.pollOnce()).rejects.toThrow('ECONNREFUSED');
    expect(await cursors.load()).toBe('0');
  });
});
