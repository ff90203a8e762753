/**
 * Proves the operator's key rotation procedure on a real gateway process: `tillgate data-key
 * rotate`, restart, the gateway re-seals every stored value with the new key in the background and
 * says so in /api/status, `tillgate data-key retire` removes the old key, and the gateway still
 * starts and serves every event; a gateway whose key file lacks a key its data needs refuses to
 * start and names the key.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chainHash } from '../../protocol/chain.js';
import { signEvent } from '../../protocol/jws.js';
import { connectTerminal, endClient, enroll, publishEvent, startTestGateway, stopTestGateway, type TestGateway } from '../gateway/support.js';
import { spawnGateway, type GatewayProcess } from '../gateway/gateway-process.js';
import { samplePayload } from '../support/events.js';
import { assertBuilt, killAll, TILLGATE_BIN } from '../support/tillgate-process.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const dataKey = (...args: string[]) => JSON.parse(execFileSync(process.execPath, [TILLGATE_BIN, 'data-key', ...args], { encoding: 'utf8' })) as Record<string, unknown>;

interface AtRestStatus { currentKey: string; keysInUse: string[]; pass: string }

describe('data key rotation', () => {
  let t: TestGateway | undefined;
  let proc: GatewayProcess | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await stopTestGateway(t, true);
    await killAll([proc]);
    t = undefined;
    proc = undefined;
    for (const d of dirs.splice(0)) await removeDir(d);
  });

  it('data key - rotate, restart, re-seal, retire: the gateway keeps every event and then needs only the new key', async () => {
    assertBuilt();
    const dataDir = await makeTempDir('tillgate-rotate-');
    dirs.push(dataDir);
    // 300 events stored under the first key.
    t = await startTestGateway({ dataDir });
    const e = await enroll(t.gw, 't-1');
    const client = await connectTerminal(t.gw, 't-1', e.password);
    const jwss: string[] = [];
    let prev = '';
    for (let seq = 1; seq <= 300; seq++) {
      const jws = await signEvent(samplePayload('s-1', 't-1', seq, prev), e.signer);
      jwss.push(jws);
      prev = chainHash(jws);
    }
    await Promise.all(jwss.map((jws) => publishEvent(client, 't-1', jws)));
    await endClient(client);
    await t.gw.close();
    t = undefined;

    const keyFile = join(dataDir, 'data-key.json');
    const backup = join(dataDir, '..', `${dataDir.split('/').pop() ?? 'x'}-key-backup.json`);
    copyFileSync(keyFile, backup);
    dirs.push(backup);
    const { current, previous } = dataKey('rotate', '--key-file', keyFile) as { current: string; previous: string };

    proc = await spawnGateway(dataDir, ['--reencrypt-chunk-entries', '64', '--reencrypt-pause-ms', '1']);
    const status = async () => ((await (await fetch(`${proc?.httpUrl}/api/status`)).json()) as { atRest: AtRestStatus }).atRest;
    const done = await waitFor(async () => {
      const s = await status();
      return s.pass === 'done' ? s : undefined;
    }, { timeoutMs: 20_000, what: 're-seal pass done' });
    expect(done).toMatchObject({ currentKey: current, keysInUse: [current] });
    await proc.stop();
    proc = undefined;

    dataKey('retire', '--key-file', keyFile, '--key', previous);
    expect((dataKey('show', '--key-file', keyFile) as { keys: { id: string }[] }).keys.map((k) => k.id)).toEqual([current]);
    t = await startTestGateway({ dataDir });
    expect(t.gw.statusSources.eventStore.head('t-1').seq).toBe(300);
    for (const seq of [1, 150, 300]) expect((await t.gw.statusSources.eventStore.getEvent('t-1', seq))?.jws).toBe(jwss[seq - 1]);
    await t.gw.close();
    t = undefined;

    // The old key file alone no longer opens this data: the gateway refuses to start and says why.
    copyFileSync(backup, keyFile);
    const refused = spawnSync(
      process.execPath,
      [TILLGATE_BIN, 'gateway', '--data-dir', dataDir, '--store', 's-1', '--gateway-id', 'g-1', '--admin-token', 'admin-token-for-tests', '--host', '127.0.0.1', '--mqtt-port', '0', '--http-port', '0'],
      { encoding: 'utf8', timeout: 15_000 },
    );
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('AT_REST_KEY_MISSING');
    expect(refused.stderr).toContain(current);
  });
});
