/**
 * Idempotency keys on record(): a retry with the same key answers with the original result and
 * records nothing (also after a restart on the same LevelDB outbox), a key reused for another
 * payment is refused with IDEMPOTENCY_MISMATCH, and keys are pruned by age and count off the
 * record path. Fake clock; real LevelDB in a temp dir where durability is the point.
 */
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/logger.js';
import { DEFAULT_IDEMPOTENCY, MAX_IDEMPOTENCY_KEY_CHARS, PRUNE_BATCH_KEYS, pruneIdempotencyKeys, startIdempotencyPruner } from '../../terminal-agent/idempotency.js';
import { DEFAULT_OFFLINE_LIMITS } from '../../terminal-agent/limits.js';
import { LevelOutbox } from '../../terminal-agent/outbox/level-outbox.js';
import { MemoryOutbox } from '../../terminal-agent/outbox/memory-outbox.js';
import type { Outbox } from '../../terminal-agent/outbox/outbox.js';
import { Recorder } from '../../terminal-agent/recorder.js';
import { testSigner } from '../support/events.js';
import { codeOfAsync } from '../support/codes.js';
import { tx } from './support/tx.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';



async function syncedMemoryOutbox(): Promise<MemoryOutbox> {
  const o = new MemoryOutbox();
  await o.open();
  await o.adoptBase({ seq: 0, hash: '' });
  return o;
}

function recorderOn(outbox: Outbox, clock = new FakeClock(), opts: { offline?: boolean } = {}): Recorder {
  return new Recorder({
    store: 's-1', terminal: 't-1', signer: testSigner('t-1'), outbox, clock, limits: DEFAULT_OFFLINE_LIMITS, isOffline: () => opts.offline ?? false,
  });
}

describe('record() with an idempotency key', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await removeDir(dir);
    dir = undefined;
  });

  it('idempotency - a retry with the same key returns the original id, seq and offline flag and records nothing', async () => {
    const outbox = await syncedMemoryOutbox();
    const r = recorderOn(outbox, new FakeClock(), { offline: true });
    const first = await r.record(tx(900), { idempotencyKey: 'order-1' });
    expect(first).toMatchObject({ seq: 1, offline: true, replayed: false });
    const again = await r.record(tx(900), { idempotencyKey: 'order-1' });
    expect(again).toEqual({ id: first.id, seq: 1, offline: true, replayed: true });
    expect(outbox.head().seq).toBe(1);
    expect(outbox.stats().depth).toBe(1);
    expect((await r.record(tx(900), { idempotencyKey: 'order-2' })).seq).toBe(2); // a new key is a new payment
    expect((await r.record(tx(900))).seq).toBe(3); // no key: always a new payment, as before
  });

  it('idempotency - the same key for a different amount, currency or type is refused with IDEMPOTENCY_MISMATCH', async () => {
    const outbox = await syncedMemoryOutbox();
    const r = recorderOn(outbox);
    await r.record(tx(1_500), { idempotencyKey: 'order-1' });
    expect(await codeOfAsync(r.record(tx(1_600), { idempotencyKey: 'order-1' }))).toBe('IDEMPOTENCY_MISMATCH');
    expect(await codeOfAsync(r.record(tx(1_500, { currency: 'USD' }), { idempotencyKey: 'order-1' }))).toBe('IDEMPOTENCY_MISMATCH');
    expect(await codeOfAsync(r.record(tx(1_500, { type: 'refund' }), { idempotencyKey: 'order-1' }))).toBe('IDEMPOTENCY_MISMATCH');
    expect(outbox.head().seq).toBe(1);
  });

  it('idempotency - a key that is empty, too long or outside the charset is refused with BAD_IDEMPOTENCY_KEY', async () => {
    const outbox = await syncedMemoryOutbox();
    const r = recorderOn(outbox);
    for (const key of ['', 'x'.repeat(MAX_IDEMPOTENCY_KEY_CHARS + 1), 'has space', 'quote"', 'ümlaut', 'a/b']) {
      expect(await codeOfAsync(r.record(tx(100), { idempotencyKey: key })), key).toBe('BAD_IDEMPOTENCY_KEY');
    }
    expect(outbox.head().seq).toBe(0);
    const longest = 'A-z_0.9:'.repeat(16);
    expect(longest).toHaveLength(MAX_IDEMPOTENCY_KEY_CHARS);
    expect((await r.record(tx(100), { idempotencyKey: longest })).seq).toBe(1);
  });

  it('idempotency - a retry is answered even when the limits or a full outbox would refuse a new payment now', async () => {
    const outbox = await syncedMemoryOutbox();
    let offline = false;
    const r = new Recorder({
      store: 's-1', terminal: 't-1', signer: testSigner('t-1'), outbox, clock: new FakeClock(),
      limits: { ...DEFAULT_OFFLINE_LIMITS, maxOfflineTxAmountMinor: 1_000 }, isOffline: () => offline, maxOutboxEvents: 1,
    });
    const first = await r.record(tx(5_000), { idempotencyKey: 'big-one' });
    offline = true;
    expect(await codeOfAsync(r.record(tx(5_000), { idempotencyKey: 'other' }))).toBe('OUTBOX_FULL');
    expect(await r.record(tx(5_000), { idempotencyKey: 'big-one' })).toEqual({ ...first, replayed: true });
  });

  it('idempotency - a refused payment stores no key, so its retry is decided afresh', async () => {
    const outbox = await syncedMemoryOutbox();
    let offline = true;
    const r = new Recorder({
      store: 's-1', terminal: 't-1', signer: testSigner('t-1'), outbox, clock: new FakeClock(),
      limits: { ...DEFAULT_OFFLINE_LIMITS, maxOfflineTxAmountMinor: 1_000 }, isOffline: () => offline,
    });
    expect(await codeOfAsync(r.record(tx(5_000), { idempotencyKey: 'k-1' }))).toBe('OFFLINE_LIMIT_AMOUNT');
    offline = false;
    expect(await r.record(tx(5_000), { idempotencyKey: 'k-1' })).toMatchObject({ seq: 1, offline: false, replayed: false });
  });

  it('idempotency - concurrent calls with one key record the payment once', async () => {
    const outbox = await syncedMemoryOutbox();
    const r = recorderOn(outbox);
    const results = await Promise.all(Array.from({ length: 6 }, () => r.record(tx(700), { idempotencyKey: 'tap-twice' })));
    expect(new Set(results.map((x) => x.id)).size).toBe(1);
    expect(results.filter((x) => !x.replayed)).toHaveLength(1);
    expect(outbox.head().seq).toBe(1);
  });

  it('idempotency - after the agent restarts on the same LevelDB outbox a retry replays the durable event', async () => {
    dir = await makeTempDir('tillgate-idem-');
    const location = join(dir, 'outbox');
    const before = new LevelOutbox(location, defaultDataKeys(dir));
    await before.open();
    await before.adoptBase({ seq: 0, hash: '' });
    const first = await recorderOn(before).record(tx(1_234), { idempotencyKey: 'pos-9:tx-1' });
    await before.close(); // the answer never reached the app
    const after = new LevelOutbox(location, defaultDataKeys(dir));
    await after.open();
    try {
      const r = recorderOn(after);
      expect(await r.record(tx(1_234), { idempotencyKey: 'pos-9:tx-1' })).toEqual({ ...first, replayed: true });
      expect(after.head().seq).toBe(1);
      expect(await codeOfAsync(r.record(tx(1), { idempotencyKey: 'pos-9:tx-1' }))).toBe('IDEMPOTENCY_MISMATCH');
    } finally {
      await after.close();
    }
  });
});

