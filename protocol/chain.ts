/** The chain hash of DESIGN §3.2: base64url(SHA-256(ASCII bytes of the compact JWS)). */
import { createHash } from 'node:crypto';

export function chainHash(jws: string): string {
  return createHash('sha256').update(jws, 'latin1').digest('base64url');
}

/** Where a terminal's chain stands at a receiver: the last stored seq and its chain hash. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const EMPTY_HEAD: ChainHead = Object.freeze({ seq: 0, hash: '' });

export type SequenceVerdict =
  | { readonly kind: 'next' }
  | { readonly kind: 'past' }
  | { readonly kind: 'gap'; readonly expected: number }
  | { readonly kind: 'bad-chain' };

/**
 * Places an incoming event against the receiver's head (DESIGN §3.3 rules):
 * `next` appends, `past` must be compared byte for byte with the stored event (duplicate or
 * CONFLICT), `gap` is SEQ_GAP with `expected = head + 1`, `bad-chain` is BAD_CHAIN.
 */
export function classifySequence(head: ChainHead, seq: number, prev: string): SequenceVerdict {
  if (seq <= head.seq) return { kind: 'past' };
  if (seq > head.seq + 1) return { kind: 'gap', expected: head.seq + 1 };
  return prev === head.hash ? { kind: 'next' } : { kind: 'bad-chain' };
}
