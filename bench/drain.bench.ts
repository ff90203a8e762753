/**
 * Drain benchmark: how fast the gateway empties a backlog into the cloud-bridge, and the
 * gateway's peak RSS while it does. Both programs run as real child processes
 * (`node dist/bin/tillgate.js`) on 127.0.0.1. The backlog is built fast with the store's own
 * commit API (pre-signed events, real chains, the same records the ingest path writes) while no
 * gateway process runs; then the gateway starts with the cloud up and the clock runs until the
 * cloud's heads cover every event. Peak RSS is the gateway's VmHWM from /proc.
 *
 * Options (env): TILLGATE_BENCH_DRAIN_EVENTS (default 100000; 1000000 for the big run),
 * TILLGATE_BENCH_DRAIN_TERMINALS (default 20), TILLGATE_BENCH_DRAIN_BATCH (forwarder batch, default
 * the gateway's default), TILLGATE_BENCH_GATEWAY_NODE_ARGS / TILLGATE_BENCH_CLOUD_NODE_ARGS (extra
 * node flags for a child, e.g. heap limits or --cpu-prof).
 */
import { defaultDataKeys } from '../lib/at-rest/options.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { chainHash } from '../protocol/chain.js';
import { signEvent } from '../protocol/jws.js';
import { KeyObjectSigner } from '../protocol/signer.js';
import { uuidv7 } from '../protocol/uuid.js';
import { LevelEventStore } from '../gateway/store/level-event-store.js';
import type { CommitEntry } from '../gateway/store/event-store.js';
import { BENCH_PROVISIONING_PUBLIC_KEY, benchEndorsement } from './provisioning.js';
import type { Bench, BenchReport } from './report.js';

const BIN = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'bin', 'tillgate.js');
const STORE = 's-1';
const GATEWAY = 'g-1';
const ADMIN = 'bench-admin-token';
const CLOUD_TOKEN = 'bench-cloud-token';
/** Events per store commit while building the backlog (the gateway's own group-commit bound). */
const BUILD_COMMIT_RECORDS = 1000;
const POLL_MS = 100;

export interface Child {
  readonly child: ChildProcess;
  readonly ready: Record<string, unknown>;
  readonly exited: Promise<unknown>;
}

function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name] ?? '');
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

/** Extra node flags for a child from the environment, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
const nodeFlags = (name: string): string[] => (process.env[name] ?? '').split(' ').filter((a) => a !== '');

export async function spawnReady(args: string[], nodeArgs: string[] = []): Promise<Child> {
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-10_000)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    void exited.then(() => reject(new Error(`tillgate ${args[0]} exited: ${stderr}`)));
  });
  return { child, ready: JSON.parse(line) as Record<string, unknown>, exited };
}

export async function stop(c: Child): Promise<void> {
  if (c.child.exitCode !== null) return;
  c.child.kill('SIGTERM');
  await c.exited;
}

export function signer(terminal: string): KeyObjectSigner {
  return KeyObjectSigner.fromSeed(createHash('sha256').update(`tillgate-bench-key:${terminal}`).digest());
}

function procKb(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]);
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat. */
export function cpuS(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5) (utime, stime), counted after the "(comm)" field; clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The largest resident mappings of a process, by file (debugging where RSS goes). */
function topMappings(pid: number): string {
  const byName = new Map<string, number>();
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head !== null) name = head[1] === '' ? '[anon]' : (head[1] as string).replace(/.*\//, '');
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss !== null) byName.set(name, (byName.get(name) ?? 0) + Number(rss[1]));
  }
  return [...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([n, kb]) => `${n} ${Math.round(kb / 1024)}MB`).join(', ');
}

