/**
 * LevelDB key layout. Numbers are zero-padded to 16 digits (Number.MAX_SAFE_INTEGER has 16) so
 * that byte order is numeric order. Terminal ids use `[a-z0-9_-]` only (DESIGN §3.1), so `!`
 * (0x21, below all of them) separates a terminal from its seq and `"` (0x22) bounds a prefix range.
 */
const WIDTH = 16;

export function pad(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`not a key number: ${n}`);
  return n.toString().padStart(WIDTH, '0');
}

export function unpad(key: string): number {
  const n = Number(key);
  if (key.length !== WIDTH || !Number.isSafeInteger(n)) throw new TypeError(`not a padded key: ${key}`);
  return n;
}

/** `events` keyspace: one terminal's events in seq order. */
export const eventKey = (terminal: string, seq: number): string => `${terminal}!${pad(seq)}`;

/** Range covering every key of one terminal in a `terminal!…` keyspace. */
export function terminalRange(terminal: string, fromSeq = 0): { gte: string; lt: string } {
  return { gte: `${terminal}!${pad(fromSeq)}`, lt: `${terminal}"` };
}
