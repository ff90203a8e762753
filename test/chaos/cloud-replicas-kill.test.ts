/**
 * Proves the cloud's exactly-once promise with several replicas on one PostgreSQL (DESIGN §4, §5.4):
 * three `tillgate cloud` processes share one database behind a round-robin TCP load balancer; two
 * gateways of different stores forward their terminals' events through it while one replica is
 * `kill -9`ed mid-ingest and restarted, three times. At the end every event a terminal saw
 * acknowledged (PUBACK) is in the ledger exactly once, in seq order, byte-identical, chains valid,
 * read back through the read API of two different replicas: whichever replica stored an event,
 * at least one of the two readers is another one.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chainHash } from '../../protocol/chain.js';
import { decodeEvent } from '../../protocol/jws.js';
import { eventsPageSchema } from '../../protocol/ingest-api.js';
import { RoundRobinProxy } from '../support/round-robin-proxy.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { killAll, readyNumber, readyString, spawnTillgate, type TillgateProcess } from '../support/tillgate-process.js';
import { freshDatabase, postgresAvailable, type TestDatabase } from '../support/postgres/test-database.js';
import { waitFor, within } from '../support/wait.js';
import { FAST_DELIVERY_FLAGS } from './harness/system.js';
import { ADMIN_TOKEN, makeTerminals, publish, type TestTerminal } from './harness/terminals.js';

const REPLICAS = 3;
const KILLS = 3;
const STORES = [
  { store: 's-1', gateway: 'g-1', token: 'cloud-token-store-one' },
  { store: 's-2', gateway: 'g-2', token: 'cloud-token-store-two' },
] as const;
const TERMINALS_PER_STORE = 3;
const EVENTS_PER_TERMINAL = 400;
const TOTAL = STORES.length * TERMINALS_PER_STORE * EVENTS_PER_TERMINAL;
/** Small forward batches make ingest long enough for three kills to land in the middle of it. */
const SLOW_FORWARD = ['--forward-batch-max-events', '5'];

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
      '--gateways', STORES.map((s) => `${s.gateway}:${s.store}:${s.token}`).join(','), '--db-pool-max', '4', '--log-level', 'warn',
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
      '--cloud-url', proxy.url, '--cloud-token', s.token, '--log-level', 'warn', ...FAST_DELIVERY_FLAGS, ...SLOW_FORWARD,
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

    // Every terminal publishes its whole chain; `publish` resolves once the gateway PUBACKed all.
    const publishing = Promise.all(STORES.flatMap((s, i) => terminals.get(s.store)!.map((t) => publish(readyNumber(gateways[i]!, 'mqttPort'), t, t.events, 60_000))));

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
      expect(seen).toBeLessThan(TOTAL); // the kill lands mid-ingest
      if ((proxy.liveConnections()[victim] ?? 0) > 0) killedWithLiveConnections++;
      await replicas[victim]!.kill9();
      const restarted = await startReplica();
      replicas[victim] = restarted;
      processes.push(restarted);
      proxy.setTarget(victim, readyNumber(restarted, 'httpPort'));
    }

    expect(killedWithLiveConnections).toBeGreaterThanOrEqual(1); // gateways were talking to the victim
    await within(publishing, 90_000, 'terminals publishing');
    const reader = readyString(replicas[0]!, 'url');
    await waitFor(async () => (await count(reader)) === TOTAL, { timeoutMs: 60_000, intervalMs: 100, what: 'every event in the ledger' });

    for (const url of [readyString(replicas[1]!, 'url'), readyString(replicas[2]!, 'url')]) {
      for (const s of STORES) {
        for (const t of terminals.get(s.store)!) {
          const page = await read(url, s.store, t.terminal, 0, 1000);
          expect(page.head).toBe(EVENTS_PER_TERMINAL);
          expect(page.events.map((e) => e.seq)).toEqual(Array.from({ length: EVENTS_PER_TERMINAL }, (_, i) => i + 1));
          expect(page.events.map((e) => e.jws)).toEqual(t.events.map((e) => e.jws));
          let prev = '';
          for (const e of page.events) {
            expect(decodeEvent(e.jws).payload.prev).toBe(prev);
            prev = chainHash(e.jws);
          }
        }
      }
    }
    // Exactly once in the feed too: one position per event, none twice.
    const feed = await db.query<{ n: number; positions: number }>('SELECT count(*)::int AS n, count(DISTINCT position)::int AS positions FROM ledger_events');
    expect(feed.rows[0]).toEqual({ n: TOTAL, positions: TOTAL });
  });
});
