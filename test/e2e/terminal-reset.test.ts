/**
 * Proves: a wiped terminal (outbox and key gone, new key enrolled) continues from the
 * gateway's retained ack (seq and hash), so the gateway's chain for it stays gapless and valid.
 * Real gateway (in-process), real agent.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { GatewayHandle } from '../../gateway/index.js';
import type { Agent } from '../../terminal-agent/agent.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';
import { agentFrom, expectGaplessChain, gatewayAt, initAndEnroll, sampleTx, storedEvents } from '../terminal-agent/support/real-gateway.js';

let root: string | undefined;
let gw: GatewayHandle | undefined;
const agents: Agent[] = [];

afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  await gw?.close();
  if (root !== undefined) await removeDir(root);
  root = gw = undefined;
});

it('terminal e2e - a wiped terminal resumes from the retained ack with a valid chain', async () => {
  root = await makeTempDir('tillgate-e2e-reset-');
  gw = await gatewayAt(join(root, 'gateway'));
  const before = join(root, 'before');
  await mkdir(before);
  await initAndEnroll(before, 't-1', gw.httpUrl);
  const a = await agentFrom(before, gw);
  agents.push(a);
  await waitFor(() => a.outbox.synced());
  for (let i = 1; i <= 12; i++) await a.record(sampleTx(i * 10));
  await waitFor(() => a.stats().ackedSeq === 12, { what: 'acked before the wipe' });
  await a.stop();
  agents.pop();

  // Factory reset: a fresh directory, a new device key enrolled under the same terminal id.
  const after = join(root, 'after');
  await mkdir(after);
  await initAndEnroll(after, 't-1', gw.httpUrl);
  const b = await agentFrom(after, gw);
  agents.push(b);
  await waitFor(() => b.outbox.synced(), { what: 'synced from the retained ack' });
  expect(b.outbox.head().seq).toBe(12);
  for (let i = 13; i <= 20; i++) expect((await b.record(sampleTx(i * 10))).seq).toBe(i);
  await waitFor(() => b.stats().ackedSeq === 20, { what: 'acked after the wipe' });
  expectGaplessChain(await storedEvents(gw, 't-1'));
  expect(b.stats()).toMatchObject({ rejected: 0, blocked: undefined });
});
