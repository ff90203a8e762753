/**
 * Reads a terminal's events back from the cloud's read API (DESIGN §3.4) and checks the guarantee
 * of DESIGN §4: every published event exactly once, in seq order, byte-identical, chain valid.
 */
import { expect } from 'vitest';
import { chainHash } from '../../../protocol/chain.js';
import { decodeEvent } from '../../../protocol/jws.js';
import { eventsPageSchema } from '../../../protocol/ingest-api.js';
import { ADMIN_TOKEN, STORE, type TestTerminal } from './terminals.js';

const PAGE = 1000;

export async function cloudEvents(cloudUrl: string, terminal: string): Promise<{ seq: number; jws: string }[]> {
  const out: { seq: number; jws: string }[] = [];
  for (;;) {
    const after = out.length === 0 ? 0 : (out[out.length - 1] as { seq: number }).seq;
    const res = await fetch(`${cloudUrl}/v1/stores/${STORE}/terminals/${terminal}/events?after=${after}&limit=${PAGE}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    if (res.status !== 200) throw new Error(`read ${terminal}: HTTP ${res.status}`);
    const page = eventsPageSchema.parse(await res.json());
    out.push(...page.events.map((e) => ({ seq: e.seq, jws: e.jws })));
    if (page.events.length < PAGE) return out;
  }
}

/** Total events the cloud holds for these terminals (for waitFor). */
export async function cloudCount(cloudUrl: string, terminals: readonly TestTerminal[]): Promise<number> {
  let n = 0;
  for (const t of terminals) {
    const res = await fetch(`${cloudUrl}/v1/stores/${STORE}/terminals/${t.terminal}/events?after=0&limit=1`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    if (res.status !== 200) return -1;
    n += eventsPageSchema.parse(await res.json()).head;
  }
  return n;
}

/** Every published event once, in order, identical bytes, and the chain links. */
export async function expectExactlyOnceInOrder(cloudUrl: string, terminals: readonly TestTerminal[], publishedEach: (t: TestTerminal) => number): Promise<void> {
  for (const t of terminals) {
    const stored = await cloudEvents(cloudUrl, t.terminal);
    const n = publishedEach(t);
    expect(stored.map((e) => e.seq), t.terminal).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(stored.map((e) => e.jws)).toEqual(t.events.slice(0, n).map((e) => e.jws));
    let prev = '';
    for (const e of stored) {
      expect(decodeEvent(e.jws).payload.prev).toBe(prev);
      prev = chainHash(e.jws);
    }
  }
}
