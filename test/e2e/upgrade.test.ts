/**
 * Proves an upgrade in place: the data directories the previous release left behind (written by
 * that release's own code, test/fixtures/upgrade/v0.1.0) open with this code — cloud ledger, gateway
 * store with a backlog, terminal with unacked payments in its outbox — and every payment the
 * payment app was told was recorded reaches the cloud exactly once, in order, in a valid chain, while
 * the stores are sealed at rest in the background.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chainHash } from '../../protocol/chain.js';
import { decodeEvent } from '../../protocol/jws.js';
import { TEST_PROVISIONING_PUBLIC_KEY } from '../support/provisioning.js';
import { killAll, readyNumber, readyString, spawnTillgate, type TillgateProcess } from '../support/tillgate-process.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const FIXTURE = join(process.cwd(), 'test', 'fixtures', 'upgrade', 'v0.1.0');

interface Expect {
  store: string;
  terminal: string;
  adminToken: string;
  cloudToken: string;
  inCloud: number;
  atGateway: number;
  recorded: number;
  ids: string[];
}

describe('upgrade from the previous release', () => {
  const procs: TillgateProcess[] = [];
  let dir = '';
  afterEach(async () => {
    await killAll(procs.splice(0));
    if (dir !== '') await removeDir(dir);
  });

  it('upgrade - the previous release data opens, the gateway forwards its backlog, the terminal sends its outbox, and the cloud holds every payment once, in order', async () => {
    const x = JSON.parse(readFileSync(join(FIXTURE, 'expect.json'), 'utf8')) as Expect;
    dir = await makeTempDir('tillgate-upgrade-');
    cpSync(FIXTURE, dir, { recursive: true });

    const cloud = await spawnTillgate(
      ['cloud', '--data-dir', join(dir, 'cloud'), '--host', '127.0.0.1', '--http-port', '0', '--admin-token', x.adminToken,
        '--gateways', `g-1:${x.store}:${x.cloudToken}`, '--provisioning-keys', TEST_PROVISIONING_PUBLIC_KEY, '--log-level', 'warn'],
      { readyKind: 'cloud' },
    );
    procs.push(cloud);
    const cloudUrl = readyString(cloud, 'url');
    const read = async () => {
      const res = await fetch(`${cloudUrl}/v1/stores/${x.store}/terminals/${x.terminal}/events?after=0&limit=1000`, { headers: { authorization: `Bearer ${x.adminToken}` } });
      return (await res.json()) as { head: number; events: { seq: number; jws: string }[] };
    };
    // What the previous release's cloud stored is there before anything else runs.
    expect((await read()).head).toBe(x.inCloud);

    const gateway = await spawnTillgate(
      ['gateway', '--data-dir', join(dir, 'gateway'), '--store', x.store, '--gateway-id', 'g-1', '--admin-token', x.adminToken,
        '--host', '127.0.0.1', '--mqtt-port', '0', '--http-port', '0', '--cloud-url', cloudUrl, '--cloud-token', x.cloudToken,
        '--reencrypt-pause-ms', '0', '--log-level', 'warn'],
      { readyKind: 'gateway' },
    );
    procs.push(gateway);
    const gatewayUrl = readyString(gateway, 'httpUrl');
    // The backlog the previous release could not forward goes out.
    await waitFor(async () => (await read()).head === x.atGateway, { timeoutMs: 20_000, what: 'the gateway backlog in the cloud' });

    const terminal = await spawnTillgate(
      ['terminal', 'run', '--dir', join(dir, 'terminal'), '--gateway', `mqtt://127.0.0.1:${readyNumber(gateway, 'mqttPort')}`, '--api-port', '0', '--health-interval-s', '0', '--log-level', 'warn'],
      { readyKind: 'terminal' },
    );
    procs.push(terminal);
    await waitFor(async () => (await read()).head === x.recorded, { timeoutMs: 20_000, what: 'the terminal outbox in the cloud' });

    const page = await read();
    expect(page.events.map((e) => e.seq)).toEqual(Array.from({ length: x.recorded }, (_, i) => i + 1));
    expect(page.events.map((e) => decodeEvent(e.jws).payload.id)).toEqual(x.ids);
    let prev = '';
    for (const e of page.events) {
      expect(decodeEvent(e.jws).payload.prev).toBe(prev);
      prev = chainHash(e.jws);
    }
    // The upgraded gateway seals what the previous release wrote in plain text.
    const atRest = await waitFor(async () => {
      const s = (await (await fetch(`${gatewayUrl}/api/status`)).json()) as { atRest: { pass: string; plainPossible: boolean } };
      return s.atRest.pass === 'done' ? s.atRest : undefined;
    }, { timeoutMs: 20_000, what: 'the gateway re-seal pass' });
    expect(atRest.plainPossible).toBe(false);
  });
});
