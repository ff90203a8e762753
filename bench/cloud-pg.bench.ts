/**
 * The cloud on PostgreSQL against the embedded LevelDB ledger, in one run (DESIGN §5.4):
 * 1. cloud ingest events/s on LevelDB (one `tillgate cloud` process);
 * 2. the same load on PostgreSQL with one replica, and 3. with three replicas on one database;
 * 4. the drain of a 100,000-event gateway backlog into PostgreSQL (gateway and cloud as processes);
 * 5. the PostgreSQL ledger alone, in this process (no HTTP, no signature checks): what the one
 *    feed-counter row that orders every commit leaves as a ceiling, with one and with all stores
 *    appending at once.
 * PostgreSQL is a server this bench starts for itself with fsync and synchronous_commit on, as in
 * production (initdb in a temp dir; needs the server binaries, see README). The load is
 * `STORES` gateways, each sending its own store's 1,000-event batches one at a time (as a gateway
 * does), all at once; with three replicas store i goes to replica i mod 3. CPU per 1,000 events
 * is taken from /proc/<pid>/stat of the cloud processes and of every PostgreSQL process.
 *
 * Options (env): TILLGATE_BENCH_PG_EVENTS_PER_STORE (default 8000), TILLGATE_BENCH_PG_STORES
 * (default 6), TILLGATE_BENCH_PG_DRAIN_EVENTS (default 100000; 0 skips the drain).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { chainHash } from '../protocol/chain.js';
import { signEvent } from '../protocol/jws.js';
import { KeyObjectSigner } from '../protocol/signer.js';
import { uuidv7 } from '../protocol/uuid.js';
import { serverPids, startPostgres, type PostgresServer } from '../test/support/postgres/server.js';
import { decodeEvent } from '../protocol/jws.js';
import { openPgLedger } from '../cloud-bridge/pg/pg-ledger.js';
import type { AppendItem } from '../cloud-bridge/ledger.js';
import { silentLogger } from '../lib/logger.js';
import { buildBacklog, cpuS, signer as drainSigner, spawnReady, stop, type Child } from './drain.bench.js';
import { BENCH_PROVISIONING_PUBLIC_KEY, benchEndorsement } from './provisioning.js';
import { percentile, type Bench, type BenchReport, type Figure } from './report.js';

const ADMIN = 'bench-admin-token';
const TERMINALS_PER_STORE = 10;
const BATCH_EVENTS = 1000;
const POLL_MS = 100;

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  return Number.isInteger(v) && v >= 0 ? v : fallback;
}

interface StoreLoad {
  readonly store: string;
  readonly gateway: string;
  readonly token: string;
  readonly enrollments: Array<{ terminal: string; kid: string; publicKey: string; at: string; endorsement: string }>;
  readonly batches: string[][];
}

/** Signs every store's chains once; each configuration ingests the same bytes into a fresh ledger. */
async function buildLoad(stores: number, eventsPerStore: number): Promise<StoreLoad[]> {
  const out: StoreLoad[] = [];
  for (let s = 1; s <= stores; s++) {
    const store = `s-${s}`;
    const key = KeyObjectSigner.fromSeed(createHash('sha256').update(`bench-cloud-pg:${store}`).digest());
    const terminals = Array.from({ length: TERMINALS_PER_STORE }, (_, i) => `t-${i + 1}`);
    const prev = new Map(terminals.map((t) => [t, '']));
    const all: string[] = [];
    const at = Date.now();
    for (let n = 0; n < eventsPerStore; n++) {
      const terminal = terminals[n % terminals.length]!;
      const seq = Math.floor(n / terminals.length) + 1;
      const jws = await signEvent({ v: 1, store, terminal, seq, prev: prev.get(terminal)!, id: uuidv7(at + n), type: 'payment', at: new Date(at).toISOString(),
        amount: 100 + (n % 9_900), currency: 'EUR', outcome: 'approved', mode: 'online', card: { brand: 'visa', last4: '4242' } }, key);
      prev.set(terminal, chainHash(jws));
      all.push(jws);
    }
    const batches: string[][] = [];
    for (let i = 0; i < all.length; i += BATCH_EVENTS) batches.push(all.slice(i, i + BATCH_EVENTS));
    out.push({
      store, gateway: `g-${s}`, token: `bench-gateway-token-${s}-0123456789`, batches,
      enrollments: await Promise.all(terminals.map(async (terminal) => ({
        terminal, kid: key.kid, publicKey: key.publicKeyRaw.toString('base64url'), at: new Date(at).toISOString(), endorsement: await benchEndorsement(store, terminal, key),
      }))),
    });
  }
  return out;
}

