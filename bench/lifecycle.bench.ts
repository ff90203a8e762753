/**
 * `npm run bench -- lifecycle` (DESIGN §3.6): the seed's measurement reproduced. A synthetic day of
 * payments runs through two real cloud-bridges at once — optimistic charging off and on — with the
 * simulated PSP's delay distribution (95 % of notifications within 30 s, a tail to 20 minutes),
 * duplicates, shuffled batches, refusals and never-authorised payments, and reconciliation after
 * 20 minutes. Everything moves on ONE VIRTUAL CLOCK (the clouds' and the PSP's), stepped from one
 * due thing to the next, so the 20-minute tail costs no 20 minutes; HTTP, LevelDB and the state
 * machine are real. Reported: p50/p90/p99 of success → charged with optimism off and on, the
 * reduction of the mean and of the slowest 10 %, and the contradiction rate, checked exactly
 * against the simulator's injected truth. Then, in real time, webhook ingest throughput
 * (notifications/s, each durable before `[accepted]`) on each ledger: LevelDB and PostgreSQL.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import pg from 'pg';
import { startCloud, type CloudHandle } from '../cloud-bridge/index.js';
import { createLogger } from '../lib/logger.js';
import { chainHash } from '../protocol/chain.js';
import { signEvent } from '../protocol/jws.js';
import { KeyObjectSigner } from '../protocol/signer.js';
import { notificationRequestItemSchema, signAdyenItem } from '../protocol/adyen.js';
import { uuidv7 } from '../protocol/uuid.js';
import { createPspSim, httpSender } from '../psp-sim/index.js';
import { createPspSimApp } from '../psp-sim/http.js';
import { pspSimOptionsSchema } from '../psp-sim/options.js';
import type { TruthRecord } from '../psp-sim/truth.js';
import { percentile, type Bench, type BenchReport, type Figure } from './report.js';
import { syntheticDay, VirtualClock, type SyntheticPayment } from './lifecycle-timeline.js';
import { startPostgres } from '../test/support/postgres/server.js';

const PAYMENTS = Number(process.env.TILLGATE_BENCH_LIFECYCLE_PAYMENTS ?? 5_000);
/**
 * Share of payments approved offline because their store's link was down: charged at authorisation
 * even with optimism, so they bound what optimism can remove. A healthy fleet has about 1 %.
 */
const OFFLINE_SHARE = Number(process.env.TILLGATE_BENCH_LIFECYCLE_OFFLINE_SHARE ?? 0.01);
const SEED = 2026;
const TERMINALS = 20;
const STORE = 's-1';
const TOKEN = 'bench-lifecycle-gateway-token-0123456789';
const ADMIN = 'bench-lifecycle-admin-token-0123456789';
const HMAC_KEY = createHash('sha256').update('bench-lifecycle').digest('hex').toUpperCase();
const RECONCILE_AFTER_S = 1_200;
/** Captures closer than this are one ingest request (the gateway batches the same way). */
const INGEST_WINDOW_MS = 250;
const WEBHOOK_THROUGHPUT_NOTIFICATIONS = Number(process.env.TILLGATE_BENCH_WEBHOOK_NOTIFICATIONS ?? 3_000);
const WEBHOOK_CONCURRENCY = 16;

interface Terminalised extends SyntheticPayment {
  readonly terminal: string;
  seq: number;
  jws: string;
}