/** Writes `total` signed events round-robin over the terminals through the store's commit API. */
export async function buildBacklog(dataDir: string, terminals: string[], total: number): Promise<number> {
  const store = await LevelEventStore.open({ dataDir, rejectsKeep: 1000, keys: defaultDataKeys(dataDir) });
  const started = performance.now();
  const signers = new Map(terminals.map((t) => [t, signer(t)]));
  const heads = new Map(terminals.map((t) => [t, { seq: 0, hash: '' }]));
  const at = Date.now();
  try {
    for (let written = 0; written < total; ) {
      const entries: CommitEntry[] = [];
      for (; entries.length < BUILD_COMMIT_RECORDS && written < total; written++) {
        const terminal = terminals[written % terminals.length] as string;
        const head = heads.get(terminal) as { seq: number; hash: string };
        const seq = head.seq + 1;
        const amount = 100 + (seq % 9_900);
        const payload = { v: 1 as const, store: STORE, terminal, seq, prev: head.hash, id: uuidv7(at + written), type: 'payment', at: new Date(at).toISOString(), amount, currency: 'EUR', outcome: 'approved' as const, mode: 'offline' as const, card: { brand: 'visa', last4: '4242' } };
        const jws = await signEvent(payload, signers.get(terminal) as KeyObjectSigner);
        const hash = chainHash(jws);
        entries.push({ kind: 'event', terminal, seq, prev: head.hash, jws, hash, id: payload.id, type: payload.type, outcome: payload.outcome, amount, currency: 'EUR' });
        heads.set(terminal, { seq, hash });
      }
      await store.commit(entries, Date.now());
    }
  } finally {
    await store.close();
  }
  return (performance.now() - started) / 1000;
}

