/**
 * Proves exactly-once, in-order delivery through a hostile WAN (DESIGN §4): a TCP proxy
 * between the real gateway and the real cloud cuts requests mid-body, drops answers after the
 * cloud committed (so the gateway resends batches the cloud already holds), and flaps every
 * second while terminals keep publishing. At the end every event is in the ledger exactly once,
 * in seq order, byte-identical, chains valid, and the gateway's backlog is empty.
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

interface ForwarderCounts {
  forwarder: { backlog: number; eventsDuplicate: number; batchesFailed: number; deadLetters: number };
}

describe('forwarding through WAN faults', () => {
  it('chaos - cut requests, answers dropped after commit, and a flapping link: still exactly once and in order', async () => {
    system = await TestSystem.create();
    const s = system;
    await s.startCloud();
    await s.startGateway(['--forward-batch-max-events', '50']);
    const terminals = await makeTerminals(s.gatewayUrl, 4, 300);
    const status = async () => (await (await fetch(`${s.gatewayUrl}/api/forwarder`)).json()) as ForwarderCounts;

    // 1. Requests cut mid-body: the cloud never sees a whole batch, commits nothing.
    s.proxy.cutAfterBytes = 300;
    s.proxy.setMode('cut-requests');
    await Promise.all(terminals.map((t) => publish(s.mqttPort, t, t.events.slice(0, 50))));
    await waitFor(() => s.proxy.stats.cutRequests >= 3, { what: '3 cut requests' });
    expect(await cloudCount(s.cloudUrl, terminals)).toBe(0);

    // 2. Answers dropped after the cloud committed: the ledger fills, the gateway hears nothing.
    s.proxy.setMode('drop-responses');
    await waitFor(async () => (await cloudCount(s.cloudUrl, terminals)) > 0 && s.proxy.stats.droppedResponses >= 3, { what: 'commits with lost answers' });
    expect((await status()).forwarder.backlog).toBeGreaterThan(0);

    // 3. A link that flaps every second through every fault, while terminals keep publishing.
    s.proxy.flap(600, 400, ['refuse', 'drop-responses', 'cut-requests']);
    await Promise.all(terminals.map((t) => publish(s.mqttPort, t, t.events.slice(50))));
    await waitFor(() => s.proxy.stats.flaps >= 4, { timeoutMs: 15_000, what: 'four flaps' });
    s.proxy.stopFlapping();

    await waitFor(async () => (await status()).forwarder.backlog === 0, { timeoutMs: 30_000, what: 'backlog drained' });
    expect(await cloudCount(s.cloudUrl, terminals)).toBe(1200);
    await expectExactlyOnceInOrder(s.cloudUrl, terminals, () => 300);
    const final = await status();
    // Batches the cloud had committed came back as duplicates, which settled them.
    expect(final.forwarder.eventsDuplicate).toBeGreaterThan(0);
    expect(final.forwarder.batchesFailed).toBeGreaterThan(3);
    expect(final.forwarder.deadLetters).toBe(0);
  });
});
