/**
 * The simulated PSP on a fake clock: its seeded delay distribution has the seed's shape, its truth
 * and status API agree, and its notifications go out signed, when due, sometimes twice, shuffled in
 * small batches, retried Adyen's way and given up after retryMax.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/logger.js';
import { seededRandom } from '../../lib/random.js';
import { verifyAdyenItem, type NotificationRequestItem } from '../../protocol/adyen.js';
import { createPspSim } from '../../psp-sim/index.js';
import { createPspSimApp } from '../../psp-sim/http.js';
import { pspSimOptionsSchema, type PspSimOptionsInput } from '../../psp-sim/options.js';
import { RETRY_PAUSES_S } from '../../psp-sim/deliverer.js';
import { sampleDelayS } from '../../psp-sim/truth.js';
import { FakeClock } from '../support/fake-clock.js';
import { codeOf } from '../support/codes.js';
import { HMAC_KEY, paymentId } from '../cloud-bridge/lifecycle/support.js';

const URL_A = 'http://cloud.invalid/v1/psp/adyen/webhooks';

function sim(over: Partial<PspSimOptionsInput> = {}, answer: (items: readonly NotificationRequestItem[]) => boolean = () => true) {
  const clock = new FakeClock();
  const sent: Array<{ atMs: number; url: string; items: NotificationRequestItem[] }> = [];
  const options = pspSimOptionsSchema.parse({ hmacKey: HMAC_KEY, webhookUrl: [URL_A], seed: 42, logLevel: 'silent', ...over });
  const { simulator, deliverer } = createPspSim(options, {
    clock, logger: silentLogger,
    send: async (url, items) => {
      sent.push({ atMs: clock.now(), url, items: [...items] });
      return answer(items);
    },
  });
  return { clock, simulator, deliverer, sent, options };
}

const req = (n: number, value = 1000) => ({ merchantReference: paymentId(n), amount: { value, currency: 'EUR' }, store: 's-1', terminal: 't-1' });

describe('psp-sim', () => {
  it('psp-sim - the seeded delay distribution: 95 % within 30 s, a median of seconds, a tail to 20 minutes', () => {
    const o = pspSimOptionsSchema.parse({ hmacKey: HMAC_KEY });
    const random = seededRandom(7);
    const delays = Array.from({ length: 100_000 }, () => sampleDelayS(random, o)).sort((a, b) => a - b);
    const share = (s: number) => delays.filter((d) => d <= s).length / delays.length;
    expect(share(30)).toBeGreaterThan(0.945);
    expect(share(30)).toBeLessThan(0.955);
    expect(delays[50_000]).toBeGreaterThan(1.5);
    expect(delays[50_000]).toBeLessThan(2.5);
    expect(delays.at(-1)).toBeLessThanOrEqual(1_200);
    expect(share(600)).toBeLessThan(0.995); // some notifications take more than 10 minutes
    // The same seed gives the same run.
    const again = seededRandom(7);
    expect(sampleDelayS(again, o)).toBe(sampleDelayS(seededRandom(7), o));
  });

  it('psp-sim - authorise answers Authorised; the truth and the status API agree; a retry gets the same answer', () => {
    const { simulator } = sim({ refusalRate: 0.3, neverRate: 0.2 });
    const answers = Array.from({ length: 200 }, (_, i) => simulator.authorise(req(i)));
    expect(answers.every((a) => a.resultCode === 'Authorised' && /^[A-Z0-9]{16}$/.test(a.pspReference))).toBe(true);
    const { records, next } = simulator.truth(0, 1000);
    expect(records).toHaveLength(200);
    expect(next).toBe(200);
    expect(simulator.truth(next, 10).records).toEqual([]);
    const outcomes = new Map<string, number>();
    for (const r of records) {
      outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
      const status = simulator.status(r.merchantReference.toUpperCase());
      if (r.outcome === 'never') expect(status).toBeUndefined();
      else expect(status).toEqual({ merchantReference: r.merchantReference, pspReference: r.pspReference, status: r.outcome });
    }
    expect([...outcomes.keys()].sort()).toEqual(['authorised', 'never', 'refused']);
    expect(simulator.authorise(req(3))).toEqual(answers[3]);
    expect(codeOf(() => simulator.authorise(req(3, 999)))).toBe('CONFLICT');
    expect(simulator.stats().payments).toBe(200);
  });

  it('psp-sim - notifications go out signed, when due (timeScale applied), never for "never" payments', async () => {
    const { clock, simulator, deliverer, sent } = sim({ timeScale: 10, duplicateRate: 0, batchMaxItems: 1 });
    for (let i = 0; i < 50; i++) simulator.authorise(req(i));
    const truth = simulator.truth(0, 100).records;
    expect(await deliverer.deliverDue()).toBe(0);
    let guard = 0;
    while (deliverer.nextDueAtMs() !== null && guard++ < 1_000) {
      clock.advance(Math.max(0, deliverer.nextDueAtMs()! - clock.now()));
      await deliverer.deliverDue();
    }
    const notified = truth.filter((r) => r.outcome !== 'never');
    expect(sent.flatMap((s) => s.items).map((i) => i.merchantReference).sort()).toEqual(notified.map((r) => r.merchantReference).sort());
    for (const { atMs, items } of sent) {
      const item = items[0]!;
      const r = truth.find((t) => t.merchantReference === item.merchantReference)!;
      expect(verifyAdyenItem(item, HMAC_KEY)).toBe(true);
      expect(item.success).toBe(r.outcome === 'authorised' ? 'true' : 'false');
      expect([item.pspReference, item.amount.value, item.eventCode]).toEqual([r.pspReference, r.amount, 'AUTHORISATION']);
      expect(atMs - r.authorisedAtMs).toBeCloseTo(r.notifyDelayMs! / 10, 0);
    }
  });

  it('psp-sim - duplicates are delivered twice, and due items go out shuffled in batches', async () => {
    const { clock, simulator, deliverer, sent } = sim({ duplicateRate: 1, batchMaxItems: 3, neverRate: 0, timeScale: 1_000 });
    for (let i = 0; i < 30; i++) simulator.authorise(req(i));
    clock.advance(10_000_000);
    await deliverer.deliverDue();
    const refs = sent.flatMap((s) => s.items.map((i) => i.merchantReference));
    expect(refs).toHaveLength(60);
    expect(new Set(refs).size).toBe(30);
    expect(Math.max(...sent.map((s) => s.items.length))).toBe(3);
    expect(refs).not.toEqual([...refs].sort());
  });

  it('psp-sim - an unacknowledged notification is retried with Adyen\'s pauses, then given up', async () => {
    const { clock, simulator, deliverer, sent } = sim({ neverRate: 0, refusalRate: 0, duplicateRate: 0, retryMax: 2, timeScale: 1 }, () => false);
    simulator.authorise(req(1));
    clock.advance(3_600_000);
    await deliverer.deliverDue();
    expect(sent).toHaveLength(1);
    clock.advance(RETRY_PAUSES_S[0] * 1000 - 1);
    await deliverer.deliverDue();
    expect(sent).toHaveLength(1);
    clock.advance(1);
    await deliverer.deliverDue();
    expect(sent).toHaveLength(2);
    clock.advance(RETRY_PAUSES_S[1] * 1000);
    await deliverer.deliverDue();
    expect(sent).toHaveLength(3);
    expect(deliverer.stats).toMatchObject({ givenUp: 1, pending: 0, delivered: 0, failedAttempts: 3 });
  });

  it('psp-sim - the queue is bounded: authorise answers BUSY when it is full', () => {
    const { simulator } = sim({ maxPending: 3, neverRate: 0, duplicateRate: 0 });
    for (let i = 0; i < 3; i++) simulator.authorise(req(i));
    expect(codeOf(() => simulator.authorise(req(9)))).toBe('BUSY');
  });

  it('psp-sim - the HTTP API validates and answers with codes', async () => {
    const { simulator, deliverer } = sim({ neverRate: 1, refusalRate: 0 });
    const app = createPspSimApp(simulator, deliverer);
    const post = (body: unknown) => app.request('/v1/authorise', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const ok = await post(req(1));
    expect(ok.status).toBe(200);
    expect((await post({ merchantReference: 'not-a-uuid', amount: { value: 1, currency: 'EUR' } })).status).toBe(400);
    expect((await post({ ...req(2), pad: 'x'.repeat(5_000) })).status).toBe(413);
    expect((await app.request(`/v1/payments/${paymentId(1)}`)).status).toBe(404); // never authorised
    expect((await app.request('/v1/truth?after=0&limit=5')).status).toBe(200);
    expect((await app.request('/v1/truth?limit=0')).status).toBe(400);
  });

  it('psp-sim - imports only protocol/ and lib/ (it is its own small program)', () => {
    const dir = join(process.cwd(), 'psp-sim');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const imports = [...readFileSync(join(dir, file), 'utf8').matchAll(/from '(\.\.?\/[^']+)'/g)].map((m) => m[1]!);
      for (const i of imports) expect(i, `${file} imports ${i}`).toMatch(/^(\.\/|\.\.\/(protocol|lib)\/)/);
    }
  });
});