async function cloudHeads(cloudUrl: string): Promise<Map<string, number>> {
  const res = await fetch(`${cloudUrl}/v1/stores/${STORE}/terminals?limit=1000`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const body = (await res.json()) as { terminals?: { terminal: string; seq: number }[] };
  return new Map((body.terminals ?? []).map((t) => [t.terminal, t.seq]));
}

/** Reads every terminal's events back and checks seq 1..n in order and the chain. */
async function checkOrder(cloudUrl: string, terminals: string[], perTerminal: (t: string) => number): Promise<boolean> {
  for (const terminal of terminals) {
    let after = 0;
    let prev = '';
    for (;;) {
      const res = await fetch(`${cloudUrl}/v1/stores/${STORE}/terminals/${terminal}/events?after=${after}&limit=1000`, { headers: { authorization: `Bearer ${ADMIN}` } });
      const page = (await res.json()) as { events: { seq: number; jws: string }[] };
      for (const e of page.events) {
        const payload = JSON.parse(Buffer.from(e.jws.split('.')[1] ?? '', 'base64url').toString()) as { prev: string };
        if (e.seq !== after + 1 || payload.prev !== prev) return false;
        after = e.seq;
        prev = chainHash(e.jws);
      }
      if (page.events.length < 1000) break;
    }
    if (after !== perTerminal(terminal)) return false;
  }
  return true;
}

async function run(): Promise<BenchReport> {
  const total = envInt('TILLGATE_BENCH_DRAIN_EVENTS', 100_000);
  const terminalCount = envInt('TILLGATE_BENCH_DRAIN_TERMINALS', 20);
  const batch = process.env.TILLGATE_BENCH_DRAIN_BATCH;
  const terminals = Array.from({ length: terminalCount }, (_, i) => `b-${i + 1}`);
  const dir = mkdtempSync(join(tmpdir(), 'tillgate-drain-'));
  const children: Child[] = [];
  try {
    const cloud = await spawnReady(['cloud', '--data-dir', join(dir, 'cloud'), '--host', '127.0.0.1', '--http-port', '0', '--admin-token', ADMIN, '--gateways', `${GATEWAY}:${STORE}:${CLOUD_TOKEN}`, '--provisioning-keys', BENCH_PROVISIONING_PUBLIC_KEY, '--log-level', 'warn'], nodeFlags('TILLGATE_BENCH_CLOUD_NODE_ARGS'));
    children.push(cloud);
    const cloudUrl = String(cloud.ready.url);
    const gatewayArgs = [
      'gateway', '--data-dir', join(dir, 'gateway'), '--host', '127.0.0.1', '--mqtt-port', '0', '--http-port', '0',
      '--store', STORE, '--gateway-id', GATEWAY, '--admin-token', ADMIN, '--cloud-url', cloudUrl, '--cloud-token', CLOUD_TOKEN, '--log-level', 'warn',
      ...(batch === undefined ? [] : ['--forward-batch-max-events', batch]),
    ];
    // 1. Enroll the terminals through a running gateway (their keys reach the cloud), then stop it.
    const enrolling = await spawnReady(gatewayArgs);
    children.push(enrolling);
    for (const t of terminals) {
      const res = await fetch(`${String(enrolling.ready.httpUrl)}/api/terminals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ terminal: t, publicKey: signer(t).publicKeyRaw.toString('base64url'), endorsement: await benchEndorsement(STORE, t, signer(t)) }),
      });
      if (res.status !== 201) throw new Error(`enroll ${t}: ${res.status}`);
    }
    await stop(enrolling);
    // 2. The backlog, written while no gateway runs: as if the WAN had been down for a long time.
    const buildS = await buildBacklog(join(dir, 'gateway'), terminals, total);
    // 3. The gateway comes up with the cloud reachable: measure until the cloud holds everything.
    const cloudPid = cloud.child.pid as number;
    const cloudCpuBeforeS = cpuS(cloudPid);
    const started = performance.now();
    const gatewayNodeArgs = nodeFlags('TILLGATE_BENCH_GATEWAY_NODE_ARGS');
    const gateway = await spawnReady(gatewayArgs, gatewayNodeArgs);
    children.push(gateway);
    const pid = gateway.child.pid as number;
    const startupS = (performance.now() - started) / 1000;
    let rssMaxKb = 0;
    let anonMaxKb = 0;
    let fileMaxKb = 0;
    let delivered = 0;
    const perTerminal = (t: string) => Math.floor(total / terminalCount) + (terminals.indexOf(t) < total % terminalCount ? 1 : 0);
    for (;;) {
      rssMaxKb = Math.max(rssMaxKb, procKb(pid, 'VmRSS'));
      anonMaxKb = Math.max(anonMaxKb, procKb(pid, 'RssAnon'));
      fileMaxKb = Math.max(fileMaxKb, procKb(pid, 'RssFile'));
      if (process.env.TILLGATE_BENCH_DEBUG !== undefined) {
        const f = (await (await fetch(`${String(gateway.ready.httpUrl)}/api/forwarder`)).json()) as { forwarder: unknown };
        process.stderr.write(`${JSON.stringify({ rss: procKb(pid, 'VmRSS'), anon: procKb(pid, 'RssAnon'), file: procKb(pid, 'RssFile'), f: f.forwarder })}\n`);
      }
      const heads = await cloudHeads(cloudUrl);
      delivered = terminals.reduce((n, t) => n + (heads.get(t) ?? 0), 0);
      if (delivered >= total) break;
      if (performance.now() - started > 15 * 60_000) throw new Error(`drain did not finish: ${delivered}/${total}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const drainS = (performance.now() - started) / 1000;
    const hwmKb = procKb(pid, 'VmHWM');
    // CPU per event is steadier than events/s on a machine shared with other work (ticks, ±1 %).
    const gatewayCpuS = cpuS(pid);
    const cloudCpuS = cpuS(cloudPid) - cloudCpuBeforeS;
    if (process.env.TILLGATE_BENCH_DEBUG !== undefined) process.stderr.write(`${topMappings(pid)}\n`);
    const ordered = await checkOrder(cloudUrl, terminals, perTerminal);
    if (!ordered) throw new Error('per-terminal order or chain broken in the cloud ledger');
    return {
      name: 'drain',
      figures: [
        { metric: `drain ${total.toLocaleString('en-US')}-event backlog, ${terminalCount} terminals (incl. gateway start)`, value: total / drainS, unit: 'events/s', target: '>= 5000' },
        { metric: 'drain time', value: drainS, unit: 's' },
        { metric: 'gateway peak RSS during drain (VmHWM)', value: hwmKb / 1024, unit: 'MB', target: '< 150' },
        { metric: 'gateway max sampled RSS', value: rssMaxKb / 1024, unit: 'MB' },
        { metric: 'of which anonymous (heap, buffers)', value: anonMaxKb / 1024, unit: 'MB' },
        { metric: 'of which file-backed (code, mapped files)', value: fileMaxKb / 1024, unit: 'MB' },
        { metric: 'gateway start to ready with the backlog', value: startupS, unit: 's' },
        { metric: 'cloud CPU (all threads) per 1,000 events', value: (cloudCpuS * 1e6) / total, unit: 'ms' },
        { metric: 'gateway CPU (all threads, incl. start) per 1,000 events', value: (gatewayCpuS * 1e6) / total, unit: 'ms' },
        { metric: 'backlog build (sign + store commit)', value: total / buildS, unit: 'events/s' },
      ],
      notes: [
        'gateway and cloud-bridge are separate child processes on 127.0.0.1; the cloud verifies every event again',
        `per-terminal order and chains verified by reading the whole ledger back: ${ordered}`,
        `forwarder batch: ${batch ?? 'default'}; gateway node flags: ${gatewayNodeArgs.join(' ') || 'none'}`,
      ],
    };
  } finally {
    for (const c of children.reverse()) await stop(c);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const bench: Bench = { name: 'drain', run };
