/**
 * Proves that a corrupt table file does not let the gateway carry on as if whole (outside finding:
 * with 64 bytes flipped in one `.ldb` file of a stopped gateway, it restarted with /readyz 200 and
 * `accepting:true`, kept acknowledging, every forward step failed with LEVEL_CORRUPTION and the page
 * and /api/forwarder answered 500). A real `tillgate gateway` process stores 2,000 events (its cloud
 * unreachable, so they all wait to be forwarded), is stopped, restarted once so they are in tables,
 * stopped, and 64 bytes in the middle of its largest table are flipped. Restarted, it finds the
 * damage, raises an alarm, says so on the page in words, reports not ready, says `accepting:false`
 * on the status topic, and no longer acknowledges events as stored; the page, /api/status,
 * /api/forwarder and /metrics keep answering.
 */
import { open as openFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../protocol/topics.js';
import { signChain, testSigner } from '../support/events.js';
import { endorse } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { assertBuilt, killAll } from '../support/tillgate-process.js';
import { waitFor, within } from '../support/wait.js';
import { spawnGateway, type GatewayProcess } from '../gateway/gateway-process.js';
import { ADMIN_TOKEN, STORE } from '../gateway/support.js';
import { parsePrometheusText, valueOf } from '../status-page/prometheus-text.js';

const EVENTS = 2_000;
/** A cloud nobody answers at: the forwarder runs and everything stays in the backlog. */
const NO_CLOUD = ['--cloud-url', 'http://127.0.0.1:1', '--cloud-token', 'cloud-token-for-tests', '--retry-delay-ms-min', '200', '--retry-delay-ms-max', '1000'];

let dir: string | null = null;
const procs: GatewayProcess[] = [];
const clients: MqttClient[] = [];
beforeAll(() => assertBuilt());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  await killAll(procs.splice(0));
  if (dir !== null) await removeDir(dir);
  dir = null;
});

async function connectT1(gw: GatewayProcess, password: string): Promise<MqttClient> {
  const c = await within(connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { clientId: 't-1', username: 't-1', password, protocolVersion: 4, reconnectPeriod: 0 }), 10_000, 'connect t-1');
  clients.push(c);
  return c;
}

describe('gateway storage corruption', () => {
  it('corruption - a flipped table is found, alarmed, shown in words, and stops the gateway acknowledging events', async () => {
    dir = await makeTempDir('tillgate-corrupt-');
    const chain = await signChain(testSigner('t-1'), STORE, 't-1', EVENTS + 1);
    let gw = await spawnGateway(dir, NO_CLOUD);
    procs.push(gw);
    const res = await fetch(`${gw.httpUrl}/api/terminals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ terminal: 't-1', publicKey: testSigner('t-1').publicKeyRaw.toString('base64url'), endorsement: endorse(STORE, 't-1', testSigner('t-1')) }),
    });
    const { password } = (await res.json()) as { password: string };
    const c = await connectT1(gw, password);
    await Promise.all(chain.slice(0, EVENTS).map((e) => within(c.publishAsync(topics.events(STORE, 't-1'), e.jws, { qos: 1 }), 30_000, `publish ${e.seq}`)));
    await c.endAsync(true);
    expect(await gw.stop()).toBe(0);
    // A start replays the log into level-0 tables; stop again, then damage the largest table.
    gw = await spawnGateway(dir, NO_CLOUD);
    procs.push(gw);
    expect(await gw.stop()).toBe(0);
    const tables = await Promise.all((await readdir(dir)).filter((n) => n.endsWith('.ldb')).map(async (n) => ({ n, size: (await stat(join(dir!, n))).size })));
    const largest = tables.sort((a, b) => b.size - a.size)[0];
    expect(largest?.size ?? 0).toBeGreaterThan(64 * 1024);
    const fd = await openFile(join(dir, largest!.n), 'r+');
    await fd.write(Buffer.alloc(64, 0xff), 0, 64, Math.floor(largest!.size / 2));
    await fd.close();

    gw = await spawnGateway(dir, NO_CLOUD);
    procs.push(gw);
    const url = gw.httpUrl;
    // Not ready, with a code that says why.
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 503, { timeoutMs: 15_000, what: '/readyz to report the damage' });
    expect(((await (await fetch(`${url}/readyz`)).json()) as { error: { code: string } }).error.code).toBe('STORE_DAMAGED');
    const status = (await (await fetch(`${url}/api/status`)).json()) as { accepting: boolean; integrity: { state: string; problems: { code: string }[] } };
    expect(status.accepting).toBe(false);
    expect(status.integrity.state).toBe('damaged');
    expect(status.integrity.problems.map((p) => p.code)).toContain('STORE_CORRUPT');
    expect(gw.stderr()).toContain('ALARM storage integrity');
    // The page and the APIs keep answering, and the page says it in words.
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Storage damaged — this gateway stopped taking payments; terminals are keeping them');
    expect(html).toContain('No — storage damaged');
    expect((await fetch(`${url}/api/forwarder`)).status).toBe(200);
    const metrics = parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
    expect(valueOf(metrics, 'tillgate_accepting')).toBe(0);
    expect(valueOf(metrics, 'tillgate_store_integrity', { state: 'damaged' })).toBe(1);

    // A terminal is told not to send (status topic) and its next event is not acknowledged as stored.
    const t1 = await connectT1(gw, password);
    const seen: { topic: string; body: { accepting?: boolean; code?: string } }[] = [];
    t1.on('message', (topic, payload) => seen.push({ topic, body: JSON.parse(payload.toString()) as { accepting?: boolean; code?: string } }));
    await t1.subscribeAsync([topics.gatewayStatus(STORE), topics.rejects(STORE, 't-1')], { qos: 1 });
    await waitFor(() => seen.some((m) => m.topic === topics.gatewayStatus(STORE) && m.body.accepting === false), { what: 'accepting:false on the status topic' });
    const next = chain[EVENTS]!;
    const answered = await within(
      t1.publishAsync(topics.events(STORE, 't-1'), next.jws, { qos: 1 }).then(() => 'puback', () => 'closed'),
      15_000,
      'the answer to a new event',
    ).catch(() => 'closed');
    if (answered === 'puback') {
      await waitFor(() => seen.some((m) => m.topic === topics.rejects(STORE, 't-1')), { what: 'the reject' });
      expect(seen.find((m) => m.topic === topics.rejects(STORE, 't-1'))?.body.code).toBe('STORE_FULL');
    }
    const after = (await (await fetch(`${url}/api/status`)).json()) as { terminals: { terminal: string; headSeq: number }[] };
    expect(after.terminals.find((t) => t.terminal === 't-1')?.headSeq).toBe(EVENTS);
  }, 120_000);
});
