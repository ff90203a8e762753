/** Equal-time comparison of secrets: hashing first makes the lengths equal, so timing tells nothing. */
import { createHash, timingSafeEqual } from 'node:crypto';

export function secretEquals(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
