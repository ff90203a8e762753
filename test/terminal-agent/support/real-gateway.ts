/** Helpers for tests of the terminal agent against the REAL gateway (in-process startGateway). */
import { join } from 'node:path';
import { expect } from 'vitest';
import { startGateway, type GatewayHandle } from '../../../gateway/index.js';
import { silentLogger } from '../../../lib/logger.js';
import { chainHash } from '../../../protocol/chain.js';
import { decodeEvent } from '../../../protocol/jws.js';
import { startAgentFromDir, type Agent, type AgentOptions } from '../../../terminal-agent/agent.js';
import { createDeviceKey } from '../../../terminal-agent/device-key.js';
import { enrollTerminal } from '../../../terminal-agent/enroll.js';
import { writeEndorsement, writePassword, writeTerminalFile } from '../../../terminal-agent/terminal-dir.js';
import { endorse } from '../../support/provisioning.js';

export const STORE = 's-1';
export const ADMIN_TOKEN = 'admin-token-for-tests';

export async function gatewayAt(dataDir: string, mqttPort = 0): Promise<GatewayHandle> {
  return startGateway({ dataDir, host: '127.0.0.1', mqttPort, httpPort: 0, store: STORE, gatewayId: 'g-1', adminToken: ADMIN_TOKEN, logLevel: 'silent' }, { logger: silentLogger });
}

/** `tillgate terminal init` + `tillgate provision endorse` + `tillgate enroll`, as library calls. */
export async function initAndEnroll(dir: string, terminal: string, gatewayUrl: string): Promise<void> {
  const signer = await createDeviceKey(dir);
  await writeTerminalFile(dir, { store: STORE, terminal, kid: signer.kid });
  const endorsement = endorse(STORE, terminal, signer);
  await writeEndorsement(dir, endorsement);
  const res = await enrollTerminal({ gatewayUrl, adminToken: ADMIN_TOKEN, terminal, publicKey: signer.publicKeyRaw.toString('base64url'), endorsement });
  await writePassword(dir, res.password);
}

export function agentFrom(dir: string, gw: { mqttPort: number }, extra: Partial<AgentOptions> = {}): Promise<Agent> {
  return startAgentFromDir(dir, `mqtt://127.0.0.1:${gw.mqttPort}`, {
    healthIntervalS: 0,
    random: () => 0.5,
    backoff: { baseMs: 50, capMs: 500 },
    publisherLimits: { retainedAckWaitMs: 500 },
    ...extra,
  });
}

/** Every stored event of a terminal, from the gateway's own store, in seq order. */
export async function storedEvents(gw: GatewayHandle, terminal: string): Promise<{ seq: number; jws: string }[]> {
  const out: { seq: number; jws: string }[] = [];
  for (;;) {
    const page = await gw.queue.readTerminalEvents(terminal, out.length + 1, 1000);
    if (page.length === 0) return out;
    out.push(...page.map((e) => ({ seq: e.seq, jws: e.jws })));
  }
}

/** Seq 1..n, each event's prev the chain hash of the one before, ids unique. */
export function expectGaplessChain(events: readonly { seq: number; jws: string }[]): string[] {
  let prev = '';
  const ids: string[] = [];
  events.forEach((e, i) => {
    const p = decodeEvent(e.jws).payload;
    expect(p.seq).toBe(i + 1);
    expect(e.seq).toBe(i + 1);
    expect(p.prev).toBe(prev);
    prev = chainHash(e.jws);
    ids.push(p.id);
  });
  expect(new Set(ids).size).toBe(ids.length);
  return ids;
}

export const sampleTx = (amount: number) => ({
  type: 'payment', amount, currency: 'EUR', outcome: 'approved', mode: 'online', card: { brand: 'visa', last4: '4242' },
});

export const dirIn = (root: string, name: string) => join(root, name);
