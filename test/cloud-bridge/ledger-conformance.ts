/**
 * The `Ledger` contract written once, run against every implementation: LevelDB and
 * PostgreSQL. A harness opens the same underlying storage again after a close, so restarts are
 * part of the contract, and can open a second "replica" on the same storage: a second ledger
 * instance on the same database for PostgreSQL, the same instance for LevelDB (one process per
 * directory), so the racing cases run on both.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainHash } from '../../protocol/chain.js';
import type { AppendItem, Ledger } from '../../cloud-bridge/ledger.js';
import { FakeClock } from '../support/fake-clock.js';
import { samplePayload, signChain, testSigner, type SignedChainEvent } from '../support/events.js';
import { signEvent } from '../../protocol/jws.js';
import type { EventPayload } from '../../protocol/event.js';
import type { KeyObjectSigner } from '../../protocol/signer.js';

export interface LedgerHarness {
  /** Opens the harness's storage (the same one every time); the previous ledger is closed first. */
  open(clock: FakeClock): Promise<Ledger>;
  /** A second ledger on the same storage while `open`'s is open (may be the very same object). */
  openReplica(clock: FakeClock, first: Ledger): Promise<Ledger>;
  /** Who stamps `receivedAt`: the injected clock, or the database's own clock. */
  readonly receivedAtFrom: 'clock' | 'database';
  /** Removes the storage. */
  destroy(): Promise<void>;
}

const STORE = 's-1';
const T1 = 't-1';
const signerA = testSigner('conformance-a');
const signerB = testSigner('conformance-b');

