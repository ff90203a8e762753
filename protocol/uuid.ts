/** UUID v7 (RFC 9562 §5.7) with injected time and randomness, so ids are testable. */
import { randomFillSync } from 'node:crypto';

export type RandomBytes = (size: number) => Uint8Array;

export const cryptoRandom: RandomBytes = (size) => randomFillSync(new Uint8Array(size));

export function uuidv7(nowMs: number, random: RandomBytes = cryptoRandom): string {
  const b = new Uint8Array(16);
  b.set(random(10), 6);
  let ms = Math.floor(nowMs);
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = 0x70 | ((b[6] ?? 0) & 0x0f);
  b[8] = 0x80 | ((b[8] ?? 0) & 0x3f);
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
