/**
 * Proves "nothing lost, nothing twice" across crashes (DESIGN §4) with real processes:
 * a backlog built while the cloud is unreachable is drained while the gateway is `kill -9`ed
 * mid-forward three times (restarted on the same data dir: it resumes from its durable cursor),
 * then while the cloud is `kill -9`ed mid-ingest three times (restarted on the same ledger).
 * At the end every event is in the ledger exactly once, in order, chains valid.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cloudCount, expectExactlyOnceInOrder } from './harness/cloud-ledger.js';
import { TestSystem } from './harness/system.js';
import { makeTerminals, publish } from './harness/terminals.js';
import { waitFor } from '../support/wait.js';

let system: TestSystem | null = null;
afterEach(async () => {
  await system?.close();
  system = null;
});

const KILLS = 3;
/** Small batches make the drain long enough to land kills in the middle of it. */
const SLOW_DRAIN = ['--forward-batch-max-events', '25'];

describe('forwarding across crashes', () => {
  it('chaos - kill -9 of the gateway mid-forward and of the cloud mid-ingest, three times each: nothing lost, nothing twice', async () => {
    system = await TestSystem.create();
    const s = system;
    await s.startCloud();
    s.proxy.setMode('refuse');
    await s.startGateway(SLOW_DRAIN);
    const terminals = await makeTerminals(s.gatewayUrl, 5, 800);
    await Promise.all(terminals.map((t) => publish(s.mqttPort, t, t.events)));
    const total = 4000;
    s.proxy.setMode('pass');

    let seen = 0;
    for (let i = 0; i < KILLS; i++) {
      // Mid-forward: the cloud has gained events since the last restart and is still short of all.
      const before = seen;
      seen = await waitFor(async () => {
        const n = await cloudCount(s.cloudUrl, terminals);
        return n > before ? n : null;
      }, { timeoutMs: 20_000, what: `gateway forwarding (kill ${i + 1})` });
      expect(seen).toBeLessThan(total);
      await s.gateway!.kill9();
      await s.startGateway(SLOW_DRAIN);
    }

    for (let i = 0; i < KILLS; i++) {
      const before = await cloudCount(s.cloudUrl, terminals);
      await waitFor(async () => (await cloudCount(s.cloudUrl, terminals)) > before, { timeoutMs: 20_000, what: `cloud ingesting (kill ${i + 1})` });
      await s.cloud!.kill9();
      await s.startCloud();
    }

    await waitFor(async () => (await cloudCount(s.cloudUrl, terminals)) === total, { timeoutMs: 40_000, what: 'all events in the cloud' });
    await expectExactlyOnceInOrder(s.cloudUrl, terminals, () => 800);
    await waitFor(async () => (await s.forwarder()).forwarder.backlog === 0, { what: 'gateway backlog 0' });
  });
});
