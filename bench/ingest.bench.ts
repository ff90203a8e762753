/**
 * Durable verified ingest. The gateway runs as a child process
 * (`dist/bin/tillgate.js gateway`, its own event loop, real fsyncs in a temp dir); this process
 * is the load generator: real MQTT.js terminals publishing pre-signed chains at QoS 1.
 *
 * Figures: events/s with 1, 10 and 50 terminals (each keeps `WINDOW` publishes in flight);
 * PUBACK latency p50/p99 at a fixed 1,000 events/s; and, as references measured in the same run,
 * raw Ed25519 verify on one core and a bare Aedes (no hooks, in memory, child process) at QoS 1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connectAsync, type MqttClient } from 'mqtt';
import { DEFAULT_VERIFY_THREADS } from '../gateway/config.js';
import { chainHash } from '../protocol/chain.js';
import { decodeEvent, signEvent, verifyEventSignature } from '../protocol/jws.js';
import { KeyCache } from '../protocol/keys.js';
import { KeyObjectSigner } from '../protocol/signer.js';
import { topics } from '../protocol/topics.js';
import { benchEndorsement } from './provisioning.js';
import { percentile, type Bench, type BenchReport, type Figure } from './report.js';

const STORE = 's-bench';
const ADMIN = 'bench-admin-token';
/** Publishes in flight per terminal: a terminal's outbox draining after an outage. */
const WINDOW = 64;
const THROUGHPUT_EVENTS = { 1: 6_000, 10: 15_000, 50: 25_000 } as const;
const LATENCY_RATE_PER_S = 1_000;
const LATENCY_TERMINALS = 10;
const LATENCY_DURATION_S = 6;
/** Gateway verify threads for this run (TILLGATE_BENCH_VERIFY_THREADS; default: the gateway default). */
const VERIFY_THREADS = Number(process.env.TILLGATE_BENCH_VERIFY_THREADS ?? String(DEFAULT_VERIFY_THREADS));
const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'bin', 'tillgate.js');

interface Child {
  readonly child: ChildProcess;
  readonly ready: Record<string, unknown>;
}

