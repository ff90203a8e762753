/**
 * Proves (issue 3): a terminal agent PROCESS `kill -9`ed mid-stream (payments being recorded and
 * published) and restarted on the same directory loses nothing and duplicates nothing: every
 * payment the app got a 201 for is at the gateway exactly once, in a gapless valid chain.
 * The agent is the real `tillgate terminal run` child process (node --import tsx, TESTING.md);
 * the gateway is the real one, in-process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, expect, it } from 'vitest';
import type { GatewayHandle } from '../../gateway/index.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor, within } from '../support/wait.js';
import { expectGaplessChain, gatewayAt, initAndEnroll, sampleTx, storedEvents } from '../terminal-agent/support/real-gateway.js';

let root: string | undefined;
let gw: GatewayHandle | undefined;
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await gw?.close();
  if (root !== undefined) await removeDir(root);
  root = gw = undefined;
}, 90_000);

async function startTerminal(dir: string, mqttPort: number): Promise<{ child: ChildProcess; apiUrl: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/tillgate.ts', 'terminal', 'run', '--dir', dir, '--gateway', `mqtt://127.0.0.1:${mqttPort}`, '--api-port', '0', '--health-interval-s', '0', '--log-level', 'warn'], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const ready = await within(
    new Promise<{ apiUrl: string }>((resolve, reject) => {
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as { ready?: string; apiUrl?: string };
        if (msg.ready === 'terminal' && msg.apiUrl !== undefined) resolve({ apiUrl: msg.apiUrl });
      });
      child.once('exit', (code) => reject(new Error(`terminal exited early with ${code}`)));
    }),
    20_000,
    'terminal ready line',
  );
  return { child, apiUrl: ready.apiUrl };
}

async function record(apiUrl: string, amount: number): Promise<{ status: number; id?: string; code?: string }> {
  const res = await fetch(`${apiUrl}/record`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sampleTx(amount)), signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { id?: string; error?: { code: string } };
  return { status: res.status, ...(body.id === undefined ? {} : { id: body.id }), ...(body.error === undefined ? {} : { code: body.error.code }) };
}

it('terminal e2e - a terminal process killed with SIGKILL mid-stream and restarted loses and duplicates nothing', async () => {
  root = await makeTempDir('tillgate-e2e-kill-');
  gw = await gatewayAt(join(root, 'gateway'));
  const dir = join(root, 't-1');
  await mkdir(dir);
  await initAndEnroll(dir, 't-1', gw.httpUrl);
  const first = await startTerminal(dir, gw.mqttPort);
  // NOT_SYNCED until the agent has met its gateway once: wait for the first 201.
  await waitFor(async () => (await record(first.apiUrl, 1)).status === 201, { what: 'first record accepted', timeoutMs: 10_000 });
  const confirmed: string[] = [];
  const stored0 = (await storedEvents(gw, 't-1')).map((e) => e.seq);
  expect(stored0.length).toBeLessThanOrEqual(1);

  // Four concurrent writers; SIGKILL lands while requests and publishes are in flight.
  let killed = false;
  const deadline = Date.now() + 45_000;
  const writer = async (w: number) => {
    for (let i = 0; !killed && Date.now() < deadline; i++) {
      try {
        const r = await record(first.apiUrl, 100 + w * 1000 + i);
        if (r.status === 201 && r.id !== undefined) confirmed.push(r.id);
      } catch {
        // The process died under this request (no 201 came), or a slow answer timed out: retry
        // until the kill, as a payment app would.
        continue;
      }
      if (confirmed.length >= 120 && !killed) {
        killed = true;
        first.child.kill('SIGKILL');
      }
    }
  };
  const exited = new Promise((r) => first.child.once('exit', r));
  await within(Promise.all([0, 1, 2, 3].map(writer)), 45_000, '120 confirmed records, then the kill');
  await within(exited, 10_000, 'killed terminal exit');
  expect(first.child.signalCode).toBe('SIGKILL');

  const storedAtKill = (await storedEvents(gw, 't-1')).length;
  const second = await startTerminal(dir, gw.mqttPort);
  for (let i = 0; i < 40; i++) {
    const r = await record(second.apiUrl, 5_000 + i);
    expect(r.status).toBe(201);
    confirmed.push(r.id!);
  }
  const status = await waitFor(async () => {
    const s = (await (await fetch(`${second.apiUrl}/status`)).json()) as { headSeq: number; ackedSeq: number; depth: number; rejected: number };
    return s.depth === 0 && s.ackedSeq === s.headSeq ? s : undefined;
  }, { what: 'outbox drained after restart', timeoutMs: 15_000 });
  const stored = await storedEvents(gw, 't-1');
  process.stderr.write(`kill test: ${confirmed.length} confirmed, ${storedAtKill} at the gateway when killed, head ${status.headSeq}\n`);
  expect(stored.length).toBe(status.headSeq);
  const ids = expectGaplessChain(stored); // gapless, chained, unique ids: nothing duplicated
  const storedIds = new Set(ids);
  expect(confirmed.filter((id) => !storedIds.has(id))).toEqual([]); // nothing lost
  expect(status.rejected).toBe(0);
  second.child.kill('SIGTERM');
  const code = await within(new Promise((r) => second.child.once('exit', (c) => r(c))), 10_000, 'graceful exit');
  expect(code).toBe(0);
}, 90_000);
