/**
 * Terminal agent benchmark:
 * 1. record() on one terminal, fsync'd LevelDB outbox: latency p50/p99 one call at a time, and
 *    throughput with the payment app calling concurrently (record() serializes, so this shows
 *    the cost of sign + one synced put per event).
 * 2. Drain: a terminal reconnects with 10,000 events in its outbox; time until the real gateway
 *    (in-process, LevelDB, group commit) has acknowledged them all.
 */
import { defaultDataKeys } from '../lib/at-rest/options.js';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway } from '../gateway/index.js';
import { systemClock } from '../lib/clock.js';
import { silentLogger } from '../lib/logger.js';
import { startAgent } from '../terminal-agent/agent.js';
import { createDeviceKey, loadDeviceKey } from '../terminal-agent/device-key.js';
import { enrollTerminal } from '../terminal-agent/enroll.js';
import { benchEndorsement } from './provisioning.js';
import { DEFAULT_OFFLINE_LIMITS } from '../terminal-agent/limits.js';
import { LevelOutbox } from '../terminal-agent/outbox/level-outbox.js';
import { DEFAULT_PUBLISHER_LIMITS } from '../terminal-agent/publisher-options.js';
import { Recorder } from '../terminal-agent/recorder.js';
import { percentile, type Bench, type BenchReport, type Figure } from './report.js';

const SEQUENTIAL_RECORDS = 2_000;
const CONCURRENT_RECORDS = 4_000;
const CONCURRENCY = 16;
const DRAIN_EVENTS = 10_000;
const DRAIN_TIMEOUT_MS = 120_000;

const tx = (i: number) => ({ type: 'payment', amount: 100 + (i % 5000), currency: 'EUR', outcome: 'approved', mode: 'online', card: { brand: 'visa', last4: '4242' } });

async function recordFigures(dir: string): Promise<Figure[]> {
  const signer = await createDeviceKey(dir);
  const outbox = new LevelOutbox(join(dir, 'outbox'), defaultDataKeys(dir));
  await outbox.open();
  await outbox.adoptBase({ seq: 0, hash: '' });
  const recorder = new Recorder({ store: 's-1', terminal: 't-1', signer, outbox, clock: systemClock, limits: DEFAULT_OFFLINE_LIMITS, isOffline: () => false, maxOutboxEvents: 1e7 });
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < SEQUENTIAL_RECORDS; i++) {
    const s = performance.now();
    await recorder.record(tx(i));
    latencies.push(performance.now() - s);
  }
  const sequentialS = (performance.now() - t0) / 1000;
  let next = 0;
  const t1 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < CONCURRENT_RECORDS) {
      next++;
      await recorder.record(tx(next));
    }
  }));
  const concurrentS = (performance.now() - t1) / 1000;
  await outbox.close();
  return [
    { metric: 'record() latency p50, one at a time, fsync', value: percentile(latencies, 50), unit: 'ms' },
    { metric: 'record() latency p99, one at a time, fsync', value: percentile(latencies, 99), unit: 'ms' },
    { metric: 'record() throughput, one at a time', value: SEQUENTIAL_RECORDS / sequentialS, unit: 'events/s', reference: 'LevelDB put {sync:true} one at a time ~3,300/s (design estimate)' },
    { metric: `record() throughput, ${CONCURRENCY} concurrent callers`, value: CONCURRENT_RECORDS / concurrentS, unit: 'events/s' },
  ];
}

async function drainFigures(root: string): Promise<Figure[]> {
  const gw = await startGateway({ dataDir: join(root, 'gateway'), host: '127.0.0.1', mqttPort: 0, httpPort: 0, store: 's-1', gatewayId: 'g-1', adminToken: 'bench-admin-token', logLevel: 'silent' }, { logger: silentLogger });
  try {
    const dir = join(root, 'drain');
    await mkdir(dir);
    const signer = await createDeviceKey(dir);
    const { password } = await enrollTerminal({
      gatewayUrl: gw.httpUrl, adminToken: 'bench-admin-token', terminal: 't-2', publicKey: signer.publicKeyRaw.toString('base64url'),
      endorsement: await benchEndorsement('s-1', 't-2', signer),
    });
    // Fill the outbox as a terminal would while its link is down (no publisher running).
    const outbox = new LevelOutbox(join(dir, 'outbox'), defaultDataKeys(dir));
    await outbox.open();
    await outbox.adoptBase({ seq: 0, hash: '' });
    const recorder = new Recorder({ store: 's-1', terminal: 't-2', signer: await loadDeviceKey(dir), outbox, clock: systemClock, limits: DEFAULT_OFFLINE_LIMITS, isOffline: () => false, maxOutboxEvents: 1e7 });
    for (let i = 0; i < DRAIN_EVENTS; i++) await recorder.record(tx(i));
    const t0 = performance.now();
    const agent = await startAgent({ store: 's-1', terminal: 't-2', signer, outbox, mqttUrl: `mqtt://127.0.0.1:${gw.mqttPort}`, password, healthIntervalS: 0, logger: silentLogger });
    try {
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      while (agent.stats().ackedSeq < DRAIN_EVENTS) {
        if (Date.now() > deadline) throw new Error(`drain did not finish: acked ${agent.stats().ackedSeq}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const s = (performance.now() - t0) / 1000;
      return [
        { metric: `drain ${DRAIN_EVENTS.toLocaleString('en-US')}-event outbox into the gateway, time`, value: s, unit: 's' },
        { metric: 'drain rate, one terminal, real gateway (verify + group-commit fsync)', value: DRAIN_EVENTS / s, unit: 'events/s', reference: 'Ed25519 verify ~7,400/s per core (design estimate)' },
      ];
    } finally {
      await agent.stop();
    }
  } finally {
    await gw.close();
  }
}

export const bench: Bench = {
  name: 'terminal',
  async run(): Promise<BenchReport> {
    const root = await mkdtemp(join(tmpdir(), 'tillgate-bench-terminal-'));
    try {
      const a = await mkdir(join(root, 'record'), { recursive: true }).then(() => recordFigures(join(root, 'record')));
      const b = await drainFigures(root);
      return {
        name: 'terminal',
        figures: [...a, ...b],
        notes: ['record(): sign (Ed25519) + one LevelDB batch with {sync:true} per event, serialized per terminal', `drain: publisher window ${DEFAULT_PUBLISHER_LIMITS.maxInFlight} in flight, QoS 1, gateway in the same process`],
      };
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  },
};