function spawnReady(args: string[], readyKey: string): Promise<Child> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: join(here, '..', '..') });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (readyKey in msg) resolve({ child, ready: msg });
      } catch {
        // not the ready line
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}`)));
  });
}

async function stop(c: Child): Promise<void> {
  if (c.child.exitCode !== null) return;
  const exited = new Promise((r) => c.child.once('exit', r));
  c.child.kill('SIGTERM');
  await exited;
}

function signerFor(name: string): KeyObjectSigner {
  const seed = Buffer.alloc(32);
  seed.write(name.padEnd(32, '.'), 'utf8');
  return KeyObjectSigner.fromSeed(seed);
}

async function chainFor(signer: KeyObjectSigner, terminal: string, count: number): Promise<string[]> {
  const out: string[] = [];
  let prev = '';
  for (let seq = 1; seq <= count; seq++) {
    const jws = await signEvent({
      v: 1, store: STORE, terminal, seq, prev, id: `0190a5b2-0000-7000-8000-${seq.toString(16).padStart(12, '0')}`, type: 'payment',
      at: '2026-11-22T09:00:00.000Z', amount: 100 + (seq % 900), currency: 'EUR', outcome: 'approved', mode: 'online',
      card: { brand: 'visa', last4: '4242' },
    }, signer);
    out.push(jws);
    prev = chainHash(jws);
  }
  return out;
}

interface Terminal {
  readonly name: string;
  readonly client: MqttClient;
  readonly events: string[];
}

async function terminals(httpUrl: string, mqttPort: number, prefix: string, n: number, perTerminal: number): Promise<Terminal[]> {
  const out: Terminal[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${prefix}-${i}`;
    const signer = signerFor(name);
    const res = await fetch(`${httpUrl}/api/terminals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ terminal: name, publicKey: signer.publicKeyRaw.toString('base64url'), endorsement: await benchEndorsement(STORE, name, signer) }),
    });
    const { password } = (await res.json()) as { password: string };
    const client = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: name, username: name, password, protocolVersion: 4, reconnectPeriod: 0 });
    out.push({ name, client, events: await chainFor(signer, name, perTerminal) });
  }
  return out;
}

/** Each terminal publishes its whole chain keeping WINDOW in flight; resolves events/s. */
async function throughput(ts: readonly Terminal[]): Promise<number> {
  const total = ts.reduce((n, t) => n + t.events.length, 0);
  const t0 = performance.now();
  await Promise.all(ts.map((t) => new Promise<void>((resolve, reject) => {
    let next = 0;
    let acked = 0;
    const pump = () => {
      while (next < t.events.length && next - acked < WINDOW) {
        const jws = t.events[next++]!;
        t.client.publish(topics.events(STORE, t.name), jws, { qos: 1 }, (err) => {
          if (err) return reject(err);
          if (++acked === t.events.length) resolve();
          else pump();
        });
      }
    };
    pump();
  })));
  return total / ((performance.now() - t0) / 1000);
}

/** Publishes at a fixed total rate across terminals; resolves PUBACK latencies in ms. */
async function latencyAtRate(ts: readonly Terminal[], ratePerS: number, durationS: number): Promise<number[]> {
  const latencies: number[] = [];
  const total = Math.min(ratePerS * durationS, ts.reduce((n, t) => n + t.events.length, 0));
  const cursors = ts.map(() => 0);
  const t0 = performance.now();
  let sent = 0;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * ratePerS));
      while (sent < due) {
        const i = sent % ts.length;
        const t = ts[i]!;
        const jws = t.events[cursors[i]!++]!;
        const start = performance.now();
        sent++;
        t.client.publish(topics.events(STORE, t.name), jws, { qos: 1 }, (err) => {
          if (err) return reject(err);
          latencies.push(performance.now() - start);
          if (++done === total) resolve();
        });
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  return latencies;
}

function verifyRate(): Promise<number> {
  return (async () => {
    const signer = signerFor('verify');
    const events = (await chainFor(signer, 'verify', 500)).map((j) => decodeEvent(j));
    const cache = new KeyCache();
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 1_500) {
      for (const e of events) verifyEventSignature(e, cache.get(signer.publicKeyRaw));
      n += events.length;
    }
    return n / ((performance.now() - t0) / 1000);
  })();
}

const BARE_AEDES = `
import { Aedes } from 'aedes';
import { createServer } from 'node:net';
const broker = await Aedes.createBroker();
const server = createServer(broker.handle);
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ bare: true, port: server.address().port })));
process.on('SIGTERM', () => { broker.close(); server.close(); process.exit(0); });
`;

async function bareAedesRate(): Promise<number> {
  const c = await spawnReady(['--input-type=module', '-e', BARE_AEDES], 'bare');
  try {
    const port = c.ready.port as number;
    const client = await connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'bare', protocolVersion: 4, reconnectPeriod: 0 });
    const payload = (await chainFor(signerFor('bare'), 'bare', 1))[0]!;
    const ts: Terminal[] = [{ name: 'bare', client, events: Array.from({ length: 30_000 }, () => payload) }];
    const rate = await throughput(ts);
    await client.endAsync();
    return rate;
  } finally {
    await stop(c);
  }
}

interface CommitStats { batches: number; records: number; p50Ms: number; p99Ms: number; maxMs: number }

async function gatewayStats(httpUrl: string): Promise<CommitStats> {
  const s = (await (await fetch(`${httpUrl}/api/status`)).json()) as { ingest: { commits: CommitStats } };
  return s.ingest.commits;
}

export const bench: Bench = {
  name: 'ingest',
  async run(): Promise<BenchReport> {
    const figures: Figure[] = [];
    const notes: string[] = [];
    const only = process.env.TILLGATE_BENCH_INGEST_ONLY_GATEWAY === '1';
    const verify = only ? 7_400 : await verifyRate();
    if (!only) figures.push({ metric: 'raw Ed25519 verify, 1 core, cached KeyObject', value: Math.round(verify), unit: 'verifies/s', reference: 'design estimate ~7,400/s' });
    const bare = only ? 0 : await bareAedesRate();
    if (!only) figures.push({ metric: 'bare Aedes QoS 1, in memory, 1 client', value: Math.round(bare), unit: 'msg/s', reference: 'no hooks, no disk' });

    const dataDir = mkdtempSync(join(tmpdir(), 'tillgate-bench-'));
    // e.g. TILLGATE_BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the gateway.
    const nodeArgs = (process.env.TILLGATE_BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const gw = await spawnReady([...nodeArgs, BIN, 'gateway', '--data-dir', dataDir, '--store', STORE, '--gateway-id', 'g-bench', '--admin-token', ADMIN,
      '--host', '127.0.0.1', '--mqtt-port', '0', '--http-port', '0', '--log-level', 'warn', '--verify-threads', String(VERIFY_THREADS)], 'ready');
    const httpUrl = gw.ready.httpUrl as string;
    const mqttPort = gw.ready.mqttPort as number;
    try {
      for (const n of [1, 10, 50] as const) {
        const ts = await terminals(httpUrl, mqttPort, `tp${n}`, n, Math.ceil(THROUGHPUT_EVENTS[n] / n));
        const before = await gatewayStats(httpUrl);
        const rate = await throughput(ts);
        const after = await gatewayStats(httpUrl);
        const perBatch = (after.records - before.records) / Math.max(1, after.batches - before.batches);
        figures.push({
          metric: `durable verified ingest, ${n} terminal${n === 1 ? '' : 's'}`, value: Math.round(rate), unit: 'events/s',
          ...(n === 50 ? { target: '>= 5000' } : {}), reference: `${Math.round((rate / verify) * 100)} % of 1-core verify`,
        });
        notes.push(`${n} terminals: ${Math.round(perBatch)} records per synced batch on average`);
        await Promise.all(ts.map((t) => t.client.endAsync()));
      }
      const ts = await terminals(httpUrl, mqttPort, 'lat', LATENCY_TERMINALS, Math.ceil((LATENCY_RATE_PER_S * LATENCY_DURATION_S) / LATENCY_TERMINALS));
      const lat = await latencyAtRate(ts, LATENCY_RATE_PER_S, LATENCY_DURATION_S);
      figures.push({ metric: `PUBACK latency p50 at ${LATENCY_RATE_PER_S} events/s (${LATENCY_TERMINALS} terminals)`, value: percentile(lat, 50), unit: 'ms' });
      const c = await gatewayStats(httpUrl);
      notes.push(`synced batch write time over the last 1,024 batches: p50 ${c.p50Ms} ms, p99 ${c.p99Ms} ms, max ${c.maxMs} ms`);
      figures.push({ metric: `PUBACK latency p99 at ${LATENCY_RATE_PER_S} events/s (${LATENCY_TERMINALS} terminals)`, value: percentile(lat, 99), unit: 'ms', target: '< 25' });
      await Promise.all(ts.map((t) => t.client.endAsync()));
    } finally {
      await stop(gw);
      rmSync(dataDir, { recursive: true, force: true });
    }
    notes.push(`gateway = child process (tillgate gateway, 2 ms commit window, verify threads ${VERIFY_THREADS}); load generator = this process (MQTT.js)`);
    notes.push(`each throughput terminal keeps ${WINDOW} publishes in flight`);
    return { name: 'ingest', figures, notes };
  },
};
