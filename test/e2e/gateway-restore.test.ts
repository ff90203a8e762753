/**
 * Proves the backup promise with real processes (`tillgate cloud`, `tillgate gateway`, three
 * `tillgate terminal run`, the backup and restore commands): a gateway restored from a backup
 * taken mid-traffic loses nothing any terminal acknowledged to its payment app. Payments flow
 * through a WAN outage; the backup is taken while they flow; more payments are acknowledged after
 * it, some of them forwarded to the cloud and some not; the gateway is killed (-9), its data
 * directory restored from the backup and the gateway started again. It confirms every terminal's
 * chain with the cloud (adopting the cloud's head where the cloud is ahead of the backup), the
 * terminals resend the payments they kept (acknowledged, not yet in the cloud), and the cloud ledger
 * ends up holding every payment the app got a 201 for exactly once, in order, in valid chains.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chainHash } from '../../protocol/chain.js';
import { decodeEvent } from '../../protocol/jws.js';
import { cloudEvents } from '../chaos/harness/cloud-ledger.js';
import { TestSystem } from '../chaos/harness/system.js';
import { freePort } from '../support/ports.js';
import { assertBuilt, TILLGATE_BIN } from '../support/tillgate-process.js';
import { waitFor, within } from '../support/wait.js';
import { initAndEnroll } from '../terminal-agent/support/real-gateway.js';
import { recordConfirmed, stopTerminalsThenSystem, startTerminal, terminalStatus, type TerminalProcess } from '../terminal-agent/support/terminal-process.js';

const TERMINALS = ['t-1', 't-2', 't-3'];
/** Fast acks of the cloud's progress and resync retries: the defaults are for a real store. */
const GATEWAY_FLAGS = ['--cloud-ack-interval-ms', '100', '--resync-retry-ms', '300'];

let system: TestSystem | null = null;
let terminals: TerminalProcess[] = [];

beforeAll(() => assertBuilt());
afterEach(async () => {
  await stopTerminalsThenSystem(terminals, system);
  [terminals, system] = [[], null];
}, 60_000);

/** Runs a `tillgate` command to its end; resolves with its exit code, stdout and stderr. */
function run(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [TILLGATE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return within(new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr }))), 60_000, `tillgate ${args.slice(0, 2).join(' ')}`);
}

/** Every confirmed payment once, nothing else, per terminal seqs 1..n in one valid chain. */
async function expectCloudHoldsEveryConfirmedPaymentOnce(s: TestSystem, confirmed: ReadonlyMap<string, Set<string>>): Promise<void> {
  for (const [terminal, ids] of confirmed) {
    const events = await waitFor(async () => {
      const e = await cloudEvents(s.cloudUrl, terminal);
      return e.length >= ids.size ? e : undefined;
    }, { what: `${ids.size} payments of ${terminal} in the cloud`, timeoutMs: 45_000 }).catch(() => cloudEvents(s.cloudUrl, terminal));
    const got = events.map((e) => decodeEvent(e.jws).payload.id);
    expect([...ids].filter((id) => !got.includes(id)), `${terminal}: confirmed payments missing from the cloud`).toEqual([]);
    expect(got.filter((id) => !ids.has(id)), `${terminal}: payments in the cloud nobody confirmed`).toEqual([]);
    expect(new Set(got).size, `${terminal}: a payment twice`).toBe(got.length);
    let prev = '';
    events.forEach((e, i) => {
      const p = decodeEvent(e.jws).payload;
      expect([e.seq, p.seq, p.prev]).toEqual([i + 1, i + 1, prev]);
      prev = chainHash(e.jws);
    });
  }
}

