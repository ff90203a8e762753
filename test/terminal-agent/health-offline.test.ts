/**
 * The health sample tells the gateway what a technician needs to act on: where the terminal's
 * chain stands, the payments it refused over its offline limits (by limit, and when), and the
 * limits themselves (what tills will refuse while the internet is down).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { healthSampleSchema, MAX_HEALTH_BYTES } from '../../protocol/messages.js';
import { healthSample, type HealthDeps } from '../../terminal-agent/health.js';
import type { OfflineLimits } from '../../terminal-agent/limits.js';
import { MemoryOutbox } from '../../terminal-agent/outbox/memory-outbox.js';
import { Recorder } from '../../terminal-agent/recorder.js';
import { codeOfAsync } from '../support/codes.js';
import { testSigner } from '../support/events.js';
import { FakeClock } from '../support/fake-clock.js';
import { tx } from './support/tx.js';

const limits: OfflineLimits = { maxOfflineTxAmountMinor: 5_000, maxUnackedAmountMinor: 12_000, maxUnackedCount: 3, maxUnackedAgeS: 600 };

describe('health sample - offline refusals and chain state', () => {
  let clock: FakeClock;
  let outbox: MemoryOutbox;
  let recorder: Recorder;
  let publisher: HealthDeps['publisher'];

  beforeEach(async () => {
    clock = new FakeClock();
    outbox = new MemoryOutbox();
    await outbox.open();
    await outbox.adoptBase({ seq: 0, hash: '' });
    recorder = new Recorder({ store: 's-1', terminal: 't-1', signer: testSigner('t-1'), outbox, clock, limits, isOffline: () => true });
    publisher = { rttMs: 4, counters: { reconnects: 0, errors: 0, published: 0, retainedDropped: 0 }, blocked: undefined, chain: { kind: 'in-step' }, publishHealth: () => true };
  });
  afterEach(async () => {
    await outbox.close();
  });

  const sample = () => healthSample({ clock, outbox, publisher, host: { rssiDbm: async () => -60, batteryPct: async () => null }, offline: { limits, refusals: recorder.offlineRefusals } });

  it('health sample - carries the offline limits and no refusals while none happened', async () => {
    const s = await sample();
    expect(s.offlineLimits).toEqual({ maxTxAmountMinor: 5_000, maxUnackedAmountMinor: 12_000, maxUnackedCount: 3, maxUnackedAgeS: 600 });
    expect(s.offlineRefused).toBeUndefined();
    expect(s.chain).toBe('in-step');
    expect(healthSampleSchema.safeParse(s).success).toBe(true);
  });

  it('health sample - counts payments refused over each offline limit, with the time of the latest', async () => {
    await recorder.record(tx(4_000));
    expect(await codeOfAsync(recorder.record(tx(6_000)))).toBe('OFFLINE_LIMIT_AMOUNT');
    clock.advance(60_000);
    await recorder.record(tx(4_000));
    expect(await codeOfAsync(recorder.record(tx(4_500)))).toBe('OFFLINE_LIMIT_TOTAL');
    expect(await codeOfAsync(recorder.record(tx(5_500)))).toBe('OFFLINE_LIMIT_AMOUNT');
    const s = await sample();
    expect(s.offlineRefused).toEqual({ total: 3, byCode: { OFFLINE_LIMIT_AMOUNT: 2, OFFLINE_LIMIT_TOTAL: 1 }, lastAt: new Date(clock.now()).toISOString() });
    expect(healthSampleSchema.parse(JSON.parse(JSON.stringify(s))).offlineRefused?.total).toBe(3);
    expect(Buffer.byteLength(JSON.stringify(s))).toBeLessThan(MAX_HEALTH_BYTES);
  });

  it('health sample - a held chain is named with the event and code holding it', async () => {
    publisher = { ...publisher, chain: { kind: 'held', seq: 7, code: 'PAN_DETECTED' }, blocked: { seq: 7, code: 'PAN_DETECTED' } };
    const s = await sample();
    expect(s).toMatchObject({ chain: 'held', blockedSeq: 7, blockedCode: 'PAN_DETECTED' });
  });

  it('health sample - the gateway keeps a sample with refusals from a newer agent and refuses a malformed one', () => {
    const base = { at: new Date(0).toISOString() };
    expect(healthSampleSchema.safeParse({ ...base, offlineRefused: { total: 2, byCode: { OFFLINE_LIMIT_SOMETHING_NEW: 2 }, lastAt: null, extra: 1 } }).success).toBe(true);
    expect(healthSampleSchema.safeParse({ ...base, offlineRefused: { total: -1 } }).success).toBe(false);
    expect(healthSampleSchema.safeParse({ ...base, blockedCode: 'not a code' }).success).toBe(false);
  });
});
