/**
 * Cloud ingest rate: 1,000-event batches over real HTTP (loopback) into the LevelDB ledger of a
 * real `tillgate cloud` child process (dist/), so the sender's JSON and signing work does not share
 * the cloud's event loop. Every event is verified (Ed25519) and appended with one synced write per
 * request. Reference: raw Ed25519 verify in this process, cached KeyObject, one core.
 */
import { spawn } from 'node:child_process';
import { createHash, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chainHash } from '../protocol/chain.js';
import { signEvent } from '../protocol/jws.js';
import { publicKeyFromRaw } from '../protocol/keys.js';
import { KeyObjectSigner } from '../protocol/signer.js';
import { uuidv7 } from '../protocol/uuid.js';
import { BENCH_PROVISIONING_PUBLIC_KEY, benchEndorsement } from './provisioning.js';
import { percentile, type Bench, type BenchReport } from './report.js';

const TERMINALS = 20;
const EVENTS_PER_TERMINAL = 2_000;
const BATCH_EVENTS = 1_000;
const TOKEN = 'bench-gateway-token-0123456789';

export const bench: Bench = {
  name: 'cloud-ingest',
  async run(): Promise<BenchReport> {
    const signer = KeyObjectSigner.fromSeed(createHash('sha256').update('bench-cloud').digest());
    const batches = await buildBatches(signer);
    const total = batches.reduce((n, b) => n + b.length, 0);
    const dir = mkdtempSync(join(tmpdir(), 'tillgate-bench-cloud-'));
    const here = dirname(fileURLToPath(import.meta.url));
    const child = spawn(process.execPath, [join(here, '..', 'bin', 'tillgate.js'), 'cloud', '--data-dir', dir, '--host', '127.0.0.1',
      '--http-port', '0', '--gateways', `g-1:s-1:${TOKEN}`, '--provisioning-keys', BENCH_PROVISIONING_PUBLIC_KEY, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
      const { url } = JSON.parse(line) as { url: string };
      // Every batch carries the 20 enrollments, endorsed: the cloud checks each endorsement every
      // time (a worst case; the forwarder sends a terminal's keys only when the cloud may lack them).
      const enrollments = await Promise.all(Array.from({ length: TERMINALS }, async (_, i) => ({
        terminal: `t-${i}`, kid: signer.kid, publicKey: signer.publicKeyRaw.toString('base64url'), at: new Date().toISOString(),
        endorsement: await benchEndorsement('s-1', `t-${i}`, signer),
      })));
      const latenciesMs: number[] = [];
      const started = performance.now();
      for (const events of batches) {
        const t0 = performance.now();
        const res = await fetch(`${url}/v1/ingest`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({ gateway: 'g-1', store: 's-1', batch: uuidv7(Date.now()), enrollments, events }),
        });
        const body = (await res.json()) as { results: Array<{ status: string }> };
        if (res.status !== 200 || body.results.some((r) => r.status !== 'accepted')) throw new Error(`bench batch not accepted (${res.status})`);
        latenciesMs.push(performance.now() - t0);
      }
      const seconds = (performance.now() - started) / 1000;
      return {
        name: 'cloud-ingest',
        figures: [
          { metric: `ingest over HTTP, ${BATCH_EVENTS}-event batches, ${TERMINALS} terminals, verified + synced`, value: total / seconds, unit: 'events/s', target: '>= 5000 (drain target)' },
          { metric: 'batch latency p50', value: percentile(latenciesMs, 50), unit: 'ms' },
          { metric: 'batch latency p99', value: percentile(latenciesMs, 99), unit: 'ms' },
          { metric: 'raw Ed25519 verify, cached KeyObject, 1 core', value: rawVerifyRate(signer), unit: 'verifies/s', reference: 'upper bound of a single-threaded cloud' },
        ],
        notes: [`${total} events in ${batches.length} requests, one in flight; cloud is a child process (dist/bin/tillgate.js)`],
      };
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** Interleaves the terminals so every batch carries several chains, as a gateway's queue does. */
async function buildBatches(signer: KeyObjectSigner): Promise<string[][]> {
  const all: string[] = [];
  const prev = new Array<string>(TERMINALS).fill('');
  for (let seq = 1; seq <= EVENTS_PER_TERMINAL; seq++) {
    for (let t = 0; t < TERMINALS; t++) {
      const jws = await signEvent({ v: 1, store: 's-1', terminal: `t-${t}`, seq, prev: prev[t]!, id: uuidv7(Date.now()), type: 'payment',
        at: new Date().toISOString(), amount: 100 + seq, currency: 'EUR', outcome: 'approved', mode: 'online', card: { brand: 'visa', last4: '4242' } }, signer);
      prev[t] = chainHash(jws);
      all.push(jws);
    }
  }
  const out: string[][] = [];
  for (let i = 0; i < all.length; i += BATCH_EVENTS) out.push(all.slice(i, i + BATCH_EVENTS));
  return out;
}

function rawVerifyRate(signer: KeyObjectSigner): number {
  const key = publicKeyFromRaw(signer.publicKeyRaw);
  const data = Buffer.from('x'.repeat(400));
  const sig = signer.signSync(data);
  const n = 5_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) verify(null, data, key, sig);
  return n / ((performance.now() - t0) / 1000);
}
