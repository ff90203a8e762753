/**
 * Proves that re-sequencing is crash-safe: the real `tillgate terminal run` process is `kill -9`ed
 * while it re-signs 800 payments onto the gateway's head (a terminal restored from a backup that
 * recorded them while the gateway was out of reach), at several instants from the moment it
 * starts (its "resequencing" log line) to after it wrote, and restarted each time on the same
 * directory. After every kill the outbox holds either the whole old chain or the whole new one,
 * and every payment the app got a 201 for is in the outbox or at the gateway; at the end all of
 * them are at the gateway exactly once, in one gapless valid chain. Real gateway, in-process.
 */
import { mkdir, cp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { GatewayHandle } from '../../gateway/index.js';
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { decodeEvent } from '../../protocol/jws.js';
import { LevelOutbox } from '../../terminal-agent/outbox/level-outbox.js';
import { OUTBOX_DIR } from '../../terminal-agent/terminal-dir.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { assertBuilt, killAll } from '../support/tillgate-process.js';
import { within } from '../support/wait.js';
import { expectGaplessChain, gatewayAt, initAndEnroll, storedEvents } from '../terminal-agent/support/real-gateway.js';
import { drained, recordConfirmed, restore, startTerminal, terminalStatus, type TerminalProcess } from '../terminal-agent/support/terminal-process.js';

const T = 't-1';
const OFFLINE_PAYMENTS = 800;
/** Offline limits wide enough for the 800 payments recorded while the gateway is out of reach. */
const WIDE_LIMITS = ['--max-unacked-count', '10000', '--max-unacked-amount-minor', '1000000000'];
/**
 * When to kill: so many ms after the agent logs that it starts re-signing ("resequencing"), or
 * after it logs that the move is written ("resequenced"). Fault injection, not synchronization.
 */
const KILLS: readonly { readonly after: 'resequencing' | 'resequenced'; readonly delayMs: number }[] = [
  { after: 'resequencing', delayMs: 0 },
  { after: 'resequencing', delayMs: 5 },
  { after: 'resequencing', delayMs: 20 },
  { after: 'resequencing', delayMs: 60 },
  { after: 'resequenced', delayMs: 0 },
  { after: 'resequenced', delayMs: 20 },
];

let root: string | undefined;
let gw: GatewayHandle | undefined;
let terminals: TerminalProcess[] = [];

beforeAll(() => assertBuilt());
afterEach(async () => {
  await killAll(terminals.map((t) => t.process));
  terminals = [];
  await gw?.close();
  if (root !== undefined) await removeDir(root);
  root = gw = undefined;
}, 60_000);

async function terminal(dir: string, mqttPort: number, extra: readonly string[] = []): Promise<TerminalProcess> {
  const t = await startTerminal(dir, mqttPort, extra);
  terminals.push(t);
  return t;
}

/**
 * Sends SIGKILL `delayMs` after the agent's stderr shows the log line `line`, reacting to the
 * stderr data itself (no polling delay between the line and the kill); if an earlier cycle already
 * completed the move (`alreadyMoved`), kills once that is seen. Waits for the exit.
 */
async function killAfterLogLine(t: TerminalProcess, line: string, delayMs: number, alreadyMoved: () => Promise<boolean>): Promise<void> {
  const p = t.process;
  const marker = `"msg":"${line}"`;
  const stderr = p.child.stderr!;
  await new Promise<void>((resolve, reject) => {
    let seen = p.stderr();
    let fired = false;
    const stopWatching = () => {
      stderr.off('data', onData);
      clearInterval(poll);
      clearTimeout(deadline);
    };
    const fire = () => {
      if (fired) return;
      fired = true;
      stopWatching();
      const kill = () => {
        p.child.kill('SIGKILL');
        resolve();
      };
      if (delayMs === 0) kill();
      else setTimeout(kill, delayMs);
    };
    function onData(d: Buffer): void {
      seen = (seen + d.toString()).slice(-8192);
      if (seen.includes(marker)) fire();
    }
    stderr.on('data', onData);
    // Declared after the functions that clear them: those run only from events, after this point.
    const poll = setInterval(() => void alreadyMoved().then((moved) => moved && fire(), () => undefined), 50);
    const deadline = setTimeout(() => {
      stopWatching();
      reject(new Error(`no "${line}" log line within 20 s`));
    }, 20_000);
    if (seen.includes(marker)) fire();
  });
  await within(p.exited, 10_000, 'terminal exit after SIGKILL');
}

/** A port nothing listens on: the gateway out of reach. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** With the agent dead: the outbox's head and the ids it holds; its pending records must form one chain from its acked base. */
async function outboxAfterKill(dir: string): Promise<{ headSeq: number; ids: Set<string> }> {
  const outbox = new LevelOutbox(join(dir, OUTBOX_DIR), defaultDataKeys(dir));
  await outbox.open();
  try {
    const pending = await outbox.read(1, 100_000);
    let prev = outbox.acked();
    for (const r of pending) {
      const p = decodeEvent(r.jws).payload;
      expect([r.seq, p.seq, p.prev]).toEqual([prev.seq + 1, prev.seq + 1, prev.hash]);
      prev = { seq: r.seq, hash: r.hash };
    }
    expect(prev.seq).toBe(outbox.head().seq);
    return { headSeq: outbox.head().seq, ids: new Set(pending.map((r) => r.id)) };
  } finally {
    await outbox.close();
  }
}

it('terminal e2e - kill -9 at any instant of a re-sequence loses no payment: the old chain or the new one, never a mix', async () => {
  root = await makeTempDir('tillgate-e2e-reseq-kill-');
  gw = await gatewayAt(join(root, 'gateway'));
  const dir = join(root, T);
  const backup = join(root, `${T}-backup`);
  await mkdir(dir);
  await initAndEnroll(dir, T, gw.httpUrl);
  const confirmed: string[] = [];

  // Backup at 5, gateway continued to 10, restore; then 800 payments recorded out of reach (6..805).
  let t = await terminal(dir, gw.mqttPort);
  for (let i = 1; i <= 5; i++) confirmed.push((await recordConfirmed(t.api, i, `k-${i}`)).id);
  await drained(t.api);
  expect(await t.process.stop()).toBe(0);
  await cp(dir, backup, { recursive: true });
  t = await terminal(dir, gw.mqttPort);
  for (let i = 6; i <= 10; i++) confirmed.push((await recordConfirmed(t.api, i, `k-${i}`)).id);
  await drained(t.api);
  expect(await t.process.stop()).toBe(0);
  await restore(backup, dir);
  t = await terminal(dir, await deadPort(), WIDE_LIMITS);
  for (let i = 11; i < 11 + OFFLINE_PAYMENTS; i++) confirmed.push((await recordConfirmed(t.api, 100 + i, `k-${i}`)).id);
  expect((await terminalStatus(t.api)).headSeq).toBe(5 + OFFLINE_PAYMENTS);
  expect(await t.process.stop()).toBe(0);

  const OLD_HEAD = 5 + OFFLINE_PAYMENTS;
  const NEW_HEAD = 10 + OFFLINE_PAYMENTS;
  const found: string[] = [];
  for (const { after: line, delayMs } of KILLS) {
    t = await terminal(dir, gw.mqttPort, [...WIDE_LIMITS, '--log-level', 'info']);
    const cycle = t;
    await killAfterLogLine(cycle, line, delayMs, async () => (await terminalStatus(cycle.api).catch(() => undefined))?.headSeq === NEW_HEAD);
    terminals = terminals.filter((x) => x !== t);
    const after = await outboxAfterKill(dir);
    expect([OLD_HEAD, NEW_HEAD], `head after a kill ${delayMs} ms after "${line}"`).toContain(after.headSeq);
    found.push(after.headSeq === OLD_HEAD ? 'old' : 'new');
    const atGateway = new Set((await storedEvents(gw, T)).map((e) => decodeEvent(e.jws).payload.id));
    expect(confirmed.filter((id) => !after.ids.has(id) && !atGateway.has(id)), `payments lost by a kill ${delayMs} ms after "${line}"`).toEqual([]);
  }
  process.stderr.write(`re-sequence kill test: after each kill the outbox held the ${found.join(', ')} chain (old = not yet written, new = written)\n`);
  expect(found).toContain('new'); // a kill right after the synced write keeps the move

  t = await terminal(dir, gw.mqttPort, WIDE_LIMITS);
  expect(await drained(t.api, 60_000)).toMatchObject({ headSeq: NEW_HEAD, ackedSeq: NEW_HEAD, rejected: 0 });
  const stored = await storedEvents(gw, T);
  const ids = expectGaplessChain(stored); // gapless, chained, unique ids
  expect(ids).toEqual(confirmed); // every confirmed payment once, in the order recorded
}, 180_000);
