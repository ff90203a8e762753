/**
 * The agent against a real gateway that forwards to a cloud the gateway cannot reach: every payment
 * is acknowledged with `cloud: 0`, so the agent keeps them (retained), outside its offline exposure,
 * and deletes the oldest over `maxRetainedAckedEvents`, counting them; against a gateway without a
 * cloud (no `cloud` in the ack) it keeps nothing after the ack, as before.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type GatewayHandle } from '../../gateway/index.js';
import { silentLogger } from '../../lib/logger.js';
import type { Agent } from '../../terminal-agent/agent.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';
import { ADMIN_TOKEN, agentFrom, gatewayAt, initAndEnroll, sampleTx, STORE } from './support/real-gateway.js';

let root = '';
let gw: GatewayHandle | undefined;
let agent: Agent | undefined;
afterEach(async () => {
  await agent?.stop();
  await gw?.close();
  if (root !== '') await removeDir(root);
  agent = gw = undefined;
  root = '';
});

describe('retained payments', () => {
  it('retained - a gateway whose cloud has nothing yet: payments are kept after the ack, not counted as exposure, the oldest deleted over the bound and counted', async () => {
    root = await makeTempDir('tillgate-retained-');
    gw = await startGateway({
      dataDir: join(root, 'gw'), host: '127.0.0.1', mqttPort: 0, httpPort: 0, store: STORE, gatewayId: 'g-1', adminToken: ADMIN_TOKEN, logLevel: 'silent',
      cloudUrl: 'http://127.0.0.1:9', cloudToken: 'cloud-token-for-tests',
    }, { logger: silentLogger });
    const dir = join(root, 't-1');
    await mkdir(dir);
    await initAndEnroll(dir, 't-1', gw.httpUrl);
    agent = await agentFrom(dir, gw, { publisherLimits: { retainedAckWaitMs: 500, maxRetainedAckedEvents: 3 }, limits: { maxUnackedCount: 1_000 } });
    await waitFor(() => agent!.outbox.synced(), { what: 'synced' });
    for (let i = 1; i <= 5; i++) await agent.record(sampleTx(100 * i), { idempotencyKey: `k-${i}` });
    const stats = await waitFor(() => {
      const s = agent!.stats();
      return s.ackedSeq === 5 ? s : undefined;
    }, { what: 'every payment acknowledged' });
    expect(stats).toMatchObject({ depth: 0, exposureCount: 0, exposureMinor: 0, retained: 3, retainedDropped: 2 });
    expect((await agent.outbox.read(1, 10)).map((r) => r.seq)).toEqual([3, 4, 5]);
  });

  it('retained - a gateway without a cloud says nothing about one: payments are deleted at the ack, as before', async () => {
    root = await makeTempDir('tillgate-retained-');
    gw = await gatewayAt(join(root, 'gw'));
    const dir = join(root, 't-1');
    await mkdir(dir);
    await initAndEnroll(dir, 't-1', gw.httpUrl);
    agent = await agentFrom(dir, gw);
    await waitFor(() => agent!.outbox.synced(), { what: 'synced' });
    for (let i = 1; i <= 3; i++) await agent.record(sampleTx(100 * i), { idempotencyKey: `k-${i}` });
    await waitFor(() => agent!.stats().ackedSeq === 3, { what: 'every payment acknowledged' });
    expect(agent.stats()).toMatchObject({ retained: 0, retainedDropped: 0 });
    expect(await agent.outbox.read(1, 10)).toEqual([]);
  });
});
