/**
 * Proves: 50 simulated terminals with WiFi drops (and restarts and clock skew) against
 * the real gateway: afterwards the gateway's stored events per terminal equal exactly what each
 * terminal recorded: same count, gapless valid chain, nothing pending, nothing rejected.
 * The issue asks for 2 minutes; the suite runs TILLGATE_FLEET_DURATION_S (default 20 s) to stay
 * fast on 2 cores. `TILLGATE_FLEET_DURATION_S=120 npx vitest run test/e2e/terminal-fleet.test.ts`
 * runs the full length.
 */
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { GatewayHandle } from '../../gateway/index.js';
import { startSimulator, type SimulatorHandle } from '../../terminal-agent/sim/simulator.js';
import { TEST_PROVISIONING } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { ADMIN_TOKEN, expectGaplessChain, gatewayAt, STORE, storedEvents } from '../terminal-agent/support/real-gateway.js';

const DURATION_S = Number(process.env.TILLGATE_FLEET_DURATION_S ?? 20);
const TERMINALS = 50;

let root: string | undefined;
let gw: GatewayHandle | undefined;
let sim: SimulatorHandle | undefined;

afterEach(async () => {
  await sim?.stop();
  await gw?.close();
  if (root !== undefined) await removeDir(root);
  root = gw = sim = undefined;
});

it(`terminal e2e - ${TERMINALS} terminals with WiFi drops: the gateway stores exactly what each terminal recorded`, async () => {
  root = await makeTempDir('tillgate-e2e-fleet-');
  gw = await gatewayAt(join(root, 'gateway'));
  sim = await startSimulator({
    gatewayUrl: gw.httpUrl, mqttUrl: `mqtt://127.0.0.1:${gw.mqttPort}`, adminToken: ADMIN_TOKEN, store: STORE,
    dir: join(root, 'terminals'), terminals: TERMINALS, ratePerS: 1, durationS: DURATION_S,
    wifiDropMeanS: 2, wifiUpMeanS: 6, restartEveryS: 15, clockSkewS: 30, healthIntervalS: 5, drainTimeoutS: 60, seed: 42,
    provisioning: TEST_PROVISIONING,
  });
  const summary = await sim.done;
  sim = undefined;
  process.stderr.write(`fleet: ${JSON.stringify({ ...summary, perTerminal: undefined })}\n`);
  expect(summary.drained).toBe(true);
  expect(summary.rejected).toBe(0);
  expect(summary.wifiDrops).toBeGreaterThan(TERMINALS); // the faults really happened
  expect(summary.recorded).toBeGreaterThan(TERMINALS * DURATION_S * 0.5);
  expect(summary.acked).toBe(summary.recorded);
  for (const t of summary.perTerminal) {
    const stored = await storedEvents(gw, t.terminal);
    expect(stored.length, t.terminal).toBe(t.recorded);
    expect(t.headSeq, t.terminal).toBe(t.recorded);
    expectGaplessChain(stored);
  }
}, 60_000 + DURATION_S * 1000 + 60_000);
