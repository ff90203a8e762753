/**
 * Group commit with a recording store double (a fault-injection seam, not a storage fake): appends
 * of one window share one batch, batches respect their limits, callers resolve in order, and a
 * failed batch fails everything queued behind it.
 */
import { describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../gateway/ingest/group-commit.js';
import type { CommitEntry } from '../../gateway/store/event-store.js';
import { systemClock } from '../../lib/clock.js';

const reject = (n: number): CommitEntry => ({ kind: 'reject', terminal: 't', seq: n, id: '', code: 'SCHEMA', message: '' });

function recordingStore(fail?: (batch: number) => boolean) {
  const batches: CommitEntry[][] = [];
  return {
    batches,
    async commit(entries: readonly CommitEntry[]): Promise<void> {
      batches.push([...entries]);
      await new Promise((r) => setImmediate(r));
      if (fail?.(batches.length)) throw Object.assign(new Error('disk'), { code: 'EIO' });
    },
  };
}

const limits = { windowMs: 2, maxRecords: 10, maxBytes: 1 << 20, maxPending: 100 };

describe('group commit', () => {
  it('group commit - writes the appends of one window as one batch and resolves them in order', async () => {
    const store = recordingStore();
    const c = new GroupCommitter(store, systemClock, limits);
    const order: number[] = [];
    await Promise.all([1, 2, 3, 4, 5].map((n) => c.submit([reject(n)], 10).then(() => order.push(n))));
    expect(store.batches.map((b) => b.length)).toEqual([5]);
    expect(order).toEqual([1, 2, 3, 4, 5]);
  });

  it('group commit - splits by the record limit and refuses past the pending limit', async () => {
    const store = recordingStore();
    const c = new GroupCommitter(store, systemClock, limits);
    await Promise.all(Array.from({ length: 25 }, (_, i) => c.submit([reject(i)], 1)));
    expect(store.batches.map((b) => b.length)).toEqual([10, 10, 5]);
    const small = new GroupCommitter(recordingStore(), systemClock, { ...limits, maxPending: 5, windowMs: 20 });
    const queued = Array.from({ length: 5 }, (_, i) => small.submit([reject(i)], 1));
    await expect(small.submit([reject(99)], 1)).rejects.toMatchObject({ code: 'OVERLOADED' });
    await Promise.all(queued);
  });

  it('group commit - fails the failed batch and everything queued behind it, then recovers', async () => {
    const store = recordingStore((n) => n === 1);
    let failures = 0;
    const c = new GroupCommitter(store, systemClock, { ...limits, maxRecords: 2 }, { onFailed: () => failures++ });
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => c.submit([reject(n)], 1)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(failures).toBe(1);
    await c.submit([reject(5)], 1);
    expect(store.batches.at(-1)).toHaveLength(1);
  });

  it('group commit - close writes what is queued and then refuses', async () => {
    const store = recordingStore();
    const c = new GroupCommitter(store, systemClock, { ...limits, windowMs: 1_000 });
    const pending = c.submit([reject(1)], 1);
    await c.close();
    await pending;
    expect(store.batches).toHaveLength(1);
    await expect(c.submit([reject(2)], 1)).rejects.toMatchObject({ code: 'COMMITTER_CLOSED' });
  });
});
