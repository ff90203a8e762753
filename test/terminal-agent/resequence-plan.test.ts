/**
 * The pure parts of "no terminal stays stuck": what each reject code means (an open set: an
 * unknown code is a permanent refusal of that one event), what a re-sequence delivers, sets aside
 * and moves, and re-signing keeps every event's id and content while seq, prev and signature change.
 */
import { describe, expect, it } from 'vitest';
import { chainHash } from '../../protocol/chain.js';
import { decodeEvent, verifyEventSignature } from '../../protocol/jws.js';
import { publicKeyFromRaw } from '../../protocol/keys.js';
import { settleAnswer, type AnswerInput } from '../../terminal-agent/answers.js';
import { blockOf, recordRefusal } from '../../terminal-agent/chain-state.js';
import type { OutboxRecord } from '../../terminal-agent/outbox/outbox.js';
import { refusalAction } from '../../terminal-agent/refusal.js';
import { decideResequence, resign, type Refusal } from '../../terminal-agent/resequence.js';
import { signChain, testSigner } from '../support/events.js';

const pending = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, id: `id-${from + i}` }));
const head = (seq: number) => ({ seq, hash: `h${seq}` });
const refusal = (seq: number, action: Refusal['action'], code = 'PAN_DETECTED'): Refusal => ({ seq, id: `id-${seq}`, code, message: 'm', action });

describe('refusal codes', () => {
  it('refusal - maps each known code to its action and any other code to set-aside', () => {
    expect(refusalAction('STORE_FULL')).toBe('retry-later');
    expect(refusalAction('UNKNOWN_KEY')).toBe('retry-later');
    expect(refusalAction('SEQ_GAP', 4)).toBe('rewind');
    expect(refusalAction('SEQ_GAP')).toBe('resequence'); // no `expected` to rewind to
    expect(refusalAction('CONFLICT')).toBe('resequence');
    expect(refusalAction('BAD_CHAIN')).toBe('resequence');
    expect(refusalAction('DUPLICATE_ID')).toBe('delivered');
    for (const code of ['PAN_DETECTED', 'SCHEMA', 'BAD_SIGNATURE', 'IDENTITY_MISMATCH', 'TOO_LARGE', 'KEY_REVOKED', 'NEWER_GATEWAY_CODE', 'TO_STRING', 'CONSTRUCTOR']) {
      expect(refusalAction(code), code).toBe('set-aside');
    }
  });

  it('chain state - refuses records with a code while resyncing or held, and names the blocking event', () => {
    expect(recordRefusal({ kind: 'in-step' })).toBeUndefined();
    expect(recordRefusal({ kind: 'resyncing', reason: 'gateway-ahead' })?.code).toBe('RESYNCING');
    expect(recordRefusal({ kind: 'resyncing', reason: 'diverged' })?.code).toBe('RESYNCING');
    expect(recordRefusal({ kind: 'resyncing', reason: 'refused', seq: 3, code: 'PAN_DETECTED' })).toBeUndefined(); // records are moved with the rest
    expect(recordRefusal({ kind: 'held', seq: 4, code: 'SCHEMA' })?.code).toBe('CHAIN_BLOCKED');
    expect(blockOf({ kind: 'held', seq: 4, code: 'SCHEMA' })).toEqual({ seq: 4, code: 'SCHEMA' });
    expect(blockOf({ kind: 'resyncing', reason: 'refused', seq: 7, code: 'PAN_DETECTED' })).toEqual({ seq: 7, code: 'PAN_DETECTED' });
    expect(blockOf({ kind: 'resyncing', reason: 'diverged' })).toBeUndefined();
  });
});