interface IngestRun { readonly eventsPerS: number; readonly cloudCpuMsPer1k: number; readonly pgCpuMsPer1k: number | null; readonly p50Ms: number; readonly p99Ms: number }

/** Sends every store's batches (one request in flight per store, all stores at once) and measures. */
async function ingest(load: StoreLoad[], urls: string[], cloudPids: number[], pgServer: PostgresServer | null): Promise<IngestRun> {
  const total = load.reduce((n, s) => n + s.batches.reduce((m, b) => m + b.length, 0), 0);
  const pgBefore = pgServer === null ? null : cpuByPid(serverPids(pgServer));
  const cloudBefore = cloudPids.reduce((n, pid) => n + cpuS(pid), 0);
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(load.map(async (s, i) => {
    const url = urls[i % urls.length]!;
    for (const [k, events] of s.batches.entries()) {
      const t0 = performance.now();
      const res = await fetch(`${url}/v1/ingest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token}` },
        body: JSON.stringify({ gateway: s.gateway, store: s.store, batch: uuidv7(Date.now()), enrollments: k === 0 ? s.enrollments : [], events }),
      });
      const body = (await res.json()) as { results?: Array<{ status: string; code?: string }> };
      if (res.status !== 200 || body.results?.some((r) => r.status !== 'accepted')) throw new Error(`bench batch not accepted (${res.status}): ${JSON.stringify(body).slice(0, 300)}`);
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const cloudCpu = cloudPids.reduce((n, pid) => n + cpuS(pid), 0) - cloudBefore;
  const pgCpu = pgServer === null || pgBefore === null ? null : cpuSince(pgBefore, serverPids(pgServer));
  return {
    eventsPerS: total / seconds,
    cloudCpuMsPer1k: (cloudCpu * 1e6) / total,
    pgCpuMsPer1k: pgCpu === null ? null : (pgCpu * 1e6) / total,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

function cpuByPid(pids: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const pid of pids) {
    try {
      m.set(pid, cpuS(pid));
    } catch {
      // ended meanwhile
    }
  }
  return m;
}
/** CPU seconds the server's processes used since `before` (processes that started meanwhile count whole). */
function cpuSince(before: Map<number, number>, pids: number[]): number {
  let total = 0;
  for (const [pid, now] of cpuByPid(pids)) total += now - (before.get(pid) ?? 0);
  return total;
}

async function createDatabase(server: PostgresServer, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const u = new URL(server.url);
  u.pathname = `/${name}`;
  return u.toString();
}

const cloudArgs = (load: StoreLoad[], storage: string[]) => [
  'cloud', ...storage, '--host', '127.0.0.1', '--http-port', '0', '--admin-token', ADMIN, '--log-level', 'warn', '--provisioning-keys', BENCH_PROVISIONING_PUBLIC_KEY,
  '--gateways', load.map((s) => `${s.gateway}:${s.store}:${s.token}`).join(','),
];

async function withClouds<T>(args: string[], count: number, fn: (clouds: Child[]) => Promise<T>): Promise<T> {
  const clouds: Child[] = [];
  try {
    // Started one after another: the first migrates the empty database, the others find it done.
    for (let i = 0; i < count; i++) clouds.push(await spawnReady(args));
    return await fn(clouds);
  } finally {
    for (const c of clouds) await stop(c);
  }
}

async function drainIntoPostgres(server: PostgresServer, total: number, dir: string): Promise<{ eventsPerS: number; seconds: number; cloudCpuMsPer1k: number; pgCpuMsPer1k: number; gatewayCpuMsPer1k: number }> {
  const url = await createDatabase(server, 'tillgate_drain');
  const terminals = Array.from({ length: 20 }, (_, i) => `b-${i + 1}`);
  const token = 'bench-drain-cloud-token';
  const cloud = await spawnReady(['cloud', '--database-url', url, '--host', '127.0.0.1', '--http-port', '0', '--admin-token', ADMIN, '--gateways', `g-1:s-1:${token}`,
    '--provisioning-keys', BENCH_PROVISIONING_PUBLIC_KEY, '--log-level', 'warn']);
  const children: Child[] = [cloud];
  try {
    const gatewayArgs = ['gateway', '--data-dir', join(dir, 'gateway'), '--host', '127.0.0.1', '--mqtt-port', '0', '--http-port', '0', '--store', 's-1', '--gateway-id', 'g-1',
      '--admin-token', ADMIN, '--cloud-url', String(cloud.ready.url), '--cloud-token', token, '--log-level', 'warn'];
    const enrolling = await spawnReady(gatewayArgs);
    children.push(enrolling);
    for (const t of terminals) {
      const res = await fetch(`${String(enrolling.ready.httpUrl)}/api/terminals`, {
        method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ terminal: t, publicKey: drainSigner(t).publicKeyRaw.toString('base64url'), endorsement: await benchEndorsement('s-1', t, drainSigner(t)) }),
      });
      if (res.status !== 201) throw new Error(`enroll ${t}: ${res.status}`);
    }
    await stop(enrolling);
    await buildBacklog(join(dir, 'gateway'), terminals, total);
    const pgBefore = cpuByPid(serverPids(server));
    const cloudBefore = cpuS(cloud.child.pid!);
    const started = performance.now();
    const gateway = await spawnReady(gatewayArgs);
    children.push(gateway);
    for (;;) {
      const res = await fetch(`${String(cloud.ready.url)}/v1/stores/s-1/terminals?limit=1000`, { headers: { authorization: `Bearer ${ADMIN}` } });
      const body = (await res.json()) as { terminals?: Array<{ seq: number }> };
      if ((body.terminals ?? []).reduce((n, t) => n + t.seq, 0) >= total) break;
      if (performance.now() - started > 15 * 60_000) throw new Error('drain into PostgreSQL did not finish');
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      eventsPerS: total / seconds,
      seconds,
      cloudCpuMsPer1k: ((cpuS(cloud.child.pid!) - cloudBefore) * 1e6) / total,
      pgCpuMsPer1k: (cpuSince(pgBefore, serverPids(server)) * 1e6) / total,
      gatewayCpuMsPer1k: (cpuS(gateway.child.pid!) * 1e6) / total,
    };
  } finally {
    for (const c of children.reverse()) await stop(c);
  }
}

/** Appends the pre-signed batches straight into a PgLedger (no verification): the ledger's own ceiling. */
async function ledgerOnly(server: PostgresServer, load: StoreLoad[], name: string, concurrent: boolean): Promise<{ eventsPerS: number; p50Ms: number }> {
  const ledger = await openPgLedger({
    databaseUrl: await createDatabase(server, name), poolMax: 10, statementTimeoutMs: 60_000, connectTimeoutMs: 5_000, idleTimeoutMs: 30_000,
    retryMax: 5, migrationLockTimeoutMs: 60_000, logger: silentLogger,
  });
  try {
    const items = load.map((s) => s.batches.map((b) => b.map(appendItemOfJws)));
    const latencies: number[] = [];
    const total = items.reduce((n, s) => n + s.reduce((m, b) => m + b.length, 0), 0);
    const started = performance.now();
    const one = async (i: number) => {
      for (const batch of items[i]!) {
        const t0 = performance.now();
        const outcomes = await ledger.append(load[i]!.store, batch);
        if (outcomes.some((o) => o.status !== 'accepted')) throw new Error('ledger-only append not accepted');
        latencies.push(performance.now() - t0);
      }
    };
    if (concurrent) await Promise.all(load.map((_, i) => one(i)));
    else for (let i = 0; i < load.length; i++) await one(i);
    return { eventsPerS: total / ((performance.now() - started) / 1000), p50Ms: percentile(latencies, 50) };
  } finally {
    await ledger.close();
  }
}

function appendItemOfJws(jws: string): AppendItem {
  const e = decodeEvent(jws);
  const p = e.payload;
  return { terminal: p.terminal, seq: p.seq, prev: p.prev, jws, kid: e.header.kid,
    event: { id: p.id, type: p.type, at: p.at, amount: p.amount, currency: p.currency, outcome: p.outcome, mode: p.mode } };
}

async function run(): Promise<BenchReport> {
  const stores = Math.max(1, envInt('TILLGATE_BENCH_PG_STORES', 6));
  const perStore = Math.max(BATCH_EVENTS, envInt('TILLGATE_BENCH_PG_EVENTS_PER_STORE', 8000));
  const drainEvents = envInt('TILLGATE_BENCH_PG_DRAIN_EVENTS', 100_000);
  const load = await buildLoad(stores, perStore);
  const dir = mkdtempSync(join(tmpdir(), 'tillgate-bench-pg-'));
  const server = await startPostgres({ durable: true });
  try {
    const level = await withClouds(cloudArgs(load, ['--data-dir', join(dir, 'level')]), 1, (c) => ingest(load, [String(c[0]!.ready.url)], c.map((x) => x.child.pid!), null));
    const one = await withClouds(cloudArgs(load, ['--database-url', await createDatabase(server, 'tillgate_one')]), 1,
      (c) => ingest(load, c.map((x) => String(x.ready.url)), c.map((x) => x.child.pid!), server));
    const three = await withClouds(cloudArgs(load, ['--database-url', await createDatabase(server, 'tillgate_three')]), 3,
      (c) => ingest(load, c.map((x) => String(x.ready.url)), c.map((x) => x.child.pid!), server));
    const drain = drainEvents > 0 ? await drainIntoPostgres(server, drainEvents, dir) : null;
    const aloneSerial = await ledgerOnly(server, load, 'tillgate_alone_serial', false);
    const aloneConcurrent = await ledgerOnly(server, load, 'tillgate_alone_concurrent', true);
    const total = stores * perStore;
    const figures: Figure[] = [
      { metric: `cloud ingest, LevelDB, 1 process (${stores} stores x ${BATCH_EVENTS}-event batches at once)`, value: level.eventsPerS, unit: 'events/s' },
      { metric: 'cloud ingest, PostgreSQL, 1 replica', value: one.eventsPerS, unit: 'events/s' },
      { metric: 'cloud ingest, PostgreSQL, 3 replicas', value: three.eventsPerS, unit: 'events/s', target: '>= 4000 and >= 0.6x LevelDB' },
      { metric: 'PostgreSQL 3 replicas / LevelDB', value: three.eventsPerS / level.eventsPerS, unit: 'x', target: '>= 0.6' },
      { metric: 'batch latency p50 / p99, LevelDB', value: level.p50Ms, unit: `ms (p99 ${level.p99Ms.toFixed(0)} ms)` },
      { metric: 'batch latency p50 / p99, PostgreSQL 3 replicas', value: three.p50Ms, unit: `ms (p99 ${three.p99Ms.toFixed(0)} ms)` },
      { metric: 'cloud-bridge CPU per 1,000 events, LevelDB', value: level.cloudCpuMsPer1k, unit: 'ms' },
      { metric: 'cloud-bridge CPU per 1,000 events, PostgreSQL 1 replica', value: one.cloudCpuMsPer1k, unit: 'ms' },
      { metric: 'cloud-bridge CPU per 1,000 events, PostgreSQL 3 replicas (sum)', value: three.cloudCpuMsPer1k, unit: 'ms' },
      { metric: 'PostgreSQL CPU per 1,000 events, 1 replica', value: one.pgCpuMsPer1k ?? Number.NaN, unit: 'ms' },
      { metric: 'PostgreSQL CPU per 1,000 events, 3 replicas', value: three.pgCpuMsPer1k ?? Number.NaN, unit: 'ms' },
    ];
    if (drain !== null) {
      figures.push(
        { metric: `drain ${drainEvents.toLocaleString('en-US')}-event backlog, gateway -> cloud on PostgreSQL`, value: drain.eventsPerS, unit: 'events/s', target: '>= 5000' },
        { metric: 'drain time', value: drain.seconds, unit: 's' },
        { metric: 'drain: cloud-bridge CPU per 1,000 events', value: drain.cloudCpuMsPer1k, unit: 'ms' },
        { metric: 'drain: PostgreSQL CPU per 1,000 events', value: drain.pgCpuMsPer1k, unit: 'ms' },
        { metric: 'drain: gateway CPU per 1,000 events', value: drain.gatewayCpuMsPer1k, unit: 'ms' },
      );
    }
    figures.push(
      { metric: 'PostgreSQL ledger alone (no HTTP, no verify), 1 store at a time', value: aloneSerial.eventsPerS, unit: `events/s (append p50 ${aloneSerial.p50Ms.toFixed(1)} ms)` },
      { metric: `PostgreSQL ledger alone, ${stores} stores at once (commits ordered by the feed row)`, value: aloneConcurrent.eventsPerS, unit: `events/s (append p50 ${aloneConcurrent.p50Ms.toFixed(1)} ms)` },
    );
    return {
      name: 'cloud-pg',
      figures,
      notes: [
        `${total} pre-signed events per configuration, fresh ledger each; cloud-bridges are child processes (dist/bin/tillgate.js) with default options`,
        'PostgreSQL started by the bench with fsync=on, synchronous_commit=on, full_page_writes=on (production durability)',
      ],
    };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const bench: Bench = { name: 'cloud-pg', run };
