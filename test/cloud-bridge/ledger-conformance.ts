/**
 * The `Ledger` contract written once (STYLE 4), run against every implementation: LevelDB now,
 * PostgreSQL later. A harness opens the same underlying storage again after a close, so restarts
 * are part of the contract.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainHash } from '../../protocol/chain.js';
import type { AppendItem, Ledger } from '../../cloud-bridge/ledger.js';
import { FakeClock } from '../support/fake-clock.js';
import { signChain, testSigner, type SignedChainEvent } from '../support/events.js';

export interface LedgerHarness {
  /** Opens the harness's storage (the same one every time); the previous ledger is closed first. */
  open(clock: FakeClock): Promise<Ledger>;
  /** Removes the storage. */
  destroy(): Promise<void>;
}

const STORE = 's-1';
const T1 = 't-1';
const signerA = testSigner('conformance-a');
const signerB = testSigner('conformance-b');

const item = (terminal: string, e: SignedChainEvent): AppendItem => ({ terminal, seq: e.seq, prev: e.payload.prev, jws: e.jws });
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
      expect(events[0]!.receivedAt).toBe(new Date(clock.now()).toISOString());
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
      const first = await ledger.append('s-2', [{ terminal: T1, seq: 1, prev: chainHash('x'), jws: chain[0]!.jws }]);
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

    it('ledger - concurrent appends of one terminal store each seq exactly once', async () => {
      // Eight callers race with overlapping windows of the same chain, as replicas would.
      const windows = [0, 0, 2, 4, 1, 3, 0, 6].map((start) => chain.slice(start, start + 6).map((e) => item(T1, e)));
      const all = await Promise.all(windows.map((w) => ledger.append(STORE, w)));
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
      ];
      for (const call of calls) await expect(call()).rejects.toMatchObject({ code: 'LEDGER_CLOSED' });
      ledger = await harness.open(clock);
    });
  });
}
