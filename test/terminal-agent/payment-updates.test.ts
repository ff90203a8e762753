/** The terminal's keeper of payment updates (terminal-agent/updates.ts): forward only, bounded, picky. */
import { describe, expect, it } from 'vitest';
import { PaymentUpdates } from '../../terminal-agent/updates.js';
import { FakeClock } from '../support/fake-clock.js';
import { paymentId } from '../cloud-bridge/lifecycle/support.js';

const msg = (o: Record<string, unknown>) => Buffer.from(JSON.stringify({ terminal: 't-1', id: paymentId(1), seq: 3, state: 'captured', charged: true, contradicted: false, ...o }));

describe('terminal payment updates', () => {
  it('terminal updates - keeps the latest state per payment; a late, older update never moves it back', () => {
    const u = new PaymentUpdates('t-1', new FakeClock());
    expect(u.offer(msg({ state: 'refused', contradicted: true }))).toBe(true);
    expect(u.offer(msg({ state: 'captured' }))).toBe(true); // duplicate delivery, out of order
    expect(u.get(paymentId(1))).toMatchObject({ state: 'refused', charged: true, contradicted: true });
    // A state this version does not know (an open set) is kept as it is; contradicted never undoes.
    u.offer(msg({ state: 'chargeback', contradicted: false }));
    expect(u.get(paymentId(1).toUpperCase())).toMatchObject({ state: 'chargeback', contradicted: true });
  });

  it('terminal updates - ignores other terminals\' updates and anything that is not one', () => {
    const u = new PaymentUpdates('t-1', new FakeClock());
    expect(u.offer(msg({ terminal: 't-2' }))).toBe(false);
    expect(u.offer(Buffer.from('not json'))).toBe(false);
    expect(u.offer(msg({ id: 'x' }))).toBe(false);
    expect(u.offer(Buffer.alloc(2_000, 32))).toBe(false);
    expect([u.size, u.ignored]).toEqual([0, 4]);
  });

  it('terminal updates - keeps at most its bound, most recent first; lists contradicted ones', () => {
    const u = new PaymentUpdates('t-1', new FakeClock(), 3);
    for (let i = 0; i < 5; i++) u.offer(msg({ id: paymentId(i), seq: i + 1, contradicted: i === 3 }));
    expect(u.list(10).map((p) => p.seq)).toEqual([5, 4, 3]);
    expect(u.list(10, true).map((p) => p.seq)).toEqual([4]);
    expect(u.get(paymentId(0))).toBeUndefined();
  });
});
