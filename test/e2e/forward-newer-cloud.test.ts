/**
 * Proves DESIGN §3.4 "forward compatibility" through the real forwarder: a real gateway (HTTP
 * client, settle, dead letters) sends to a real cloud-bridge through an HTTP hop that makes it
 * look newer: some results come back with a reject code that does not exist today (FUTURE_CODE),
 * with the new KEY_REVOKED and DUPLICATE_ID, or with a status this gateway does not know. Each such
 * event becomes a dead letter with an alarm, every other event still reaches the cloud (no stall,
 * no MALFORMED_RESPONSE), an admin can export them with their signed events, and an admin retry
 * settles them once the cloud says it holds them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startCloud, type CloudHandle } from '../../cloud-bridge/index.js';
import { startGateway, type GatewayHandle } from '../../gateway/index.js';
import { silentLogger } from '../../lib/logger.js';
import { signChain } from '../support/events.js';
import { TEST_PROVISIONING_PUBLIC_KEY } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';
import { ADMIN_TOKEN, connectTerminal, endClient, enroll, publishEvent, STORE } from '../gateway/support.js';

const CLOUD_TOKEN = 'cloud-token-of-g-1-for-tests';

/** What the newer cloud says instead, per `terminal/seq`. */
type Rewrite = { status: string; code?: string };

/** An HTTP hop in front of the real cloud that rewrites chosen results of `POST /v1/ingest`. */
async function newerCloudHop(target: string, rewrites: Map<string, Rewrite>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const init: RequestInit = { method: req.method ?? 'GET', headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' } };
        if (req.method === 'POST') init.body = Buffer.concat(chunks);
        const answer = await fetch(`${target}${req.url ?? '/'}`, init);
        let text = await answer.text();
        if (req.url === '/v1/ingest' && answer.status === 200) {
          const body = JSON.parse(text) as { results: { terminal: string; seq: number; status: string; code?: string }[] };
          body.results = body.results.map((r) => {
            const instead = rewrites.get(`${r.terminal}/${r.seq}`);
            return instead === undefined ? r : { terminal: r.terminal, seq: r.seq, ...instead, note: 'a field this gateway ignores' };
          });
          text = JSON.stringify(body);
        }
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
      })().catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

let dir: string | null = null;
let cloud: CloudHandle | null = null;
let gateway: GatewayHandle | null = null;
let hop: Server | null = null;
const clients: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map(endClient));
  await gateway?.close();
  await cloud?.close();
  await new Promise<void>((resolve) => (hop === null ? resolve() : hop.close(() => resolve())));
  if (dir !== null) await removeDir(dir);
  dir = cloud = gateway = hop = null;
});

describe('forwarder and a newer cloud', () => {
  it('forward - unknown reject codes and statuses from a newer cloud dead-letter those events and forwarding goes on', async () => {
    dir = await makeTempDir('tillgate-newer-cloud-');
    cloud = await startCloud(
      { dataDir: join(dir, 'cloud'), host: '127.0.0.1', httpPort: 0, adminToken: ADMIN_TOKEN, gateways: [`g-1:${STORE}:${CLOUD_TOKEN}`], provisioningKeys: [TEST_PROVISIONING_PUBLIC_KEY], logLevel: 'silent' },
      { logger: silentLogger },
    );
    const rewrites = new Map<string, Rewrite>([
      ['t-1/2', { status: 'rejected', code: 'FUTURE_CODE' }],
      ['t-1/4', { status: 'rejected', code: 'KEY_REVOKED' }],
      ['t-2/1', { status: 'rejected', code: 'DUPLICATE_ID' }],
      ['t-2/3', { status: 'held-for-review' }],
    ]);
    const newer = await newerCloudHop(cloud.url, rewrites);
    hop = newer.server;
    gateway = await startGateway(
      {
        dataDir: join(dir, 'gateway'), host: '127.0.0.1', mqttPort: 0, httpPort: 0, store: STORE, gatewayId: 'g-1', adminToken: ADMIN_TOKEN,
        cloudUrl: newer.url, cloudToken: CLOUD_TOKEN, retryDelayMsMin: 50, retryDelayMsMax: 500, wanProbeIntervalOfflineMs: 200, logLevel: 'silent',
      },
      { logger: silentLogger },
    );
    const gw = gateway;
    const sent = new Map<string, string>();
    for (const name of ['t-1', 't-2']) {
      const who = await enroll(gw, name);
      const client = await connectTerminal(gw, name, who.password);
      clients.push(client);
      for (const e of await signChain(who.signer, STORE, name, 6)) {
        sent.set(`${name}/${e.seq}`, e.jws);
        await publishEvent(client, name, e.jws);
      }
    }
    const forwarder = async () =>
      (await (await gw.app.request('/api/forwarder')).json()) as {
        forwarder: { backlog: number; deadLetters: number; alarms: Record<string, number>; lastError: { code: string } | null };
        deadLetters: { terminal: string; seq: number; code: string }[];
      };
    await waitFor(async () => (await forwarder()).forwarder.backlog === 0, { timeoutMs: 15_000, what: 'the backlog to drain past the new codes' });
    const view = await forwarder();
    expect(view.deadLetters.map((d) => [d.terminal, d.seq, d.code])).toEqual([
      ['t-1', 2, 'FUTURE_CODE'], ['t-1', 4, 'KEY_REVOKED'], ['t-2', 1, 'DUPLICATE_ID'], ['t-2', 3, 'UNKNOWN_STATUS'],
    ]);
    expect(view.forwarder.alarms).toMatchObject({ FUTURE_CODE: 1, KEY_REVOKED: 1, DUPLICATE_ID: 1, UNKNOWN_STATUS: 1 });
    // Never treated as a malformed answer: nothing was retried for it.
    expect(view.forwarder.alarms.MALFORMED_RESPONSE).toBeUndefined();
    expect(view.forwarder.lastError?.code).not.toBe('MALFORMED_RESPONSE');
    const page = await (await gw.app.request('/')).text();
    expect(page).toContain('4 payments were refused by the cloud');
    // An admin can take a copy of every dead letter with its signed event; nobody else can.
    expect((await gw.app.request('/api/forwarder/dead-letters/export')).status).toBe(401);
    const exported = (await (await gw.app.request('/api/forwarder/dead-letters/export', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as {
      count: number; deadLetters: { terminal: string; seq: number; code: string; jws: string }[];
    };
    expect(exported.count).toBe(4);
    for (const d of exported.deadLetters) expect(d.jws).toBe(sent.get(`${d.terminal}/${d.seq}`));
    // The newer cloud now says it holds them: an admin retry settles every dead letter.
    rewrites.clear();
    const retry = await gw.app.request('/api/forwarder/dead-letters/retry', { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
    expect(retry.status).toBe(202);
    await waitFor(async () => (await forwarder()).forwarder.deadLetters === 0, { timeoutMs: 15_000, what: 'the dead letters to be settled' });
  });
});
