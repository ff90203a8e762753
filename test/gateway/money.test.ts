/**
 * Money counted right through a real gateway (Aedes, MQTT.js, LevelDB): an approved payment is
 * takings, a refund is shown apart, a declined payment moves no money, on `/api/status`,
 * `/api/forwarder`, `/metrics` and the page alike.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { signChainWith } from '../forwarder/forward-queue.conformance.js';
import { parsePrometheusText, valueOf } from '../status-page/prometheus-text.js';
import { connectTerminal, endClient, enroll, publishEvent, startTestGateway, stopTestGateway, type TestGateway } from './support.js';

let t: TestGateway | undefined;
let client: MqttClient | undefined;
afterEach(async () => {
  await endClient(client);
  await stopTestGateway(t);
  t = client = undefined;
});

describe('gateway money', () => {
  it('gateway money - approved payments are takings, refunds apart, declined never, on every figure', async () => {
    // A cloud nobody answers at: the forwarder runs (and /api/forwarder with it), nothing leaves.
    t = await startTestGateway({ cloudUrl: 'http://127.0.0.1:1', cloudToken: 'cloud-token-for-tests', retryDelayMsMin: 1_000 });
    const e = await enroll(t.gw, 't-1');
    client = await connectTerminal(t.gw, 't-1', e.password);
    const kinds = [
      { type: 'payment', outcome: 'approved', amount: 1_000 },
      { type: 'payment', outcome: 'declined', amount: 5_000 },
      { type: 'refund', outcome: 'approved', amount: 300 },
      { type: 'payment', outcome: 'approved', amount: 250, currency: 'USD' },
    ] as const;
    for (const event of await signChainWith('t-1', kinds.length, (seq) => kinds[seq - 1] ?? {})) await publishEvent(client, 't-1', event.jws);

    const status = (await (await t.gw.app.request('/api/status')).json()) as { backlog: { events: number; amountByCurrency: unknown; money: Record<string, unknown> } };
    expect(status.backlog.events).toBe(4);
    expect(status.backlog.amountByCurrency).toEqual({ EUR: 1_000, USD: 250 });
    expect(status.backlog.money).toMatchObject({
      takings: { count: 2, byCurrency: { EUR: 1_000, USD: 250 } },
      refunds: { count: 1, byCurrency: { EUR: 300 } },
      declined: { count: 1, byCurrency: {} },
    });

    const fwd = (await (await t.gw.app.request('/api/forwarder')).json()) as { forwarder: { amountPendingByCurrency: unknown; moneyPending: { refunds: unknown } } };
    expect(fwd.forwarder.amountPendingByCurrency).toEqual({ EUR: 1_000, USD: 250 });
    expect(fwd.forwarder.moneyPending.refunds).toEqual({ count: 1, byCurrency: { EUR: 300 } });

    const metrics = parsePrometheusText(await (await t.gw.app.request('/metrics')).text());
    expect(valueOf(metrics, 'tillgate_forward_backlog_amount_minor', { class: 'takings', currency: 'EUR' })).toBe(1_000);
    expect(valueOf(metrics, 'tillgate_forward_backlog_amount_minor', { class: 'refunds', currency: 'EUR' })).toBe(300);
    expect(valueOf(metrics, 'tillgate_forward_backlog_transactions', { class: 'declined' })).toBe(1);

    const page = await (await t.gw.app.request('/')).text();
    expect(page).toContain('<dd id="backlog">2 payments<div class="money">EUR 10.00 + USD 2.50</div>');
    expect(page).toContain('and 1 refund (EUR 3.00)');
    expect(page).toContain('and 1 declined transaction (no money moved)');
    expect(page).not.toContain('EUR 63.00');
  });
});