describe('settleAnswer', () => {
  const answer = (refusal?: { code: string; expected?: number }, over: Partial<AnswerInput> = {}): AnswerInput => ({
    entry: { seq: 7, id: 'id-7', superseded: false, refusal: refusal === undefined ? undefined : { seq: 7, id: 'id-7', message: 'm', ...refusal } },
    chain: { kind: 'in-step' }, ackedSeq: 4, setAsideInARow: 0, maxConsecutiveSetAside: 3, ...over,
  });

  it('answers - maps each answer to what the publisher does', () => {
    expect(settleAnswer(answer())).toEqual({ kind: 'accepted', seq: 7, releasesHold: false });
    expect(settleAnswer({ ...answer({ code: 'SCHEMA' }), entry: { ...answer({ code: 'SCHEMA' }).entry, superseded: true } })).toEqual({ kind: 'ignore' });
    expect(settleAnswer(answer({ code: 'STORE_FULL' }))).toEqual({ kind: 'retry-later', fromSeq: 7 });
    expect(settleAnswer(answer({ code: 'SEQ_GAP', expected: 6 }))).toEqual({ kind: 'rewind', toSeq: 6 });
    expect(settleAnswer(answer({ code: 'SEQ_GAP', expected: 3 }))).toEqual({ kind: 'hold', seq: 3, code: 'GATEWAY_BEHIND' });
    expect(settleAnswer(answer({ code: 'CONFLICT' }))).toMatchObject({ kind: 'resequence', refusal: { seq: 7, id: 'id-7', action: 'resequence' } });
    expect(settleAnswer(answer({ code: 'BRAND_NEW_CODE' }))).toMatchObject({ kind: 'resequence', refusal: { code: 'BRAND_NEW_CODE', action: 'set-aside' } });
    expect(settleAnswer(answer({ code: 'DUPLICATE_ID' }))).toMatchObject({ kind: 'resequence', refusal: { action: 'delivered' } });
  });

  it('answers - a SEQ_GAP below the acked seq rewinds onto the kept events when the outbox still holds them, and holds when it does not', () => {
    const kept = { canRewindTo: (seq: number) => seq >= 2 };
    expect(settleAnswer(answer({ code: 'SEQ_GAP', expected: 3 }, kept))).toEqual({ kind: 'rewind-retained', toSeq: 3 });
    expect(settleAnswer(answer({ code: 'SEQ_GAP', expected: 2 }, kept))).toEqual({ kind: 'hold', seq: 2, code: 'GATEWAY_BEHIND' });
  });

  it('answers - holds at the refusal after maxConsecutiveSetAside in a row, stays held while refused, and is released by an accepted answer', () => {
    expect(settleAnswer(answer({ code: 'PAN_DETECTED' }, { setAsideInARow: 3 }))).toEqual({ kind: 'hold', seq: 7, code: 'PAN_DETECTED' });
    expect(settleAnswer(answer({ code: 'CONFLICT' }, { setAsideInARow: 3 }))).toMatchObject({ kind: 'resequence' }); // a move is no refusal of the payment
    const held = { chain: { kind: 'held', seq: 7, code: 'PAN_DETECTED' } as const };
    expect(settleAnswer(answer({ code: 'PAN_DETECTED' }, held))).toEqual({ kind: 'still-held' });
    expect(settleAnswer(answer(undefined, held))).toEqual({ kind: 'accepted', seq: 7, releasesHold: true });
  });
});

