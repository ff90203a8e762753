/** Builds valid signed event chains for tests and benchmarks. */
import { createHash } from 'node:crypto';
import { chainHash } from '../../protocol/chain.js';
import type { EventPayload } from '../../protocol/event.js';
import { signEvent } from '../../protocol/jws.js';
import { KeyObjectSigner } from '../../protocol/signer.js';

/** A deterministic signer per name, so tests are repeatable. */
export function testSigner(name: string): KeyObjectSigner {
  return KeyObjectSigner.fromSeed(createHash('sha256').update(`tillgate-test-key:${name}`).digest());
}

export function testUuid(terminal: string, seq: number): string {
  const h = createHash('sha256').update(`${terminal}:${seq}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function samplePayload(store: string, terminal: string, seq: number, prev: string, overrides: Partial<EventPayload> = {}): EventPayload {
  return {
    v: 1,
    store,
    terminal,
    seq,
    prev,
    id: testUuid(terminal, seq),
    type: 'payment',
    at: new Date(Date.UTC(2026, 10, 22, 9, 0, 0) + seq * 1000).toISOString(),
    amount: 100 + seq,
    currency: 'EUR',
    outcome: 'approved',
    mode: 'online',
    card: { brand: 'visa', last4: '4242' },
    ...overrides,
  };
}

export interface SignedChainEvent {
  readonly seq: number;
  readonly jws: string;
  readonly hash: string;
  readonly payload: EventPayload;
}

/** Signs `count` consecutive events starting after `(fromSeq, fromHash)`. */
export async function signChain(
  signer: KeyObjectSigner,
  store: string,
  terminal: string,
  count: number,
  from: { seq: number; hash: string } = { seq: 0, hash: '' },
): Promise<SignedChainEvent[]> {
  const out: SignedChainEvent[] = [];
  let prev = from.hash;
  for (let i = 1; i <= count; i++) {
    const payload = samplePayload(store, terminal, from.seq + i, prev);
    const jws = await signEvent(payload, signer);
    prev = chainHash(jws);
    out.push({ seq: payload.seq, jws, hash: prev, payload });
  }
  return out;
}
