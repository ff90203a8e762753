/**
 * Proves the cloud's exactly-once promise with several replicas on one PostgreSQL (DESIGN §4, §5.4):
 * three `tillgate cloud` processes share one database behind a round-robin TCP load balancer; two
 * gateways of different stores forward their terminals' events through it while one replica is
 * `kill -9`ed mid-ingest and restarted, three times. The terminals keep publishing until the third
 * restart, so every kill lands while events flow however fast the machine is. At the end every
 * event a terminal saw acknowledged (PUBACK) is in the ledger exactly once, in seq order,
 * byte-identical, chains valid, read back through the read API of two different replicas:
 * whichever replica stored an event, at least one of the two readers is another one.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chainHash } from '../../protocol/chain.js';
import { decodeEvent } from '../../protocol/jws.js';
import { eventsPageSchema } from '../../protocol/ingest-api.js';
import { RoundRobinProxy } from '../support/round-robin-proxy.js';
import { TEST_PROVISIONING_PUBLIC_KEY } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { killAll, readyNumber, readyString, spawnTillgate, type TillgateProcess } from '../support/tillgate-process.js';
import { freshDatabase, postgresAvailable, type TestDatabase } from '../support/postgres/test-database.js';
import { waitFor, within } from '../support/wait.js';
import { FAST_DELIVERY_FLAGS } from './harness/system.js';
import { ADMIN_TOKEN, makeTerminals, publishWhile, type TestTerminal } from './harness/terminals.js';

const REPLICAS = 3;
const KILLS = 3;
const STORES = [
  { store: 's-1', gateway: 'g-1', token: 'cloud-token-store-one' },
  { store: 's-2', gateway: 'g-2', token: 'cloud-token-store-two' },
] as const;
const TERMINALS_PER_STORE = 3;
/** Signed ahead; the terminals publish a prefix of them (until the kills are done). */
const EVENTS_PER_TERMINAL = 1500;
const SIGNED = STORES.length * TERMINALS_PER_STORE * EVENTS_PER_TERMINAL;
/** Three restarts and the drain of what piled up meanwhile, on a loaded 2-core machine. */
const TEST_TIMEOUT_MS = 180_000;
/** Small forward batches: many requests in flight over the test, so each kill cuts some. */
const SMALL_BATCHES = ['--forward-batch-max-events', '50'];

