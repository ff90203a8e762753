/**
 * `npm start` smoke test (DESIGN §3.5): `tillgate start` as a real process brings up the cloud, the
 * gateway and simulated terminals, prints one ready line with the status page URL, events of the
 * terminals it endorsed with its own provisioning key reach the cloud ledger through the gateway,
 * and SIGTERM stops everything with exit code 0.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, spawnTillgate, type TillgateProcess } from '../support/tillgate-process.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

let proc: TillgateProcess | null = null;
let dir: string | null = null;
afterEach(async () => {
  await killAll([proc]);
  if (dir !== null) await removeDir(dir);
  proc = null;
  dir = null;
});

describe('tillgate start', () => {
  it('start - runs the whole system, prints the status URL, delivers events to the cloud, exits 0 on SIGTERM', async () => {
    dir = await makeTempDir('tillgate-start-');
    proc = await spawnTillgate(
      ['start', '--data-dir', dir, '--http-port', '0', '--mqtt-port', '0', '--cloud-port', '0', '--psp-port', '0', '--terminals', '3', '--rate-per-s', '5', '--report-interval-s', '0'],
      { readyKind: 'start', timeoutMs: 20_000 },
    );
    const ready = proc.ready as { statusUrl: string; cloudUrl: string; dashboardUrl: string; pspUrl: string; store: string };
    expect(ready.statusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(ready.dashboardUrl).toBe(`${ready.cloudUrl}/`);
    expect((await fetch(`${ready.pspUrl}/healthz`)).status).toBe(200);
    await waitFor(() => proc?.stderr().includes(ready.statusUrl), { what: 'the guide on stderr' });
    expect((await fetch(`${ready.statusUrl}api/status`)).status).toBe(200);
    const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
    const inCloud = async () => {
      const res = await fetch(`${ready.cloudUrl}/v1/stores/${ready.store}/terminals`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { terminals: { seq: number }[] };
      return body.terminals.reduce((n, t) => n + t.seq, 0);
    };
    await waitFor(async () => (await inCloud()) >= 5, { timeoutMs: 20_000, what: 'events in the cloud ledger' });
    // The demo plays the operator: its provisioning key (0600) is the one the cloud trusts.
    expect(statSync(join(dir, 'provisioning-key.pem')).mode & 0o777).toBe(0o600);
    expect(await (await fetch(`${ready.cloudUrl}/healthz`)).json()).toMatchObject({ enrollmentTrust: 'provisioning-keys' });
    const forwarder = (await (await fetch(`${ready.statusUrl}api/forwarder`)).json()) as { wan: { state: string } };
    expect(forwarder.wan.state).toBe('online');
    // The payment lifecycle runs with optimism on: the terminals' payments are charged, the
    // simulated PSP notifies the cloud, and the dashboard opens with the admin token.
    const admin = { authorization: `Bearer ${token}` };
    await waitFor(async () => ((await (await fetch(`${ready.cloudUrl}/v1/payments/latency`, { headers: admin })).json()) as { optimistic: { charged: number } }).optimistic.charged > 0, {
      timeoutMs: 20_000, what: 'optimistic charges in the cloud',
    });
    await waitFor(async () => ((await (await fetch(`${ready.pspUrl}/v1/stats`)).json()) as { delivery: { delivered: number } }).delivery.delivered > 0, {
      timeoutMs: 20_000, what: 'notifications delivered by the simulated PSP',
    });
    const dashboard = await fetch(ready.dashboardUrl, { headers: { authorization: `Basic ${Buffer.from(`admin:${token}`).toString('base64')}` } });
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toMatch(/<h1>Payments<\/h1>/);
    expect(await proc.stop()).toBe(0);
  });
});
