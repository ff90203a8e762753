/**
 * The `WebhookInbox` contract (cloud-bridge/lifecycle/webhook-inbox.ts) written once,
 * run against every implementation (LevelDB; PostgreSQL): durable, deduplicated on
 * `(pspReference, eventCode, success)`, a gapless log in the order things were accepted.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_INBOX_ACCEPT, type WebhookInbox } from '../../../cloud-bridge/lifecycle/webhook-inbox.js';
import { codeOfAsync } from '../../support/codes.js';
import { adyenItem, inboxKey, paymentId, T0 } from './support.js';

export interface WebhookInboxHarness {
  open(): Promise<WebhookInbox>;
  destroy(): Promise<void>;
}

const auth = (n: number, over: Parameters<typeof adyenItem>[0] = { merchantReference: paymentId(n) }) =>
  adyenItem({ pspReference: `PSP${String(n).padStart(13, '0')}`, ...over });

export function describeWebhookInboxConformance(name: string, makeHarness: () => Promise<WebhookInboxHarness>): void {
  describe(`webhook inbox conformance (${name})`, () => {
    let harness: WebhookInboxHarness;
    let inbox: WebhookInbox;

    beforeEach(async () => {
      harness = await makeHarness();
      inbox = await harness.open();
    });
    afterEach(async () => {
      await inbox.close();
      await harness.destroy();
    });

    it('webhook inbox - an empty inbox has head 0 and nothing to read', async () => {
      expect(await inbox.head()).toBe(0);
      expect(await inbox.read(0, 10)).toEqual([]);
    });

    it('webhook inbox - accepted items get positions in order, with their key, time and item', async () => {
      const items = [auth(1), auth(2), auth(3)];
      expect(await inbox.accept(items, false, T0)).toEqual(['stored', 'stored', 'stored']);
      const entries = await inbox.read(0, 10);
      expect(entries).toEqual(items.map((item, i) => ({ position: i + 1, key: inboxKey(item), receivedAtMs: T0, live: false, item })));
      expect(await inbox.head()).toBe(3);
      expect(await inbox.read(1, 1)).toEqual([entries[1]]);
    });

    it('webhook inbox - the same (pspReference, eventCode, success) again is a duplicate and stores nothing', async () => {
      await inbox.accept([auth(1)], false, T0);
      // A resend: same three fields, even with another eventDate or additionalData.
      const resent = adyenItem({ pspReference: auth(1).pspReference, merchantReference: paymentId(1), eventDate: '2030-01-01T00:00:00Z' });
      expect(await inbox.accept([resent, auth(2), auth(2)], false, T0 + 1_000)).toEqual(['duplicate', 'stored', 'duplicate']);
      expect((await inbox.read(0, 10)).map((e) => [e.position, e.key])).toEqual([[1, inboxKey(auth(1))], [2, inboxKey(auth(2))]]);
      expect((await inbox.read(0, 10))[0]!.receivedAtMs).toBe(T0);
    });

    it('webhook inbox - another event code or success is another notification', async () => {
      const ref = auth(1).pspReference;
      const outcomes = await inbox.accept([
        auth(1),
        adyenItem({ pspReference: ref, merchantReference: paymentId(1), success: 'false' }),
        adyenItem({ pspReference: ref, merchantReference: paymentId(1), eventCode: 'CANCELLATION' }),
        adyenItem({ pspReference: ref, merchantReference: paymentId(1), eventCode: 'SOME_NEW_CODE' }),
      ], true, T0);
      expect(outcomes).toEqual(['stored', 'stored', 'stored', 'stored']);
      expect((await inbox.read(0, 10)).every((e) => e.live)).toBe(true);
    });

    it('webhook inbox - concurrent accepts get distinct, gapless positions and each item is stored once', async () => {
      const calls = Array.from({ length: 8 }, (_, c) => inbox.accept(Array.from({ length: 5 }, (_, i) => auth((c * 5 + i) % 30)), false, T0 + c));
      const outcomes = (await Promise.all(calls)).flat();
      expect(outcomes.filter((o) => o === 'stored')).toHaveLength(30);
      const entries = await inbox.read(0, 100);
      expect(entries.map((e) => e.position)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(new Set(entries.map((e) => e.key)).size).toBe(30);
    });

    it('webhook inbox - what was accepted survives a reopen, and positions go on from there', async () => {
      await inbox.accept([auth(1), auth(2)], false, T0);
      const before = await inbox.read(0, 10);
      await inbox.close();
      inbox = await harness.open();
      expect(await inbox.read(0, 10)).toEqual(before);
      expect(await inbox.accept([auth(2), auth(3)], false, T0 + 5)).toEqual(['duplicate', 'stored']);
      expect((await inbox.read(2, 10)).map((e) => e.position)).toEqual([3]);
    });

    it('webhook inbox - programmer mistakes are TypeErrors', async () => {
      expect(() => inbox.accept(Array.from({ length: MAX_INBOX_ACCEPT + 1 }, () => auth(1)), false, T0)).toThrow(TypeError);
      expect(() => inbox.accept([{ ...auth(1), reason: 'x'.repeat(20_000) }], false, T0)).toThrow(TypeError);
      expect(() => inbox.read(0, 0)).toThrow(TypeError);
    });

    it('webhook inbox - on a closed inbox every call fails with LIFECYCLE_CLOSED', async () => {
      await inbox.close();
      expect(await codeOfAsync(inbox.accept([auth(1)], false, T0))).toBe('LIFECYCLE_CLOSED');
      expect(await codeOfAsync(inbox.read(0, 1))).toBe('LIFECYCLE_CLOSED');
      expect(await codeOfAsync(inbox.head())).toBe('LIFECYCLE_CLOSED');
    });
  });
}
