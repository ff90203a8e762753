/**
 * Proves: a terminal keeps recording payments while its gateway is down, and when the
 * gateway comes back every payment arrives, in order, exactly once, with a valid chain.
 * Real gateway (in-process startGateway, LevelDB, Aedes), real agent (LevelDB outbox, MQTT.js).
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
let agent: Agent | undefined;

afterEach(async () => {
  await agent?.stop();
  await gw?.close();
  if (root !== undefined) await removeDir(root);
  root = gw = agent = undefined;
});

it('terminal e2e - payments recorded while the gateway is down all arrive once, in order, when it is back', async () => {
  root = await makeTempDir('tillgate-e2e-down-');
  const dataDir = join(root, 'gateway');
  const tdir = join(root, 't-1');
  await mkdir(tdir);
  gw = await gatewayAt(dataDir);
  const mqttPort = gw.mqttPort;
  await initAndEnroll(tdir, 't-1', gw.httpUrl);
  agent = await agentFrom(tdir, gw);
  await waitFor(() => agent!.outbox.synced() && agent!.publisher.link.kind === 'connected', { what: 'agent connected' });
  const ids: string[] = [];
  for (let i = 1; i <= 5; i++) ids.push((await agent.record(sampleTx(100 + i))).id);
  await waitFor(() => agent!.stats().ackedSeq === 5, { what: 'first five acked' });

  await gw.close();
  gw = undefined;
  await waitFor(() => agent!.isOffline(), { what: 'agent offline' });
  for (let i = 6; i <= 60; i++) {
    const r = await agent.record(sampleTx(100 + i));
    expect(r).toMatchObject({ seq: i, offline: true });
    ids.push(r.id);
  }
  expect(agent.stats().depth).toBe(55);

  gw = await gatewayAt(dataDir, mqttPort); // same disk, same port: the box rebooted
  await waitFor(() => agent!.stats().ackedSeq === 60 && agent!.stats().depth === 0, { what: 'all acked', timeoutMs: 15_000 });
  const stored = await storedEvents(gw, 't-1');
  expect(expectGaplessChain(stored)).toEqual(ids);
  expect(agent.stats().rejected).toBe(0);
});