describe('decideResequence', () => {
  it('resequence - sets the refused event aside and moves the ones after it onto the gateway head', () => {
    const d = decideResequence({ acked: head(2), head: head(8), pending: pending(3, 8) }, { gateway: head(4), acceptedUpTo: 4, refusal: refusal(5, 'set-aside') });
    expect(d).toEqual({ kind: 'plan', deliveredUpTo: 4, base: head(4), refused: { seq: 5, id: 'id-5', code: 'PAN_DETECTED', message: 'm', outcome: 'set-aside' }, moveSeqs: [6, 7, 8] });
  });

  it('resequence - moves a CONFLICT event with the rest onto a gateway head that is ahead (restore from backup)', () => {
    const d = decideResequence({ acked: head(5), head: head(35), pending: pending(6, 35) }, { gateway: head(10), acceptedUpTo: 5, refusal: refusal(6, 'resequence', 'CONFLICT') });
    expect(d).toMatchObject({ kind: 'plan', deliveredUpTo: 5, base: head(10), moveSeqs: pending(6, 35).map((p) => p.seq) });
    expect(d).not.toHaveProperty('refused');
  });

  it('resequence - drops an event the gateway already holds (DUPLICATE_ID) as delivered', () => {
    const d = decideResequence({ acked: head(3), head: head(6), pending: pending(4, 6) }, { gateway: head(3), acceptedUpTo: 3, refusal: refusal(4, 'delivered', 'DUPLICATE_ID') });
    expect(d).toMatchObject({ refused: { seq: 4, outcome: 'delivered' }, moveSeqs: [5, 6] });
  });

  it('resequence - ignores a refusal that does not name the first event the gateway lacks', () => {
    const stale = decideResequence({ acked: head(3), head: head(6), pending: pending(4, 6) }, { gateway: head(3), acceptedUpTo: 3, refusal: refusal(5, 'set-aside') });
    expect(stale).toMatchObject({ moveSeqs: [4, 5, 6] });
    expect(stale).not.toHaveProperty('refused');
    const otherId = decideResequence({ acked: head(3), head: head(6), pending: pending(4, 6) }, { gateway: head(3), acceptedUpTo: 3, refusal: { ...refusal(4, 'set-aside'), id: 'another' } });
    expect(otherId).not.toHaveProperty('refused');
  });

  it('resequence - adopts a gateway head that is ahead when every pending event was accepted as it is', () => {
    const d = decideResequence({ acked: head(2), head: head(5), pending: pending(3, 5) }, { gateway: head(10), acceptedUpTo: 5 });
    expect(d).toEqual({ kind: 'plan', deliveredUpTo: 5, base: head(10), moveSeqs: [] });
  });

  it('resequence - holds when the gateway is behind what it acknowledged or accepted', () => {
    expect(decideResequence({ acked: head(8), head: head(9), pending: pending(9, 9) }, { gateway: head(5), acceptedUpTo: 8 })).toEqual({ kind: 'hold', seq: 6, code: 'GATEWAY_BEHIND' });
    expect(decideResequence({ acked: head(2), head: head(9), pending: pending(3, 9) }, { gateway: head(4), acceptedUpTo: 6 })).toMatchObject({ kind: 'hold' });
  });
});

describe('resign', () => {
  it('resequence - re-signing keeps id and content, renumbers seq and prev from the base, and signs anew', async () => {
    const signer = testSigner('t-1');
    const chain = await signChain(signer, 's-1', 't-1', 4);
    const records: OutboxRecord[] = chain.slice(1).map((e) => ({ seq: e.seq, id: e.payload.id, jws: e.jws, hash: e.hash, exposureMinor: e.payload.amount, recordedAtMs: e.seq, idempotencyKey: `k${e.seq}` }));
    const base = { seq: 20, hash: chain[0]!.hash };
    const out = await resign(records, base, signer);
    let prev = base.hash;
    out.forEach((r, i) => {
      const before = decodeEvent(records[i]!.jws).payload;
      const after = decodeEvent(r.jws);
      verifyEventSignature(after, publicKeyFromRaw(signer.publicKeyRaw));
      expect(after.payload).toEqual({ ...before, seq: 21 + i, prev });
      expect(r).toMatchObject({ seq: 21 + i, id: before.id, hash: chainHash(r.jws), exposureMinor: records[i]!.exposureMinor, recordedAtMs: records[i]!.recordedAtMs, idempotencyKey: records[i]!.idempotencyKey });
      expect(Object.keys(after.payload)).toEqual(Object.keys(before)); // only seq and prev differ in the bytes
      prev = r.hash;
    });
  });
});
