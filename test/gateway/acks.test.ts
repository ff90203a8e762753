/**
 * The retained ack publisher (gateway/acks.ts) on fake timers: `cloud` is added only when the
 * gateway forwards, clamped to the head; moves of only the cloud are coalesced to one ack per
 * terminal per interval; a withheld (unconfirmed) head is never published.
 */
import { describe, expect, it } from 'vitest';
import { AckPublisher } from '../../gateway/acks.js';
import type { MessageBus } from '../../gateway/ingest/message-bus.js';
import { silentLogger } from '../../lib/logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeTimers } from '../forwarder/fake-timers.js';

function harness(opts: { cloud?: Map<string, number>; withheld?: Set<string> } = {}) {
  const clock = new FakeClock();
  const timers = new FakeTimers(clock);
  const sent: { topic: string; message: unknown }[] = [];
  const bus: MessageBus = { publish: async (topic, message) => void sent.push({ topic, message }) };
  const heads = new Map([['t-1', { seq: 9, hash: 'h9' }], ['t-2', { seq: 3, hash: 'h3' }]]);
  const acks = new AckPublisher({
    storeId: 's-1', bus, head: (t) => heads.get(t) ?? { seq: 0, hash: '' },
    cloudSeq: opts.cloud === undefined ? undefined : (t) => opts.cloud!.get(t) ?? 0,
    withheld: (t) => opts.withheld?.has(t) ?? false, timers, logger: silentLogger, intervalMs: 1_000,
  });
  return { acks, timers, sent };
}

describe('ack publisher', () => {
  it('acks - carries cloud (at most the head) when the gateway forwards, and no cloud when it does not', async () => {
    const forwarding = harness({ cloud: new Map([['t-1', 4], ['t-2', 99]]) });
    await forwarding.acks.publish('t-1');
    await forwarding.acks.publish('t-2');
    expect(forwarding.sent).toEqual([
      { topic: 'tillgate/v1/s-1/t-1/ack', message: { seq: 9, hash: 'h9', cloud: 4 } },
      { topic: 'tillgate/v1/s-1/t-2/ack', message: { seq: 3, hash: 'h3', cloud: 3 } },
    ]);
    const storeOnly = harness();
    await storeOnly.acks.publish('t-1');
    storeOnly.acks.cloudMoved(['t-1']);
    storeOnly.timers.advance(5_000);
    expect(storeOnly.sent).toEqual([{ topic: 'tillgate/v1/s-1/t-1/ack', message: { seq: 9, hash: 'h9' } }]);
  });

  it('acks - a draining backlog moving the cloud many times republishes each terminal\'s ack once per interval', async () => {
    const cloud = new Map([['t-1', 1]]);
    const h = harness({ cloud });
    for (let seq = 2; seq <= 9; seq++) {
      cloud.set('t-1', seq);
      h.acks.cloudMoved(['t-1', 't-2']);
    }
    expect(h.sent).toEqual([]);
    h.timers.advance(999);
    expect(h.sent).toEqual([]);
    h.timers.advance(1);
    await Promise.resolve();
    expect(h.sent.map((s) => s.message)).toEqual([{ seq: 9, hash: 'h9', cloud: 9 }, { seq: 3, hash: 'h3', cloud: 0 }]);
    h.timers.advance(10_000);
    expect(h.sent).toHaveLength(2);
  });

  it('acks - never publishes a head that is not confirmed (a restored gateway before the cloud answered)', async () => {
    const withheld = new Set(['t-1']);
    const h = harness({ cloud: new Map(), withheld });
    await h.acks.publish('t-1');
    h.acks.cloudMoved(['t-1']);
    h.timers.advance(2_000);
    expect(h.sent).toEqual([]);
    withheld.delete('t-1');
    await h.acks.publish('t-1');
    expect(h.sent).toHaveLength(1);
  });
});
