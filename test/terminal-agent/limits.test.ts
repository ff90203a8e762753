/** Offline limits, at the pure check and through record() with a fake clock. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainHash } from '../../protocol/chain.js';
import { decodeEvent } from '../../protocol/jws.js';
import { DEFAULT_OFFLINE_LIMITS, offlineLimitBreach, type OfflineLimits } from '../../terminal-agent/limits.js';
import { MemoryOutbox } from '../../terminal-agent/outbox/memory-outbox.js';
import { Recorder } from '../../terminal-agent/recorder.js';
import { testSigner } from '../support/events.js';
import { codeOfAsync } from '../support/codes.js';
import { tx } from './support/tx.js';
import { FakeClock } from '../support/fake-clock.js';

const limits: OfflineLimits = { maxOfflineTxAmountMinor: 5_000, maxUnackedAmountMinor: 12_000, maxUnackedCount: 3, maxUnackedAgeS: 600 };
const empty = { exposureCount: 0, exposureMinor: 0, oldestRecordedAtMs: null };


describe('offline limits - the check', () => {
  it('limits - allows an approval within every limit', () => {
    expect(offlineLimitBreach({ amountMinor: 5_000, outbox: empty, nowMs: 0 }, limits)).toBeUndefined();
  });
  it('limits - refuses a single approval above the per-transaction amount', () => {
    expect(offlineLimitBreach({ amountMinor: 5_001, outbox: empty, nowMs: 0 }, limits)).toBe('OFFLINE_LIMIT_AMOUNT');
  });
  it('limits - refuses when the unacked total would pass the limit', () => {
    expect(offlineLimitBreach({ amountMinor: 2_001, outbox: { exposureCount: 2, exposureMinor: 10_000, oldestRecordedAtMs: 0 }, nowMs: 0 }, limits)).toBe('OFFLINE_LIMIT_TOTAL');
  });
  it('limits - refuses when the unacked count would pass the limit', () => {
    expect(offlineLimitBreach({ amountMinor: 1, outbox: { exposureCount: 3, exposureMinor: 3, oldestRecordedAtMs: 0 }, nowMs: 0 }, limits)).toBe('OFFLINE_LIMIT_COUNT');
  });
  it('limits - refuses when the oldest unacked event is older than the age limit, and not a millisecond before', () => {
    const outbox = { exposureCount: 1, exposureMinor: 1, oldestRecordedAtMs: 1_000 };
    expect(offlineLimitBreach({ amountMinor: 1, outbox, nowMs: 1_000 + 600_000 }, limits)).toBeUndefined();
    expect(offlineLimitBreach({ amountMinor: 1, outbox, nowMs: 1_000 + 600_001 }, limits)).toBe('OFFLINE_LIMIT_AGE');
  });
  it('limits - never refuses what is no approval (a decline is always recorded)', () => {
    expect(offlineLimitBreach({ amountMinor: 0, outbox: { exposureCount: 99, exposureMinor: 1e9, oldestRecordedAtMs: 0 }, nowMs: 1e12 }, limits)).toBeUndefined();
  });
  it('limits - defaults carry units and sensible values', () => {
    expect(DEFAULT_OFFLINE_LIMITS).toEqual({ maxOfflineTxAmountMinor: 10_000, maxUnackedAmountMinor: 100_000, maxUnackedCount: 200, maxUnackedAgeS: 86_400 });
  });
});

describe('record() - offline limits with a fake clock', () => {
  let clock: FakeClock;
  let outbox: MemoryOutbox;
  let offline: boolean;
  let recorder: Recorder;
  beforeEach(async () => {
    clock = new FakeClock();
    outbox = new MemoryOutbox();
    await outbox.open();
    await outbox.adoptBase({ seq: 0, hash: '' });
    offline = true;
    recorder = new Recorder({ store: 's-1', terminal: 't-1', signer: testSigner('t-1'), outbox, clock, limits, isOffline: () => offline, maxOutboxEvents: 10 });
  });
  afterEach(async () => {
    await outbox.close();
  });

  it('record - approves offline within the limits and marks the event offline', async () => {
    const r = await recorder.record(tx(1_000));
    expect(r).toMatchObject({ seq: 1, offline: true });
    const [stored] = await outbox.read(1, 1);
    expect(decodeEvent(stored!.jws).payload).toMatchObject({ mode: 'offline', seq: 1, prev: '', id: r.id, amount: 1_000 });
  });

  it('record - refuses offline over the amount, total and count limits with their codes', async () => {
    expect(await codeOfAsync(recorder.record(tx(6_000)))).toBe('OFFLINE_LIMIT_AMOUNT');
    await recorder.record(tx(5_000));
    await recorder.record(tx(5_000));
    expect(await codeOfAsync(recorder.record(tx(2_500)))).toBe('OFFLINE_LIMIT_TOTAL');
    await recorder.record(tx(100));
    expect(await codeOfAsync(recorder.record(tx(100)))).toBe('OFFLINE_LIMIT_COUNT');
    expect(outbox.head().seq).toBe(3); // refusals append nothing
  });

  it('record - refuses offline once the oldest unacked event is too old, and allows again after the ack', async () => {
    await recorder.record(tx(100));
    clock.advance(600_001);
    expect(await codeOfAsync(recorder.record(tx(100)))).toBe('OFFLINE_LIMIT_AGE');
    await outbox.acknowledge(outbox.head());
    expect(await recorder.record(tx(100))).toMatchObject({ seq: 2, offline: true });
  });

  it('record - applies no offline limit while online, except to an app-declared offline approval', async () => {
    offline = false;
    expect(await recorder.record(tx(9_000))).toMatchObject({ offline: false });
    expect(await codeOfAsync(recorder.record(tx(9_000, { mode: 'offline' })))).toBe('OFFLINE_LIMIT_AMOUNT');
  });

  it('record - records a decline offline whatever the limits', async () => {
    for (let i = 0; i < 5; i++) await recorder.record(tx(50_000, { outcome: 'declined' }));
    expect(outbox.head().seq).toBe(5);
  });

  it('record - refuses when the outbox is full, never dropping anything', async () => {
    offline = false;
    for (let i = 0; i < 10; i++) await recorder.record(tx(100));
    expect(await codeOfAsync(recorder.record(tx(100)))).toBe('OUTBOX_FULL');
  });

  it('record - serializes concurrent calls into one gapless chain', async () => {
    offline = false;
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => recorder.record(tx(100 + i))));
    expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const stored = await outbox.read(1, 10);
    let prev = '';
    for (const s of stored) {
      expect(decodeEvent(s.jws).payload.prev).toBe(prev);
      prev = chainHash(s.jws);
    }
  });

  it('record - refuses bad input and card numbers with BAD_TRANSACTION', async () => {
    expect(await codeOfAsync(recorder.record({ amount: -1 }))).toBe('BAD_TRANSACTION');
    expect(await codeOfAsync(recorder.record(tx(100, { note: '4111 1111 1111 1111' })))).toBe('BAD_TRANSACTION');
    expect(outbox.head().seq).toBe(0);
  });

  it('record - refuses NOT_SYNCED on an outbox that never reached its gateway', async () => {
    const fresh = new MemoryOutbox();
    await fresh.open();
    const r = new Recorder({ store: 's-1', terminal: 't-1', signer: testSigner('t-1'), outbox: fresh, clock, limits, isOffline: () => true });
    expect(await codeOfAsync(r.record(tx(100)))).toBe('NOT_SYNCED');
  });
});
