/**
 * Proves the operator guide's device-key rotation and revocation with real processes: a terminal's
 * agent is stopped, `tillgate terminal rotate-key` gives it a new key (the old one kept, and the
 * last seq it signed said), the operator endorses the new key and `tillgate enroll` adds it at the
 * gateway, the agent signs its next payments with it, and the old key is revoked at the cloud
 * after that seq. Every payment reaches the cloud, the old key's too; an event a stolen copy of the
 * old key signs afterwards is refused by the cloud (KEY_REVOKED) and stays a dead letter on the
 * gateway, never in the ledger.
 */
import { spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chainHash } from '../../protocol/chain.js';
import { decodeEvent, signEvent } from '../../protocol/jws.js';
import { KeyObjectSigner } from '../../protocol/signer.js';
import { topics } from '../../protocol/topics.js';
import { cloudEvents } from '../chaos/harness/cloud-ledger.js';
import { TestSystem } from '../chaos/harness/system.js';
import { ADMIN_TOKEN, STORE } from '../chaos/harness/terminals.js';
import { samplePayload } from '../support/events.js';
import { writeTestProvisioningKeyFile } from '../support/provisioning.js';
import { assertBuilt, killAll, TILLGATE_BIN } from '../support/tillgate-process.js';
import { waitFor, within } from '../support/wait.js';
import { initAndEnroll } from '../terminal-agent/support/real-gateway.js';
import { recordConfirmed, startTerminal, type TerminalProcess } from '../terminal-agent/support/terminal-process.js';

let system: TestSystem | null = null;
let agent: TerminalProcess | null = null;
beforeAll(() => assertBuilt());
afterEach(async () => {
  await killAll([agent?.process]);
  agent = null;
  await system?.close();
  system = null;
}, 60_000);

function tillgate(args: readonly string[]): Promise<{ code: number | null; out: Record<string, unknown>; stderr: string }> {
  const child = spawn(process.execPath, [TILLGATE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return within(new Promise((resolve) => child.once('exit', (code) => resolve({ code, out: stdout === '' ? {} : (JSON.parse(stdout.trim().split('\n')[0]!) as Record<string, unknown>), stderr }))), 30_000, `tillgate ${args[0]}`);
}

describe('device key rotation', () => {
  it('keys - a terminal rotates its device key and the old one is revoked at the cloud after its last seq: every payment in the cloud, and a stolen old key signs nothing the cloud takes', async () => {
    const s = (system = await TestSystem.create());
    await s.startCloud();
    await s.startGateway();
    const dir = join(s.dir, 't-1');
    await mkdir(dir);
    await initAndEnroll(dir, 't-1', s.gatewayUrl);
    const ids = new Set<string>();
    let n = 0;
    const pay = async (count: number) => {
      for (let i = 0; i < count; i++) ids.add((await recordConfirmed(agent!.api, 100 + ++n, `order-${n}`)).id);
    };
    agent = await startTerminal(dir, s.mqttPort);
    await pay(3);
    expect(await agent.process.stop()).toBe(0);

    // The rotation: a new key (the old one kept), endorsed by the operator, enrolled at the gateway.
    const rotated = await tillgate(['terminal', 'rotate-key', '--dir', dir]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const { previousKid, previousKeyLastSeq, kid } = rotated.out as { previousKid: string; previousKeyLastSeq: number; kid: string };
    expect(previousKeyLastSeq).toBe(3);
    expect(kid).not.toBe(previousKid);
    const provisioning = await writeTestProvisioningKeyFile(join(s.dir, 'provisioning.pem'));
    expect((await tillgate(['provision', 'endorse', '--provisioning-key-file', provisioning, '--dir', dir])).code).toBe(0);
    const enrolled = await tillgate(['enroll', '--gateway-url', s.gatewayUrl, '--admin-token', ADMIN_TOKEN, '--dir', dir]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    expect(enrolled.out).toMatchObject({ terminal: 't-1', kid });
    agent = await startTerminal(dir, s.mqttPort);
    await pay(3);
    const events = await waitFor(async () => {
      const e = await cloudEvents(s.cloudUrl, 't-1');
      return e.length === 6 ? e : undefined;
    }, { what: 'six payments in the cloud', timeoutMs: 20_000 });
    expect(events.map((e) => decodeEvent(e.jws).header.kid)).toEqual([previousKid, previousKid, previousKid, kid, kid, kid]);
    expect(new Set(events.map((e) => decodeEvent(e.jws).payload.id))).toEqual(ids);

    // The old key revoked at the cloud after the last seq it signed.
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const revoked = await fetch(`${s.cloudUrl}/v1/stores/${STORE}/terminals/t-1/keys/${previousKid}/revoke`, { method: 'POST', headers: admin, body: JSON.stringify({ afterSeq: previousKeyLastSeq }) });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({ kid: previousKid, revokedAfterSeq: 3 });

    // A stolen copy of the old key (kept in retired-keys/) signs the next seq; the gateway still
    // knows the key and stores it, the cloud refuses it for good.
    expect(await agent.process.stop()).toBe(0);
    agent = null;
    const stolen = new KeyObjectSigner(createPrivateKey(await readFile(join(dir, 'retired-keys', `device-key-${previousKid}.pem`), 'utf8')));
    const forged = await signEvent(samplePayload(STORE, 't-1', 7, chainHash(events[5]!.jws)), stolen);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.mqttPort}`, { clientId: 't-1', username: 't-1', password: (await readFile(join(dir, 'mqtt-password'), 'utf8')).trim(), reconnectPeriod: 0 });
    try {
      await within(client.publishAsync(topics.events(STORE, 't-1'), forged, { qos: 1 }), 10_000, 'PUBACK of the forged event');
    } finally {
      await client.endAsync();
    }
    const dead = await waitFor(async () => {
      const res = await fetch(`${s.gatewayUrl}/api/forwarder/dead-letters/export`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const body = (await res.json()) as { deadLetters: { seq: number; code: string }[] };
      return body.deadLetters.length > 0 ? body.deadLetters : undefined;
    }, { what: 'the forged event refused by the cloud', timeoutMs: 20_000 });
    expect(dead.map((d) => [d.seq, d.code])).toEqual([[7, 'KEY_REVOKED']]);
    expect((await cloudEvents(s.cloudUrl, 't-1')).length).toBe(6);
  }, 120_000);
});
