/** Strict base64url (RFC 4648 §5, no padding), as JWS requires (RFC 7515 §2). */

const B64URL = /^[A-Za-z0-9_-]*$/;

export function encode(data: Uint8Array | string): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * Decodes canonical base64url only. Node's decoder accepts padding, other alphabets and
 * non-zero trailing bits; accepting those would let two different strings carry the same bytes,
 * and the chain hash is taken over the string, so we insist on the one canonical form.
 */
export function decode(text: string): Buffer | undefined {
  if (!B64URL.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}
