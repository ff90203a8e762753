/**
 * Encryption at rest as a LevelDB value encoding: the one seam every store uses. A sublevel opened
 * with `valueEncoding: sealedJson(codec)` (or `sealedUtf8`) seals each value on its way to disk and
 * opens it on its way back; nothing else in the store changes. Values written before encryption at
 * rest (plain JSON/UTF-8) are read as they are, until the background re-encryption seals them.
 * Keys are not encrypted: they hold ids, sequence numbers and positions, never money or card data.
 */
import type { SealCodec } from './seal.js';

/** The shape abstract-level accepts as a custom encoding (level-transcoder's encoding interface). */
export interface LevelValueEncoding<T> {
  readonly name: string;
  readonly format: 'buffer';
  encode(data: T): Buffer;
  decode(data: Buffer): T;
}

let serial = 0;
/** Transcoders cache encodings by name: every codec gets its own name so two databases never mix keys. */
const uniqueName = (kind: string) => `tillgate-sealed-${kind}-${++serial}`;

/** JSON values, sealed. */
export function sealedJson<T = unknown>(codec: SealCodec): LevelValueEncoding<T> {
  return {
    name: uniqueName('json'),
    format: 'buffer',
    encode: (data: T) => codec.seal(Buffer.from(JSON.stringify(data), 'utf8')),
    decode: (data: Buffer) => JSON.parse(codec.open(data).toString('utf8')) as T,
  };
}

/** String values (a store that serialises its own JSON), sealed. */
export function sealedUtf8(codec: SealCodec): LevelValueEncoding<string> {
  return {
    name: uniqueName('utf8'),
    format: 'buffer',
    encode: (data: string) => codec.seal(Buffer.from(data, 'utf8')),
    decode: (data: Buffer) => codec.open(data).toString('utf8'),
  };
}
