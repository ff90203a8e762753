/**
 * Proves the operator guide's token rotations with real processes, secrets in files as the systemd
 * units hand them over: (1) a gateway's cloud token is rotated while payments keep flowing — the
 * cloud lists the gateway twice (old and new token), the gateway restarts with the new token file,
 * the old entry goes, and then the old token is refused (401); (2) the gateway's admin token is
 * rotated by replacing its file and restarting: the old one is refused, the new one works, the
 * terminals (which never use it) notice nothing. Every payment the app got a 201 for is in the
 * cloud once.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeEvent } from '../../protocol/jws.js';
import { cloudEvents } from '../chaos/harness/cloud-ledger.js';
import { ADMIN_TOKEN, STORE } from '../chaos/harness/terminals.js';
import { freePort } from '../support/ports.js';
import { TEST_PROVISIONING_PUBLIC_KEY } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { assertBuilt, killAll, readyString, spawnTillgate, type TillgateProcess } from '../support/tillgate-process.js';
import { waitFor } from '../support/wait.js';
import { initAndEnroll } from '../terminal-agent/support/real-gateway.js';
import { recordConfirmed, startTerminal, type TerminalProcess } from '../terminal-agent/support/terminal-process.js';

const OLD_CLOUD_TOKEN = 'old-cloud-token-of-g-1-0123456789abcdef';
const NEW_CLOUD_TOKEN = 'new-cloud-token-of-g-1-fedcba9876543210';
const NEW_ADMIN_TOKEN = 'new-admin-token-after-rotation-0123456789';

let dir = '';
const procs: TillgateProcess[] = [];
let terminal: TerminalProcess | null = null;
beforeAll(() => assertBuilt());
afterEach(async () => {
  await killAll([terminal?.process, ...procs.splice(0)]);
  terminal = null;
  if (dir !== '') await removeDir(dir);
  dir = '';
}, 60_000);

describe('token rotation', () => {
  it('tokens - the cloud token is rotated with both accepted meanwhile and the admin token by its file and a restart: nothing refused on the way, the old ones refused after, every payment in the cloud once', async () => {
    dir = await makeTempDir('tillgate-rotation-');
    const creds = join(dir, 'credentials');
    await mkdir(creds, { mode: 0o700 });
    const secret = (name: string, value: string) => writeFile(join(creds, name), `${value}\n`, { mode: 0o600 });
    await secret('cloud-admin-token', ADMIN_TOKEN);
    await secret('gateways', `g-1:${STORE}:${OLD_CLOUD_TOKEN}`);
    await secret('admin-token', ADMIN_TOKEN);
    await secret('cloud-token', OLD_CLOUD_TOKEN);
    const cloudPort = await freePort();
    const mqttPort = await freePort();
    const httpPort = await freePort();
    // As the units do: the files through *_FILE variables, nothing secret on the command line.
    const cloudEnv = { TILLGATE_ADMIN_TOKEN_FILE: join(creds, 'cloud-admin-token'), TILLGATE_GATEWAYS_FILE: join(creds, 'gateways'), TILLGATE_PROVISIONING_KEYS: TEST_PROVISIONING_PUBLIC_KEY };
    const startCloud = async () => {
      const p = await spawnTillgate(['cloud', '--data-dir', join(dir, 'cloud'), '--host', '127.0.0.1', '--http-port', String(cloudPort), '--log-level', 'warn'], { readyKind: 'cloud', env: cloudEnv });
      procs.push(p);
      return p;
    };
    let cloud = await startCloud();
    const cloudUrl = readyString(cloud, 'url');
    const startGateway = async () => {
      const p = await spawnTillgate([
        'gateway', '--data-dir', join(dir, 'gateway'), '--store', STORE, '--gateway-id', 'g-1', '--host', '127.0.0.1',
        '--mqtt-port', String(mqttPort), '--http-port', String(httpPort), '--cloud-url', cloudUrl,
        '--admin-token-file', join(creds, 'admin-token'), '--cloud-token-file', join(creds, 'cloud-token'),
        '--retry-delay-ms-max', '500', '--log-level', 'warn',
      ], { readyKind: 'gateway' });
      procs.push(p);
      return p;
    };
    let gateway = await startGateway();
    const gatewayUrl = readyString(gateway, 'httpUrl');
    const tdir = join(dir, 't-1');
    await mkdir(tdir);
    await initAndEnroll(tdir, 't-1', gatewayUrl);
    terminal = await startTerminal(tdir, mqttPort);
    const ids = new Set<string>();
    let n = 0;
    const pay = async (count: number) => {
      for (let i = 0; i < count; i++) ids.add((await recordConfirmed(terminal!.api, 100 + ++n, `order-${n}`)).id);
    };
    const inCloud = () => waitFor(async () => (await cloudEvents(cloudUrl, 't-1')).length === ids.size, { what: `${ids.size} payments in the cloud`, timeoutMs: 20_000 });
    const ingestWith = (token: string) => fetch(`${cloudUrl}/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ gateway: 'g-1', store: STORE, batch: '0190b2d0-0000-7000-8000-000000000001', enrollments: [], events: [] }) });
    await pay(3);
    await inCloud();

    // Cloud token, step 1: the cloud accepts the old and the new token (restarted with both).
    await secret('gateways', `g-1:${STORE}:${OLD_CLOUD_TOKEN}\ng-1:${STORE}:${NEW_CLOUD_TOKEN}`);
    expect(await cloud.stop(), cloud.stderr()).toBe(0);
    cloud = await startCloud();
    expect((await ingestWith(OLD_CLOUD_TOKEN)).status).toBe(200);
    expect((await ingestWith(NEW_CLOUD_TOKEN)).status).toBe(200);
    await pay(2);
    // Step 2: the gateway gets the new token file and restarts (terminals keep payments meanwhile).
    await secret('cloud-token', NEW_CLOUD_TOKEN);
    expect(await gateway.stop(), gateway.stderr()).toBe(0);
    await pay(2);
    gateway = await startGateway();
    await pay(2);
    await inCloud();
    // Step 3: the old entry goes; the old token is refused, the gateway keeps forwarding.
    await secret('gateways', `g-1:${STORE}:${NEW_CLOUD_TOKEN}`);
    expect(await cloud.stop(), cloud.stderr()).toBe(0);
    cloud = await startCloud();
    expect((await ingestWith(OLD_CLOUD_TOKEN)).status).toBe(401);
    await pay(2);
    await inCloud();
    // The gateway was never refused on the way.
    expect(JSON.stringify(await (await fetch(`${gatewayUrl}/api/forwarder`)).json())).not.toContain('HTTP_401');

    // The gateway's admin token: a new file and a restart.
    const drainWith = (token: string) => fetch(`${gatewayUrl}/api/forwarder/drain`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect((await drainWith(ADMIN_TOKEN)).status).toBe(202);
    await secret('admin-token', NEW_ADMIN_TOKEN);
    expect(await gateway.stop(), gateway.stderr()).toBe(0);
    gateway = await startGateway();
    expect((await drainWith(ADMIN_TOKEN)).status).toBe(401);
    expect((await drainWith(NEW_ADMIN_TOKEN)).status).toBe(202);
    await pay(2);
    await inCloud();
    const got = (await cloudEvents(cloudUrl, 't-1')).map((e) => decodeEvent(e.jws).payload.id);
    expect(new Set(got)).toEqual(ids);
    expect(got.length).toBe(ids.size);
  }, 180_000);
});