export const item = (terminal: string, e: SignedChainEvent, kid = kidOfJws(e.jws)): AppendItem => ({
  terminal,
  seq: e.seq,
  prev: e.payload.prev,
  jws: e.jws,
  kid,
  event: { id: e.payload.id, type: e.payload.type, at: e.payload.at, amount: e.payload.amount, currency: e.payload.currency, outcome: e.payload.outcome, mode: e.payload.mode, ...(e.payload.ref === undefined ? {} : { ref: e.payload.ref }) },
});
async function signOne(signer: KeyObjectSigner, store: string, terminal: string, seq: number, prev: string, overrides: Partial<EventPayload>): Promise<SignedChainEvent> {
  const payload = samplePayload(store, terminal, seq, prev, overrides);
  const jws = await signEvent(payload, signer);
  return { seq, jws, hash: chainHash(jws), payload };
}
function kidOfJws(jws: string): string {
  return (JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
}
const statuses = (outcomes: Array<{ status: string; code?: string }>) => outcomes.map((o) => o.code ?? o.status);

export function describeLedgerConformance(name: string, makeHarness: () => Promise<LedgerHarness>): void {
  describe(`ledger conformance (${name})`, () => {
    let harness: LedgerHarness;
    let ledger: Ledger;
    let clock: FakeClock;
    let chain: SignedChainEvent[];
    let other: SignedChainEvent[];

    beforeEach(async () => {
      harness = await makeHarness();
      clock = new FakeClock();
      ledger = await harness.open(clock);
      chain = await signChain(signerA, STORE, T1, 12);
      other = await signChain(signerB, STORE, T1, 12);
    });
    afterEach(async () => {
      await ledger.close();
      await harness.destroy();
    });

    it('ledger - a terminal without events has the empty head', async () => {
      expect(await ledger.head(STORE, T1)).toEqual({ seq: 0, hash: '' });
      expect(await ledger.readEvents(STORE, T1, 0, 10)).toEqual([]);
      expect(await ledger.listHeads(STORE, '', 10)).toEqual([]);
    });

    it('ledger - appends a chain in order and moves the head to the last hash', async () => {
      const outcomes = await ledger.append(STORE, chain.slice(0, 5).map((e) => item(T1, e)));
      expect(statuses(outcomes)).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted']);
      expect(await ledger.head(STORE, T1)).toEqual({ seq: 5, hash: chain[4]!.hash });
      const events = await ledger.readEvents(STORE, T1, 0, 100);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(events.map((e) => e.jws)).toEqual(chain.slice(0, 5).map((e) => e.jws));
      if (harness.receivedAtFrom === 'clock') expect(events[0]!.receivedAt).toBe(new Date(clock.now()).toISOString());
      else expect(Math.abs(Date.parse(events[0]!.receivedAt) - Date.now())).toBeLessThan(60_000);
    });

    it('ledger - an identical resend is a duplicate and changes nothing', async () => {
      await ledger.append(STORE, chain.slice(0, 3).map((e) => item(T1, e)));
      const before = await ledger.readEvents(STORE, T1, 0, 100);
      clock.advance(60_000);
      const outcomes = await ledger.append(STORE, chain.slice(0, 3).map((e) => item(T1, e)));
      expect(statuses(outcomes)).toEqual(['duplicate', 'duplicate', 'duplicate']);
      expect(await ledger.readEvents(STORE, T1, 0, 100)).toEqual(before);
      expect(await ledger.head(STORE, T1)).toEqual({ seq: 3, hash: chain[2]!.hash });
    });

    it('ledger - different bytes at a stored seq are a CONFLICT and never overwrite', async () => {
      await ledger.append(STORE, chain.slice(0, 3).map((e) => item(T1, e)));
      const outcomes = await ledger.append(STORE, [item(T1, other[0]!), item(T1, other[2]!)]);
      expect(statuses(outcomes)).toEqual(['CONFLICT', 'CONFLICT']);
      expect((await ledger.readEvents(STORE, T1, 0, 100)).map((e) => e.jws)).toEqual(chain.slice(0, 3).map((e) => e.jws));
    });

    it('ledger - a seq past head+1 is a SEQ_GAP that names the expected seq', async () => {
      await ledger.append(STORE, chain.slice(0, 2).map((e) => item(T1, e)));
      const outcomes = await ledger.append(STORE, [item(T1, chain[4]!)]);
      expect(outcomes).toEqual([{ status: 'rejected', code: 'SEQ_GAP', expected: 3 }]);
      expect(await ledger.head(STORE, T1)).toEqual({ seq: 2, hash: chain[1]!.hash });
    });

    it('ledger - a prev that is not the head hash is BAD_CHAIN', async () => {
      await ledger.append(STORE, chain.slice(0, 2).map((e) => item(T1, e)));
      const outcomes = await ledger.append(STORE, [item(T1, other[2]!)]);
      expect(statuses(outcomes)).toEqual(['BAD_CHAIN']);
      const first = await ledger.append('s-2', [{ ...item(T1, chain[0]!), prev: chainHash('x') }]);
      expect(statuses(first)).toEqual(['BAD_CHAIN']);
      expect(await ledger.head(STORE, T1)).toEqual({ seq: 2, hash: chain[1]!.hash });
    });

    it('ledger - later items of one append see the heads moved by earlier ones', async () => {
      const outcomes = await ledger.append(STORE, [
        item(T1, chain[0]!),
        item(T1, chain[1]!),
        item(T1, chain[1]!), // duplicate of an item of this very call
        item(T1, other[2]!), // BAD_CHAIN
        item(T1, chain[3]!), // after a rejected one: gap
        item(T1, chain[2]!),
        item(T1, chain[3]!),
      ]);
      expect(statuses(outcomes)).toEqual(['accepted', 'accepted', 'duplicate', 'BAD_CHAIN', 'SEQ_GAP', 'accepted', 'accepted']);
      expect(outcomes[4]).toEqual({ status: 'rejected', code: 'SEQ_GAP', expected: 3 });
      expect(await ledger.head(STORE, T1)).toEqual({ seq: 4, hash: chain[3]!.hash });
    });

    it('ledger - concurrent appends of one terminal through two replicas store each seq exactly once', async () => {
      // Eight callers race with overlapping windows of the same chain, as replicas would.
      const replica = await harness.openReplica(clock, ledger);
      const windows = [0, 0, 2, 4, 1, 3, 0, 6].map((start) => chain.slice(start, start + 6).map((e) => item(T1, e)));
      const all = await Promise.all(windows.map((w, i) => (i % 2 === 0 ? ledger : replica).append(STORE, w)));
      if (replica !== ledger) await replica.close();
      const accepted = new Map<number, number>();
      all.forEach((outcomes, i) =>
        outcomes.forEach((o, j) => {
          if (o.status === 'accepted') accepted.set(windows[i]![j]!.seq, (accepted.get(windows[i]![j]!.seq) ?? 0) + 1);
        }),
      );
      expect([...accepted.values()].every((n) => n === 1)).toBe(true);
      const head = await ledger.head(STORE, T1);
      expect([...accepted.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: head.seq }, (_, i) => i + 1));
      const events = await ledger.readEvents(STORE, T1, 0, 100);
      expect(events.map((e) => e.jws)).toEqual(chain.slice(0, head.seq).map((e) => e.jws));
    });

    it('ledger - terminals and stores are separate chains', async () => {
      const t2 = await signChain(signerB, STORE, 't-2', 2);
      await ledger.append(STORE, [item(T1, chain[0]!), item('t-2', t2[0]!), item('t-2', t2[1]!)]);
      await ledger.append('s-2', [item(T1, other[0]!)]);
      expect(await ledger.listHeads(STORE, '', 10)).toEqual([
        { terminal: T1, seq: 1, hash: chain[0]!.hash },
        { terminal: 't-2', seq: 2, hash: t2[1]!.hash },
      ]);
      expect(await ledger.listHeads(STORE, T1, 10)).toEqual([{ terminal: 't-2', seq: 2, hash: t2[1]!.hash }]);
      expect((await ledger.readEvents('s-2', T1, 0, 10)).map((e) => e.jws)).toEqual([other[0]!.jws]);
    });

    it('ledger - reads page by after and limit', async () => {
      await ledger.append(STORE, chain.map((e) => item(T1, e)));
      expect((await ledger.readEvents(STORE, T1, 0, 5)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect((await ledger.readEvents(STORE, T1, 9, 5)).map((e) => e.seq)).toEqual([10, 11, 12]);
      expect(await ledger.readEvents(STORE, T1, 12, 5)).toEqual([]);
    });

    it('ledger - enrollment adds a key once and never replaces it', async () => {
      const rec = { terminal: T1, kid: signerA.kid, publicKey: signerA.publicKeyRaw, at: '2026-11-22T09:00:00Z' };
      const forged = { ...rec, publicKey: signerB.publicKeyRaw };
      expect(await ledger.enroll(STORE, [rec, rec])).toEqual(['added', 'exists']);
      expect(await ledger.enroll(STORE, [rec, forged])).toEqual(['exists', 'conflict']);
      expect(await ledger.getKey(STORE, T1, signerA.kid)).toEqual(signerA.publicKeyRaw);
      expect(await ledger.getKey('s-2', T1, signerA.kid)).toBeUndefined();
      expect(await ledger.getKey(STORE, 't-2', signerA.kid)).toBeUndefined();
      const racing = await Promise.all([1, 2, 3, 4].map(() => ledger.enroll(STORE, [{ ...rec, terminal: 't-3' }])));
      expect(racing.flat().sort()).toEqual(['added', 'exists', 'exists', 'exists']);
      // The enrollment time is text as sent; U+0000 (which PostgreSQL text cannot hold) is stored as U+FFFD.
      expect(await ledger.enroll(STORE, [{ ...rec, terminal: 't-4', at: '2026\u0000' }])).toEqual(['added']);
      expect((await ledger.listKeys(STORE, 't-4'))[0]!.enrolledAt).toBe('2026\ufffd');
    });

    it('ledger - keeps keys, heads and events across a restart', async () => {
      const rec = { terminal: T1, kid: signerA.kid, publicKey: signerA.publicKeyRaw, at: '2026-11-22T09:00:00Z' };
      await ledger.enroll(STORE, [rec]);
      await ledger.append(STORE, chain.slice(0, 4).map((e) => item(T1, e)));
      const before = await ledger.readEvents(STORE, T1, 0, 100);
      await ledger.close();
      ledger = await harness.open(clock);
      expect(await ledger.getKey(STORE, T1, signerA.kid)).toEqual(signerA.publicKeyRaw);
      expect(await ledger.head(STORE, T1)).toEqual({ seq: 4, hash: chain[3]!.hash });
      expect(await ledger.readEvents(STORE, T1, 0, 100)).toEqual(before);
      const outcomes = await ledger.append(STORE, chain.slice(2, 6).map((e) => item(T1, e)));
      expect(statuses(outcomes)).toEqual(['duplicate', 'duplicate', 'accepted', 'accepted']);
    });

    it('ledger - close waits for a running append, which completes', async () => {
      const running = ledger.append(STORE, chain.map((e) => item(T1, e)));
      const closing = ledger.close();
      expect(ledger.state).toBe('closing');
      expect(statuses(await running).every((s) => s === 'accepted')).toBe(true);
      await closing;
      expect(ledger.state).toBe('closed');
      ledger = await harness.open(clock);
      expect((await ledger.head(STORE, T1)).seq).toBe(12);
    });

    it('ledger - every accepted event gets the next feed position, with its decoded fields beside the JWS', async () => {
      expect(await ledger.feedHead()).toBe(0);
      expect(await ledger.readFeed(0, 10)).toEqual([]);
      const t2 = await signChain(signerB, STORE, 't-2', 2);
      await ledger.append(STORE, [item(T1, chain[0]!), item('t-2', t2[0]!), item(T1, chain[1]!)]);
      await ledger.append(STORE, [item(T1, chain[1]!), item(T1, chain[2]!), item('t-2', t2[1]!)]); // one duplicate
      await ledger.append(STORE, [item(T1, chain[7]!)]); // SEQ_GAP: no position
      const feed = await ledger.readFeed(0, 100);
      expect(feed.map((e) => `${e.terminal}/${e.seq}`)).toEqual(['t-1/1', 't-2/1', 't-1/2', 't-1/3', 't-2/2']);
      const positions = feed.map((e) => e.position);
      expect(positions.every((p, i) => p >= 1 && (i === 0 || p > positions[i - 1]!))).toBe(true);
      expect(await ledger.feedHead()).toBe(positions[4]);
      const first = feed[0]!;
      const p = chain[0]!.payload;
      expect(first).toMatchObject({ store: STORE, terminal: T1, seq: 1, jws: chain[0]!.jws });
      expect(first.event).toEqual({ id: p.id, type: p.type, at: p.at, amount: p.amount, currency: p.currency, outcome: p.outcome, mode: p.mode });
      expect((await ledger.readEvents(STORE, T1, 0, 1))[0]!.receivedAt).toBe(first.receivedAt);
      expect((await ledger.readFeed(positions[1]!, 2)).map((e) => e.position)).toEqual(positions.slice(2, 4));
      expect(await ledger.readFeed(positions[4]!, 10)).toEqual([]);
      await ledger.close();
      ledger = await harness.open(clock);
      expect(await ledger.readFeed(0, 100)).toEqual(feed);
      expect(await ledger.feedHead()).toBe(positions[4]);
    });

    it('ledger - a feed reader never later finds a new entry at or below a position it has read', async () => {
      const replica = await harness.openReplica(clock, ledger);
      const terminals = ['f-1', 'f-2', 'f-3', 'f-4', 'f-5', 'f-6'];
      const chains = await Promise.all(terminals.map((t) => signChain(signerA, STORE, t, 30)));
      const seen: number[] = [];
      let cursor = 0;
      let writing = true;
      const reader = (async () => {
        for (;;) {
          const done = !writing;
          const page = await ledger.readFeed(cursor, 7);
          for (const e of page) seen.push(e.position);
          if (page.length > 0) cursor = page[page.length - 1]!.position;
          if (done && page.length === 0) return;
        }
      })();
      // Six writers, alternating replicas, each appending its terminal's chain in batches of 3.
      await Promise.all(chains.map(async (c, i) => {
        for (let k = 0; k < c.length; k += 3) {
          await (i % 2 === 0 ? ledger : replica).append(STORE, c.slice(k, k + 3).map((e) => item(terminals[i]!, e)));
        }
      }));
      writing = false;
      await reader;
      const all = (await ledger.readFeed(0, 1000)).map((e) => e.position);
      expect(all).toHaveLength(180);
      expect(seen).toEqual(all);
      if (replica !== ledger) await replica.close();
    });

    it('ledger - a revoked key is refused above its point (KEY_REVOKED) and still accepted at or below it', async () => {
      const rec = { terminal: T1, kid: signerA.kid, publicKey: signerA.publicKeyRaw, at: '2026-11-22T09:00:00Z' };
      await ledger.enroll(STORE, [rec, { ...rec, terminal: 't-2' }]);
      expect(await ledger.revokeKey(STORE, T1, signerB.kid)).toBeUndefined();
      await ledger.append(STORE, chain.slice(0, 3).map((e) => item(T1, e)));
      const revoked = await ledger.revokeKey(STORE, T1, signerA.kid);
      expect(revoked).toMatchObject({ terminal: T1, kid: signerA.kid, publicKey: signerA.publicKeyRaw.toString('base64url'), enrolledAt: rec.at, revokedAfterSeq: 3 });
      expect(typeof revoked!.revokedAt).toBe('string');
      expect(statuses(await ledger.append(STORE, chain.slice(1, 5).map((e) => item(T1, e))))).toEqual(['duplicate', 'duplicate', 'KEY_REVOKED', 'KEY_REVOKED']);
      expect((await ledger.head(STORE, T1)).seq).toBe(3);
      // Idempotent, and the point never moves up...
      clock.advance(60_000);
      expect(await ledger.revokeKey(STORE, T1, signerA.kid)).toEqual(revoked);
      expect(await ledger.revokeKey(STORE, T1, signerA.kid, 9)).toEqual(revoked);
      // ...only down.
      const lowered = await ledger.revokeKey(STORE, T1, signerA.kid, 1);
      expect(lowered).toEqual({ ...revoked, revokedAfterSeq: 1 });
      expect(statuses(await ledger.append(STORE, [item(T1, chain[0]!), item(T1, chain[1]!)]))).toEqual(['duplicate', 'KEY_REVOKED']);
      expect(await ledger.listKeys(STORE, T1)).toEqual([lowered]);
      expect(await ledger.getKeys(STORE, [{ terminal: T1, kid: signerA.kid }, { terminal: 't-2', kid: signerA.kid }, { terminal: 't-9', kid: signerA.kid }])).toEqual([
        { publicKey: signerA.publicKeyRaw, revokedAfterSeq: 1 },
        { publicKey: signerA.publicKeyRaw, revokedAfterSeq: null },
        undefined,
      ]);
      // The same key enrolled for another terminal is another key record: untouched.
      const t2 = await signChain(signerA, STORE, 't-2', 2);
      expect(statuses(await ledger.append(STORE, t2.map((e) => item('t-2', e))))).toEqual(['accepted', 'accepted']);
      await ledger.close();
      ledger = await harness.open(clock);
      expect(await ledger.listKeys(STORE, T1)).toEqual([lowered]);
    });

    it('ledger - revoking the key of a terminal without events refuses every event it signs', async () => {
      await ledger.enroll(STORE, [{ terminal: T1, kid: signerA.kid, publicKey: signerA.publicKeyRaw, at: '2026-11-22T09:00:00Z' }]);
      expect((await ledger.revokeKey(STORE, T1, signerA.kid))?.revokedAfterSeq).toBe(0);
      expect(statuses(await ledger.append(STORE, [item(T1, chain[0]!)]))).toEqual(['KEY_REVOKED']);
      expect(await ledger.listHeads(STORE, '', 10)).toEqual([]);
    });

    it('ledger - an event id already stored at another seq of the store is DUPLICATE_ID; an identical resend stays a duplicate', async () => {
      await ledger.append(STORE, chain.slice(0, 2).map((e) => item(T1, e)));
      const reused = await signOne(signerB, STORE, 't-2', 1, '', { id: chain[0]!.payload.id });
      const upper = await signOne(signerB, STORE, 't-3', 1, '', { id: chain[1]!.payload.id.toUpperCase() });
      expect(statuses(await ledger.append(STORE, [item('t-2', reused), item('t-3', upper), item(T1, chain[0]!)]))).toEqual(['DUPLICATE_ID', 'DUPLICATE_ID', 'duplicate']);
      expect(await ledger.head(STORE, 't-2')).toEqual({ seq: 0, hash: '' });
      // Unique per store: another store may hold the same id.
      const elsewhere = await signOne(signerB, 's-2', 't-2', 1, '', { id: chain[0]!.payload.id });
      expect(statuses(await ledger.append('s-2', [item('t-2', elsewhere)]))).toEqual(['accepted']);
      // Two events with one id in one call: the second is refused.
      const a = await signOne(signerB, STORE, 't-4', 1, '', { id: '0190a0b0-0000-7000-8000-000000000001' });
      const b = await signOne(signerB, STORE, 't-4', 2, a.hash, { id: '0190a0b0-0000-7000-8000-000000000001' });
      expect(statuses(await ledger.append(STORE, [item('t-4', a), item('t-4', b)]))).toEqual(['accepted', 'DUPLICATE_ID']);
      expect((await ledger.readFeed(0, 100)).filter((e) => e.event.id === a.payload.id).map((e) => `${e.terminal}/${e.seq}`)).toEqual(['t-4/1']);
    });

    it('ledger - two replicas racing with one event id on two terminals accept exactly one', async () => {
      const replica = await harness.openReplica(clock, ledger);
      for (let round = 0; round < 8; round++) {
        const id = `0190a0b0-0000-7000-8000-${String(round).padStart(12, '0')}`;
        const x = await signOne(signerA, STORE, `x-${round}`, 1, '', { id });
        const y = await signOne(signerB, STORE, `y-${round}`, 1, '', { id });
        const [rx, ry] = await Promise.all([ledger.append(STORE, [item(`x-${round}`, x)]), replica.append(STORE, [item(`y-${round}`, y)])]);
        expect([...statuses(rx!), ...statuses(ry!)].sort()).toEqual(['DUPLICATE_ID', 'accepted']);
      }
      if (replica !== ledger) await replica.close();
    });

    it('ledger - two replicas racing on the first events of a terminal store each seq once', async () => {
      const replica = await harness.openReplica(clock, ledger);
      for (let round = 0; round < 6; round++) {
        const terminal = `r-${round}`;
        const c = await signChain(signerA, STORE, terminal, 4);
        // The same batch through both replicas at the same moment, as a gateway retry after a lost answer does.
        const [a, b] = await Promise.all([ledger.append(STORE, c.map((e) => item(terminal, e))), replica.append(STORE, c.map((e) => item(terminal, e)))]);
        for (let i = 0; i < 4; i++) expect([a![i]!.status, b![i]!.status].sort()).toEqual(['accepted', 'duplicate']);
        expect((await replica.readEvents(STORE, terminal, 0, 10)).map((e) => e.jws)).toEqual(c.map((e) => e.jws));
      }
      const feed = await ledger.readFeed(0, 100);
      expect(feed).toHaveLength(24);
      expect(new Set(feed.map((e) => e.position)).size).toBe(24);
      if (replica !== ledger) await replica.close();
    });

    it('ledger - on a closed ledger every call fails with LEDGER_CLOSED', async () => {
      await ledger.close();
      await ledger.close(); // idempotent
      expect(ledger.state).toBe('closed');
      const rec = { terminal: T1, kid: signerA.kid, publicKey: signerA.publicKeyRaw, at: '2026-11-22T09:00:00Z' };
      const calls: Array<() => Promise<unknown>> = [
        () => ledger.enroll(STORE, [rec]),
        () => ledger.getKey(STORE, T1, signerA.kid),
        () => ledger.head(STORE, T1),
        () => ledger.listHeads(STORE, '', 10),
        () => ledger.append(STORE, [item(T1, chain[0]!)]),
        () => ledger.append(STORE, []),
        () => ledger.readEvents(STORE, T1, 0, 10),
        () => ledger.getKeys(STORE, [{ terminal: T1, kid: signerA.kid }]),
        () => ledger.listKeys(STORE, T1),
        () => ledger.revokeKey(STORE, T1, signerA.kid),
        () => ledger.readFeed(0, 10),
        () => ledger.feedHead(),
      ];
      for (const call of calls) await expect(call()).rejects.toMatchObject({ code: 'LEDGER_CLOSED' });
      ledger = await harness.open(clock);
    });
  });
}