describe('gateway restore from backup', () => {
  it('restore - a gateway restored from a backup taken mid-traffic loses no acknowledged payment: every 201 is in the cloud once, in order, chains valid', async () => {
    const s = (system = await TestSystem.create());
    await s.startCloud();
    const mqttPort = await freePort();
    const httpPort = await freePort();
    const gatewayFlags = [...GATEWAY_FLAGS, '--mqtt-port', String(mqttPort), '--http-port', String(httpPort)];
    let gateway = await s.startGateway(gatewayFlags);
    const confirmed = new Map(TERMINALS.map((t) => [t, new Set<string>()]));
    const apis = new Map<string, string>();
    for (const t of TERMINALS) {
      const dir = join(s.dir, t);
      await mkdir(dir);
      await initAndEnroll(dir, t, s.gatewayUrl);
      const p = await startTerminal(dir, mqttPort);
      terminals.push(p);
      apis.set(t, p.api);
    }
    let n = 0;
    /** One payment per terminal, as the app does it (retrying "not now"), counted when it got its 201. */
    const payRound = async () => {
      await Promise.all(TERMINALS.map(async (t) => {
        const r = await recordConfirmed(apis.get(t)!, 100 + (++n % 50), `pay-${t}-${n}`);
        confirmed.get(t)!.add(r.id);
      }));
    };
    const rounds = async (count: number) => {
      for (let i = 0; i < count; i++) await payRound();
    };
    const cloudHead = async (t: string) => (await cloudEvents(s.cloudUrl, t)).length;

    // 1. Trading with the WAN up: payments reach the cloud.
    await rounds(4);
    await waitFor(async () => (await Promise.all(TERMINALS.map(cloudHead))).every((h) => h === 4), { what: 'the first payments in the cloud', timeoutMs: 20_000 });
    // 2. The WAN goes down; trading goes on; the backup is taken while payments flow.
    s.proxy.setMode('refuse');
    await rounds(3);
    const backupDir = join(s.dir, 'backup');
    const [backup] = await Promise.all([run(['gateway', 'backup', '--data-dir', join(s.dir, 'gateway'), '--out', backupDir]), rounds(3)]);
    expect(backup.code, backup.stderr).toBe(0);
    const manifest = JSON.parse(backup.stdout) as { source: string; entries: number; keysInUse: string[] };
    expect(manifest.source).toBe('online');
    expect(manifest.keysInUse.length).toBe(1);
    // 3. More payments after the backup; the WAN comes back and some are forwarded...
    await rounds(3);
    s.proxy.setMode('pass');
    await waitFor(async () => (await Promise.all(TERMINALS.map(cloudHead))).every((h) => h === 13), { what: 'the backlog in the cloud', timeoutMs: 30_000 });
    // ...and then not: the WAN goes down again and the last payments exist on the gateway only
    // (acknowledged: the terminals keep them because the cloud does not have them).
    s.proxy.setMode('refuse');
    await rounds(4);
    await waitFor(async () => {
      const st = await Promise.all(TERMINALS.map(async (t) => terminalStatus(apis.get(t)!)));
      return st.every((x) => x.ackedSeq === 17 && x.depth === 0) ? st : undefined;
    }, { what: 'every payment acknowledged by the gateway', timeoutMs: 20_000 });
    const kept = await Promise.all(TERMINALS.map(async (t) => (await terminalStatus(apis.get(t)!)) as { retained?: number }));
    expect(kept.map((k) => k.retained)).toEqual([4, 4, 4]);

    // 4. The gateway dies; its disk is restored from the backup while the terminals keep trading.
    await gateway.kill9();
    await rounds(2);
    const restored = await run(['gateway', 'restore', '--from', backupDir, '--data-dir', join(s.dir, 'gateway'), '--replace']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ entries: manifest.entries });
    s.proxy.setMode('pass');
    gateway = await s.startGateway(gatewayFlags);

    // 5. The restored gateway confirms every chain with the cloud; the terminals refill it.
    const status = await waitFor(async () => {
      const st = (await (await fetch(`${s.gatewayUrl}/api/status`)).json()) as { restore: { state: string; cloudOnly: { terminal: string; from: number; through: number }[] } | null };
      return st.restore?.state === 'confirmed' ? st.restore : undefined;
    }, { what: 'the restored gateway confirming every terminal with the cloud', timeoutMs: 30_000 });
    // The cloud was ahead of the backup for every terminal (payments forwarded after it).
    expect(status.cloudOnly.map((c) => c.terminal).sort()).toEqual(TERMINALS);
    for (const c of status.cloudOnly) expect(c.through).toBe(13);
    await rounds(2);
    await expectCloudHoldsEveryConfirmedPaymentOnce(s, confirmed);
    // Everything is in the cloud: the terminals keep nothing any more.
    await waitFor(async () => {
      const st = await Promise.all(TERMINALS.map(async (t) => (await terminalStatus(apis.get(t)!)) as { retained?: number; depth: number }));
      return st.every((x) => x.retained === 0 && x.depth === 0);
    }, { what: 'the terminals deleting what the cloud has', timeoutMs: 20_000 });
  }, 180_000);

  it('restore - a replacement box without any backup (restore --empty): terminals enrolled again refill it and every 201 is in the cloud once', async () => {
    const s = (system = await TestSystem.create());
    await s.startCloud();
    const mqttPort = await freePort();
    const httpPort = await freePort();
    const gatewayFlags = [...GATEWAY_FLAGS, '--mqtt-port', String(mqttPort), '--http-port', String(httpPort)];
    let gateway = await s.startGateway(gatewayFlags);
    const dir = join(s.dir, 't-1');
    await mkdir(dir);
    await initAndEnroll(dir, 't-1', s.gatewayUrl);
    let agent = await startTerminal(dir, mqttPort);
    terminals.push(agent);
    const ids = new Set<string>();
    let n = 0;
    const pay = async (count: number) => {
      for (let i = 0; i < count; i++) ids.add((await recordConfirmed(agent.api, 100 + ++n, `order-${n}`)).id);
    };
    await pay(4);
    await waitFor(async () => (await cloudEvents(s.cloudUrl, 't-1')).length === 4, { what: 'the first payments in the cloud', timeoutMs: 20_000 });
    s.proxy.setMode('refuse');
    await pay(4);
    await waitFor(async () => (await terminalStatus(agent.api)).ackedSeq === 8, { what: 'every payment acknowledged', timeoutMs: 20_000 });
    // The box dies with its disk: a new, empty data directory, marked for confirmation.
    await gateway.kill9();
    const fresh = await run(['gateway', 'restore', '--empty', '--data-dir', join(s.dir, 'gateway'), '--replace']);
    expect(fresh.code, fresh.stderr).toBe(0);
    s.proxy.setMode('pass');
    gateway = await s.startGateway(gatewayFlags);
    // The terminal is enrolled again (a fresh password) and its agent restarted with it.
    expect(await agent.process.stop()).toBe(0);
    terminals = terminals.filter((t) => t !== agent);
    const enrolled = await run(['enroll', '--gateway-url', s.gatewayUrl, '--admin-token', 'admin-token-for-tests', '--dir', dir]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    agent = await startTerminal(dir, mqttPort);
    terminals.push(agent);
    await pay(2);
    await expectCloudHoldsEveryConfirmedPaymentOnce(s, new Map([['t-1', ids]]));
    const st = (await (await fetch(`${s.gatewayUrl}/api/status`)).json()) as { restore: { state: string; cloudOnly: { terminal: string; from: number; through: number }[] } };
    expect(st.restore.state).toBe('confirmed');
    expect(st.restore.cloudOnly).toEqual([{ terminal: 't-1', from: 1, through: 4 }]);
  }, 120_000);
});