export const bench: Bench = {
  name: 'lifecycle',
  async run(): Promise<BenchReport> {
    const logger = createLogger({ level: 'warn', bindings: { program: 'bench-lifecycle' } });
    const dirs: string[] = [];
    const closers: Array<() => Promise<unknown>> = [];
    try {
      const day = syntheticDay({ payments: PAYMENTS, seed: SEED, startMs: Date.UTC(2026, 10, 23, 9, 0, 0), meanGapS: 0.4, offlineShare: OFFLINE_SHARE });
      const clock = new VirtualClock(day[0]!.successAtMs - 1_000);
      const { payments, signer } = await signDay(day);

      // The simulated PSP on the virtual clock, its status API served for the clouds' reconciliation.
      const pspOptions = pspSimOptionsSchema.parse({ hmacKey: HMAC_KEY, seed: SEED, logLevel: 'warn', maxPending: 1_000_000 });
      const { simulator, deliverer } = createPspSim(pspOptions, { clock, logger, send: httpSender(30_000) });
      const pspServer = await listen(createPspSimApp(simulator, deliverer).fetch);
      closers.push(() => closeServer(pspServer.server));

      const clouds: Record<'off' | 'on', CloudHandle> = {} as Record<'off' | 'on', CloudHandle>;
      for (const flag of ['off', 'on'] as const) {
        const dir = mkdtempSync(join(tmpdir(), `tillgate-bench-lifecycle-${flag}-`));
        dirs.push(dir);
        clouds[flag] = await startCloud(
          {
            dataDir: dir, host: '127.0.0.1', httpPort: 0, adminToken: ADMIN, gateways: [`g-1:${STORE}:${TOKEN}`], trustGatewayEnrollments: true,
            pspHmacKey: HMAC_KEY, pspUrl: pspServer.url, optimisticCharge: flag === 'on', reconcileAfterS: RECONCILE_AFTER_S,
            // The bench steps time itself: no background polling or cron runs of its own.
            lifecyclePollIntervalMs: 60_000, reconcileCron: '0 0 1 1 *', logLevel: 'warn',
          },
          { clock, logger },
        );
        const c = clouds[flag];
        closers.push(() => c.close());
      }
      simulator.setWebhookUrls([`${clouds.off.url}/v1/psp/adyen/webhooks`, `${clouds.on.url}/v1/psp/adyen/webhooks`]);

      const started = performance.now();
      await runDay(clock, payments, signer, simulator, deliverer, Object.values(clouds));
      const elapsedS = (performance.now() - started) / 1000;

      const truth = simulator.truth(0, PAYMENTS * 2).records;
      const off = await outcomes(clouds.off, payments);
      const on = await outcomes(clouds.on, payments);
      const contradictions = checkAgainstTruth(on, truth);
      // The waits compared are those of the same payments: charged in both runs (the PSP authorised them).
      const both = off.flatMap((o, i) => (o.waitS !== null && on[i]!.waitS !== null ? [[o.waitS, on[i]!.waitS as number] as const] : []));
      const waitsOff = both.map(([a]) => a);
      const waitsOn = both.map(([, b]) => b);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const slowest10 = (xs: number[]) => mean([...xs].sort((a, b) => a - b).slice(Math.floor(xs.length * 0.9)));
      const reduction = (a: number, b: number) => (1 - b / a) * 100;
      const within30 = (xs: number[]) => (xs.filter((x) => x <= 30).length / xs.length) * 100;
      const offline = payments.filter((p) => p.mode === 'offline').length;

      const throughput = await webhookThroughput(logger, dirs);
      const figures: Figure[] = [
        { metric: `payments simulated (${offline} approved offline during store link outages of 10 s to 10 min)`, value: payments.length, unit: 'payments' },
        { metric: 'virtual time covered', value: (clock.now() - payments[0]!.successAtMs) / 60_000, unit: 'min' },
        { metric: 'wall time of the virtual day (both clouds, real HTTP and LevelDB)', value: elapsedS, unit: 's' },
        { metric: 'payments charged in both runs (authorised by the PSP): the waits compared', value: both.length, unit: 'payments' },
        { metric: 'charged within 30 s of success, optimism off', value: within30(waitsOff), unit: '%', reference: 'the seed: 95 %' },
        { metric: 'success → charged p50, optimism off', value: percentile(waitsOff, 50), unit: 's' },
        { metric: 'success → charged p90, optimism off', value: percentile(waitsOff, 90), unit: 's' },
        { metric: 'success → charged p99, optimism off', value: percentile(waitsOff, 99), unit: 's' },
        { metric: 'success → charged p50, optimism on', value: percentile(waitsOn, 50), unit: 's' },
        { metric: 'success → charged p90, optimism on', value: percentile(waitsOn, 90), unit: 's' },
        { metric: 'success → charged p99, optimism on', value: percentile(waitsOn, 99), unit: 's' },
        { metric: 'mean wait, optimism off / on', value: mean(waitsOff), unit: `s / ${mean(waitsOn).toFixed(2)} s` },
        { metric: 'reduction of the overall mean wait', value: reduction(mean(waitsOff), mean(waitsOn)), unit: '%', target: '>= 70' },
        { metric: 'mean wait of the slowest 10 %, optimism off / on', value: slowest10(waitsOff), unit: `s / ${slowest10(waitsOn).toFixed(2)} s` },
        { metric: 'reduction of the slowest 10 %', value: reduction(slowest10(waitsOff), slowest10(waitsOn)), unit: '%', target: '>= 90' },
        { metric: 'optimistic charges contradicted (cloud)', value: contradictions.cloud, unit: `of ${contradictions.optimistic}` },
        { metric: 'contradiction rate (cloud)', value: contradictions.rate * 100, unit: '%' },
        { metric: 'contradictions the injected truth calls for (refused or never authorised, charged optimistically)', value: contradictions.truth, unit: 'payments' },
        { metric: 'payments whose cloud contradiction disagrees with the truth', value: contradictions.disagreements, unit: 'payments', target: '0 (measured exactly)' },
        { metric: `webhook ingest, LevelDB, 1 item per request, ${WEBHOOK_CONCURRENCY} concurrent, durable before [accepted]`, value: throughput.level.perS, unit: 'notifications/s' },
        { metric: 'webhook request latency p50 / p99, LevelDB', value: throughput.level.p50Ms, unit: `ms / ${throughput.level.p99Ms.toFixed(1)} ms` },
        { metric: `webhook ingest, PostgreSQL (fsync on), 1 item per request, ${WEBHOOK_CONCURRENCY} concurrent, durable before [accepted]`, value: throughput.pg.perS, unit: 'notifications/s' },
        { metric: 'webhook request latency p50 / p99, PostgreSQL', value: throughput.pg.p50Ms, unit: `ms / ${throughput.pg.p99Ms.toFixed(1)} ms` },
      ];
      return {
        name: 'lifecycle',
        figures,
        notes: [
          'the latency part runs on a virtual clock shared by both clouds and the PSP (stepped from one due event to the next); HTTP, LevelDB, signatures and the state machine are real',
          'offline approvals are charged at authorisation with optimism on too (their event reaches the cloud only after the outage): they keep the reductions below 100 %; TILLGATE_BENCH_LIFECYCLE_OFFLINE_SHARE changes their share',
          `seed ${SEED}; TILLGATE_BENCH_LIFECYCLE_PAYMENTS=${PAYMENTS}; TILLGATE_BENCH_LIFECYCLE_OFFLINE_SHARE=${OFFLINE_SHARE}`,
        ],
      };
    } finally {
      for (const c of closers.reverse()) await c().catch(() => undefined);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  },
};

/** Assigns terminals (round robin) and seqs in capture order, then signs every event. */
async function signDay(day: readonly SyntheticPayment[]): Promise<{ payments: Terminalised[]; signer: KeyObjectSigner }> {
  const signer = KeyObjectSigner.fromSeed(createHash('sha256').update('bench-lifecycle-terminals').digest());
  const list: Terminalised[] = day.map((p, i) => ({ ...p, terminal: `t-${String(i % TERMINALS).padStart(2, '0')}`, seq: 0, jws: '' }));
  const byTerminal = new Map<string, Terminalised[]>();
  for (const p of list) byTerminal.set(p.terminal, [...(byTerminal.get(p.terminal) ?? []), p]);
  for (const [terminal, ps] of byTerminal) {
    ps.sort((a, b) => a.captureAtMs - b.captureAtMs);
    let prev = '';
    for (const [i, p] of ps.entries()) {
      p.seq = i + 1;
      p.jws = await signEvent({
        v: 1, store: STORE, terminal, seq: p.seq, prev, id: p.id, type: 'payment', at: new Date(p.successAtMs).toISOString(), amount: p.amount,
        currency: 'EUR', outcome: 'approved', mode: p.mode, card: { brand: 'visa', last4: '4242' },
      }, signer);
      prev = chainHash(p.jws);
    }
  }
  return { payments: list, signer };
}

/** Steps the virtual clock through authorisations, captures, notifications and reconciliation runs. */
async function runDay(
  clock: VirtualClock,
  payments: Terminalised[],
  signer: KeyObjectSigner,
  simulator: ReturnType<typeof createPspSim>['simulator'],
  deliverer: ReturnType<typeof createPspSim>['deliverer'],
  clouds: CloudHandle[],
): Promise<void> {
  const enrollments = Array.from({ length: TERMINALS }, (_, i) => ({
    terminal: `t-${String(i).padStart(2, '0')}`, kid: signer.kid, publicKey: signer.publicKeyRaw.toString('base64url'), at: new Date(clock.now()).toISOString(),
  }));
  const authorise = [...payments].sort((a, b) => a.authoriseAtMs - b.authoriseAtMs);
  const capture = [...payments].sort((a, b) => a.captureAtMs - b.captureAtMs);
  let ai = 0;
  let ci = 0;
  let first = true;
  const lastCapture = capture.at(-1)!.captureAtMs;
  let nextReconcile = clock.now() + 60_000;
  const endAt = lastCapture + (RECONCILE_AFTER_S + 180) * 1000;
  for (;;) {
    const candidates = [authorise[ai]?.authoriseAtMs, capture[ci]?.captureAtMs, deliverer.nextDueAtMs() ?? undefined, nextReconcile <= endAt ? nextReconcile : undefined]
      .filter((t): t is number => t !== undefined);
    if (candidates.length === 0) break;
    const now = Math.min(...candidates);
    clock.set(now);
    while (ai < authorise.length && authorise[ai]!.authoriseAtMs <= now) {
      const p = authorise[ai++]!;
      simulator.authorise({ merchantReference: p.id, amount: { value: p.amount, currency: 'EUR' }, store: STORE, terminal: p.terminal });
    }
    if (ci < capture.length && capture[ci]!.captureAtMs <= now) {
      const batch: Terminalised[] = [];
      while (ci < capture.length && capture[ci]!.captureAtMs <= now + INGEST_WINDOW_MS && batch.length < 1_000) batch.push(capture[ci++]!);
      clock.set(batch.at(-1)!.captureAtMs);
      await Promise.all(clouds.map((c) => ingest(c, batch, first ? enrollments : [])));
      first = false;
      await Promise.all(clouds.map((c) => c.lifecycle!.feedFollower.catchUp()));
    }
    if ((deliverer.nextDueAtMs() ?? Number.POSITIVE_INFINITY) <= clock.now()) {
      await deliverer.deliverDue();
      await Promise.all(clouds.map((c) => c.lifecycle!.inboxFollower.catchUp()));
    }
    if (nextReconcile <= clock.now()) {
      await Promise.all(clouds.map((c) => c.lifecycle!.reconcileNow()));
      nextReconcile += 60_000;
    }
  }
  await Promise.all(clouds.map((c) => c.lifecycle!.catchUp()));
}

async function ingest(cloud: CloudHandle, batch: readonly Terminalised[], enrollments: unknown[]): Promise<void> {
  const events = [...batch].sort((a, b) => (a.terminal === b.terminal ? a.seq - b.seq : a.terminal < b.terminal ? -1 : 1)).map((p) => p.jws);
  const res = await fetch(`${cloud.url}/v1/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ gateway: 'g-1', store: STORE, batch: uuidv7(Date.now()), enrollments, events }),
  });
  const body = (await res.json()) as { results?: Array<{ status: string; code?: string }> };
  const bad = body.results?.filter((r) => r.status === 'rejected') ?? [];
  if (res.status !== 200 || bad.length > 0) throw new Error(`bench ingest refused (${res.status}): ${JSON.stringify(bad.slice(0, 3))}`);
}

interface Outcome {
  readonly id: string;
  readonly waitS: number | null;
  readonly chargedBy: string | null;
  readonly contradicted: boolean;
}

async function outcomes(cloud: CloudHandle, payments: readonly Terminalised[]): Promise<Outcome[]> {
  const store = cloud.lifecycle!.deps.payments;
  const out: Outcome[] = [];
  for (const p of payments) {
    const got = await store.get(p.id);
    if (got === undefined) throw new Error(`payment ${p.id} is missing from the cloud`);
    out.push({ id: p.id, waitS: got.chargedAtMs === null ? null : (got.chargedAtMs - p.successAtMs) / 1000, chargedBy: got.chargedBy, contradicted: got.contradicted });
  }
  return out;
}

/** Contradictions the cloud counted against those the injected truth calls for, payment by payment. */
function checkAgainstTruth(on: readonly Outcome[], truth: readonly TruthRecord[]): { cloud: number; truth: number; optimistic: number; rate: number; disagreements: number } {
  const byId = new Map(truth.map((t) => [t.merchantReference, t]));
  let cloud = 0;
  let expected = 0;
  let optimistic = 0;
  let disagreements = 0;
  for (const o of on) {
    const t = byId.get(o.id);
    const optimisticCharge = o.chargedBy === 'optimistic';
    const shouldContradict = optimisticCharge && t !== undefined && t.outcome !== 'authorised';
    if (optimisticCharge) optimistic++;
    if (o.contradicted) cloud++;
    if (shouldContradict) expected++;
    if (o.contradicted !== shouldContradict) disagreements++;
  }
  return { cloud, truth: expected, optimistic, rate: optimistic === 0 ? 0 : cloud / optimistic, disagreements };
}

interface Throughput {
  readonly perS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Real time: signed notifications, one item per request as Adyen sends them, to a fresh cloud on each ledger. */
async function webhookThroughput(logger: ReturnType<typeof createLogger>, dirs: string[]): Promise<{ level: Throughput; pg: Throughput }> {
  const dir = mkdtempSync(join(tmpdir(), 'tillgate-bench-webhooks-'));
  dirs.push(dir);
  const base = { host: '127.0.0.1', httpPort: 0, adminToken: ADMIN, gateways: [`g-1:${STORE}:${TOKEN}`], trustGatewayEnrollments: true, pspHmacKey: HMAC_KEY, logLevel: 'warn' as const };
  const level = await postNotifications(await startCloud({ ...base, dataDir: dir }, { logger }));
  // PostgreSQL with durability on, as production has it.
  const server = await startPostgres({ durable: true });
  try {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE tillgate_bench_webhooks');
    await admin.end();
    const url = new URL(server.url);
    url.pathname = '/tillgate_bench_webhooks';
    const pgResult = await postNotifications(await startCloud({ ...base, databaseUrl: url.toString() }, { logger }));
    return { level, pg: pgResult };
  } finally {
    await server.stop();
  }
}

async function postNotifications(cloud: CloudHandle): Promise<Throughput> {
  try {
    const bodies = Array.from({ length: WEBHOOK_THROUGHPUT_NOTIFICATIONS }, (_, i) => {
      const item = notificationRequestItemSchema.parse({
        eventCode: 'AUTHORISATION', success: 'true', pspReference: `BENCH${String(i).padStart(11, '0')}`, merchantAccountCode: 'Bench',
        merchantReference: uuidv7(Date.now(), (n) => randomBytes(n)), amount: { value: 1000 + i, currency: 'EUR' }, eventDate: new Date().toISOString(),
      });
      return JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: { ...item, additionalData: { hmacSignature: signAdyenItem(item, HMAC_KEY) } } }] });
    });
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: WEBHOOK_CONCURRENCY }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const t0 = performance.now();
        const res = await fetch(`${cloud.url}/v1/psp/adyen/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        if (res.status !== 200 || (await res.text()) !== '[accepted]') throw new Error(`webhook answered ${res.status}`);
        latencies.push(performance.now() - t0);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    return { perS: bodies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
  } finally {
    await cloud.close();
  }
}

async function listen(fetchFn: (req: Request) => Response | Promise<Response>): Promise<{ server: Server; url: string }> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: fetchFn, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server)) as Server;
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