describe('idempotency key pruning', () => {
  it('idempotency - keys older than the TTL are pruned, younger ones still replay, and a pruned key records anew', async () => {
    const clock = new FakeClock();
    const outbox = await syncedMemoryOutbox();
    const r = recorderOn(outbox, clock);
    const options = { ...DEFAULT_IDEMPOTENCY, idempotencyKeyTtlS: 3_600 };
    await r.record(tx(100), { idempotencyKey: 'old' });
    clock.advance(1_800_000);
    await r.record(tx(200), { idempotencyKey: 'young' });
    clock.advance(1_800_001); // 'old' is now just past one hour
    expect(await pruneIdempotencyKeys(outbox, options, clock.now())).toBe(1);
    expect((await r.record(tx(200), { idempotencyKey: 'young' })).replayed).toBe(true);
    // Past the TTL the key is forgotten: a retry that late is a new payment (README says so).
    expect(await r.record(tx(100), { idempotencyKey: 'old' })).toMatchObject({ seq: 3, replayed: false });
  });

  it('idempotency - the count bound removes the oldest keys in batches until at most maxIdempotencyKeys remain', async () => {
    const clock = new FakeClock();
    const outbox = await syncedMemoryOutbox();
    const total = PRUNE_BATCH_KEYS + 20;
    for (let s = 1; s <= total; s++) {
      const id = `0190b2d0-0000-7000-8000-${String(s).padStart(12, '0')}`;
      await outbox.append({ seq: s, id, jws: `h.p${s}.s`, hash: `h${s}`, exposureMinor: 0, recordedAtMs: clock.now() },
        { key: `k-${s}`, id, seq: s, offline: false, type: 'payment', amount: 1, currency: 'EUR', recordedAtMs: clock.now() });
    }
    expect(await pruneIdempotencyKeys(outbox, { ...DEFAULT_IDEMPOTENCY, maxIdempotencyKeys: 10 }, clock.now())).toBe(total - 10);
    expect(outbox.idempotencyKeyCount()).toBe(10);
    expect(await outbox.idempotencyRecord(`k-${total - 10}`)).toBeUndefined();
    expect(await outbox.idempotencyRecord(`k-${total - 9}`)).toBeDefined();
  });

  it('idempotency - the pruner runs at start off the record path and stops cleanly before the outbox closes', async () => {
    const clock = new FakeClock();
    const outbox = await syncedMemoryOutbox();
    const r = recorderOn(outbox, clock);
    for (let i = 0; i < 3; i++) await r.record(tx(100 + i), { idempotencyKey: `k-${i}` });
    clock.advance(DEFAULT_IDEMPOTENCY.idempotencyKeyTtlS * 1000 + 1);
    const pruner = startIdempotencyPruner({ outbox, clock, logger: silentLogger }, DEFAULT_IDEMPOTENCY);
    await waitFor(() => outbox.idempotencyKeyCount() === 0, { what: 'expired keys pruned', timeoutMs: 5_000 });
    await pruner.stop();
    await outbox.close();
  });
});