describe.skipIf(!postgresAvailable())('cloud replicas on one PostgreSQL', () => {
  const processes: Array<TillgateProcess | null> = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await killAll(processes.splice(0));
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('chaos - kill -9 of one of three replicas mid-ingest, three times: every acknowledged event once, in order, read through other replicas', async () => {
    const db: TestDatabase = await freshDatabase({ migrated: false });
    cleanups.push(() => db.drop());
    const dir = await makeTempDir('tillgate-replicas-');
    cleanups.push(() => removeDir(dir));
    const cloudArgs = [
      'cloud', '--database-url', db.url, '--host', '127.0.0.1', '--http-port', '0', '--admin-token', ADMIN_TOKEN,
      '--gateways', STORES.map((s) => `${s.gateway}:${s.store}:${s.token}`).join(','), '--provisioning-keys', TEST_PROVISIONING_PUBLIC_KEY,
      '--db-pool-max', '4', '--log-level', 'warn',
    ];
    const startReplica = () => spawnTillgate(cloudArgs, { readyKind: 'cloud' });
    // All three start at once on an empty database: the migration lock makes them take turns.
    const replicas: TillgateProcess[] = await Promise.all(Array.from({ length: REPLICAS }, startReplica));
    processes.push(...replicas);
    const proxy = await RoundRobinProxy.start(replicas.map((r) => readyNumber(r, 'httpPort')));
    cleanups.push(() => proxy.close());

    const gateways = await Promise.all(STORES.map((s) => spawnTillgate([
      'gateway', '--data-dir', join(dir, s.gateway), '--host', '127.0.0.1', '--mqtt-port', '0', '--http-port', '0',
      '--store', s.store, '--gateway-id', s.gateway, '--admin-token', ADMIN_TOKEN,
      '--cloud-url', proxy.url, '--cloud-token', s.token, '--log-level', 'warn', ...FAST_DELIVERY_FLAGS, ...SMALL_BATCHES,
    ], { readyKind: 'gateway' })));
    processes.push(...gateways);
    const terminals = new Map<string, TestTerminal[]>();
    for (const [i, s] of STORES.entries()) {
      terminals.set(s.store, await makeTerminals(readyString(gateways[i]!, 'httpUrl'), TERMINALS_PER_STORE, EVENTS_PER_TERMINAL, `t${i + 1}`, s.store));
    }

    const read = async (url: string, store: string, terminal: string, after: number, limit: number) => {
      const res = await fetch(`${url}/v1/stores/${store}/terminals/${terminal}/events?after=${after}&limit=${limit}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      if (res.status !== 200) throw new Error(`read ${store}/${terminal}: HTTP ${res.status}`);
      return eventsPageSchema.parse(await res.json());
    };
    const count = async (url: string) => {
      let n = 0;
      for (const s of STORES) for (const t of terminals.get(s.store)!) n += (await read(url, s.store, t.terminal, 0, 1)).head;
      return n;
    };

    // Every terminal publishes its chain until the kills are done; each resolves with its PUBACKed prefix.
    let publishingOn = true;
    const all = STORES.flatMap((s, i) => terminals.get(s.store)!.map((t) => ({ store: s.store, t, port: readyNumber(gateways[i]!, 'mqttPort') })));
    const publishing = Promise.all(all.map(({ t, port }) => publishWhile(port, t, t.events, () => publishingOn, 60_000)));

    let seen = 0;
    let killedWithLiveConnections = 0;
    for (let k = 0; k < KILLS; k++) {
      // The victim is the replica holding the most live connections: it is serving ingest now.
      const live = proxy.liveConnections();
      const victim = live.indexOf(Math.max(...live));
      const witness = readyString(replicas[(victim + 1) % REPLICAS]!, 'url');
      const before = seen;
      seen = await waitFor(async () => {
        const n = await count(witness);
        return n > before ? n : null;
      }, { timeoutMs: 30_000, what: `ingest progress before kill ${k + 1}` });
      expect(seen).toBeLessThan(SIGNED); // events are still flowing: the kill lands mid-ingest
      if ((proxy.liveConnections()[victim] ?? 0) > 0) killedWithLiveConnections++;
      await replicas[victim]!.kill9();
      const restarted = await startReplica();
      replicas[victim] = restarted;
      processes.push(restarted);
      proxy.setTarget(victim, readyNumber(restarted, 'httpPort'));
    }

    expect(killedWithLiveConnections).toBeGreaterThanOrEqual(1); // gateways were talking to the victim
    publishingOn = false;
    const published = await within(publishing, 60_000, 'terminals publishing');
    const acked = new Map(all.map(({ store, t }, i) => [`${store}/${t.terminal}`, published[i]!]));
    const total = published.reduce((n, k) => n + k, 0);
    expect(total).toBeGreaterThan(seen);
    const reader = readyString(replicas[0]!, 'url');
    await waitFor(async () => (await count(reader)) === total, { timeoutMs: 90_000, intervalMs: 100, what: 'every acknowledged event in the ledger' });

    for (const url of [readyString(replicas[1]!, 'url'), readyString(replicas[2]!, 'url')]) {
      for (const s of STORES) {
        for (const t of terminals.get(s.store)!) {
          const n = acked.get(`${s.store}/${t.terminal}`)!;
          const events = [...(await read(url, s.store, t.terminal, 0, 1000)).events, ...(await read(url, s.store, t.terminal, 1000, 1000)).events];
          expect(events.map((e) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
          expect(events.map((e) => e.jws)).toEqual(t.events.slice(0, n).map((e) => e.jws));
          // The chain links: each event's prev is the chain hash of the one before it.
          expect(events.map((e) => decodeEvent(e.jws).payload.prev)).toEqual(['', ...events.slice(0, -1).map((e) => chainHash(e.jws))]);
        }
      }
    }
    // Exactly once in the feed too: one position per event, none twice.
    const feed = await db.query<{ n: number; positions: number }>('SELECT count(*)::int AS n, count(DISTINCT position)::int AS positions FROM ledger_events');
    expect(feed.rows[0]).toEqual({ n: total, positions: total });
  }, TEST_TIMEOUT_MS);
});
