/**
 * Proves DESIGN §4 "durable before acknowledged" for the cloud's 200: a real `tillgate cloud` is
 * killed with SIGKILL while three senders keep ingesting, restarted on the same directory, several
 * times. Every event that got a 200 is in the ledger exactly once, heads are contiguous, chains valid.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chainHash } from '../../protocol/chain.js';
import { eventsPageSchema, ingestResponseSchema } from '../../protocol/ingest-api.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { signChain, testSigner, type SignedChainEvent } from '../support/events.js';
import { waitFor, within } from '../support/wait.js';
import { ADMIN, enrollmentOf, GW1, ingestBody } from './helpers.js';
import { spawnCloud, type CloudProcess } from './cloud-process.js';

const TERMINALS = ['t-1', 't-2', 't-3'];
const EVENTS_PER_TERMINAL = 300;
const BATCH = 15;
const KILLS = 3;

describe('cloud crash safety', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('cloud kill -9 - every event that got a 200 survives, once, in a valid chain', async () => {
    const dir = await makeTempDir('tillgate-cloud-kill-');
    cleanups.push(() => removeDir(dir));
    const signer = testSigner('kill-alice');
    const chains = new Map<string, SignedChainEvent[]>();
    for (const t of TERMINALS) chains.set(t, await signChain(signer, 's-1', t, EVENTS_PER_TERMINAL));
    const enrollments = TERMINALS.map((t) => enrollmentOf(t, signer));
    /** Highest seq per terminal the cloud acknowledged with a 200 (accepted or duplicate). */
    const acked = new Map(TERMINALS.map((t) => [t, 0]));
    /** Requests the kill cut mid-flight: proves the kills landed during ingest, not between requests. */
    const cut = { n: 0 };
    const args = ['--data-dir', dir, '--gateways', `g-1:s-1:${GW1.token}`, '--admin-token', ADMIN];

    const sendLoop = async (proc: CloudProcess, terminal: string, stop: { now: boolean }, okCount: { n: number }) => {
      const chain = chains.get(terminal)!;
      while (!stop.now && acked.get(terminal)! < EVENTS_PER_TERMINAL) {
        const from = acked.get(terminal)!;
        const events = chain.slice(from, from + BATCH).map((e) => e.jws);
        let res: Response;
        try {
          res = await fetch(`${proc.url}/v1/ingest`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${GW1.token}` },
            body: JSON.stringify(ingestBody(GW1, events, enrollments)),
          });
        } catch {
          cut.n++;
          return; // the process died under us: this request was never acknowledged
        }
        if (res.status !== 200) throw new Error(`unexpected ${res.status}`);
        const results = ingestResponseSchema.parse(await res.json()).results;
        for (const [i, r] of results.entries()) {
          if (r.status === 'rejected') throw new Error(`event ${from + i + 1} of ${terminal} rejected: ${r.code}`);
          acked.set(terminal, from + i + 1);
        }
        okCount.n++;
      }
    };

    const verify = async (proc: CloudProcess) => {
      for (const t of TERMINALS) {
        const page = eventsPageSchema.parse(
          await (await fetch(`${proc.url}/v1/stores/s-1/terminals/${t}/events?limit=1000`, { headers: { authorization: `Bearer ${ADMIN}` } })).json(),
        );
        expect(page.head).toBeGreaterThanOrEqual(acked.get(t)!);
        expect(page.events.map((e) => e.seq)).toEqual(Array.from({ length: page.head }, (_, i) => i + 1));
        let prev = '';
        for (const e of page.events) {
          expect(e.jws).toBe(chains.get(t)![e.seq - 1]!.jws);
          expect(JSON.parse(Buffer.from(e.jws.split('.')[1]!, 'base64url').toString()).prev).toBe(prev);
          prev = chainHash(e.jws);
        }
      }
    };

    for (let round = 0; round < KILLS; round++) {
      const proc = await spawnCloud(args);
      cleanups.push(async () => proc.child.kill('SIGKILL'));
      await verify(proc);
      const stop = { now: false };
      const ok = { n: 0 };
      const loops = TERMINALS.map((t) => sendLoop(proc, t, stop, ok));
      // Kill at a different point each round, while all three senders have requests in flight.
      await waitFor(() => ok.n >= 3 + round * 4, { timeoutMs: 15_000, what: 'acknowledged requests' });
      proc.child.kill('SIGKILL');
      stop.now = true;
      expect(await within(proc.exited, 10_000, 'SIGKILL exit')).toBe('SIGKILL');
      await within(Promise.all(loops), 10_000, 'senders to stop');
    }

    // Last restart: check what survived, then finish the chains; resends of unacknowledged
    // events that did land come back as duplicates.
    const proc = await spawnCloud(args);
    cleanups.push(async () => proc.child.kill('SIGKILL'));
    await verify(proc);
    const done = { now: false };
    await within(Promise.all(TERMINALS.map((t) => sendLoop(proc, t, done, { n: 0 }))), 20_000, 'finish the chains');
    await verify(proc);
    for (const t of TERMINALS) expect(acked.get(t)).toBe(EVENTS_PER_TERMINAL);
    expect(cut.n).toBeGreaterThanOrEqual(KILLS);
    proc.child.kill('SIGTERM');
    expect(await within(proc.exited, 10_000, 'SIGTERM exit')).toBe(0);
  });
});
