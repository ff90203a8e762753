/**
 * `POST /v1/psp/adyen/webhooks` (DESIGN §3.6), as named steps: admit (bounded concurrency) → read
 * the bounded body → parse → count items → validate → verify every item's HMAC → store durably in
 * the webhook inbox → answer `[accepted]`. A bad signature anywhere is 401 BAD_HMAC and stores
 * nothing; a duplicate is answered `[accepted]` and changes nothing; unknown event codes are stored
 * (an open set) and ignored by the state machine. Adyen resends anything not answered 2xx.
 */
import type { Hono } from 'hono';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { ADYEN_ACCEPTED, adyenNotificationSchema, verifyAdyenItem, type AdyenNotification } from '../../protocol/adyen.js';
import { describeIssues } from '../../protocol/event.js';
import { TillgateError } from '../../protocol/errors.js';
import type { LifecycleMetrics } from '../lifecycle/metrics.js';
import type { WebhookInbox } from '../lifecycle/webhook-inbox.js';
import { errorResponse, HttpError } from './answers.js';
import { parseJsonBody, readBoundedBody } from './body.js';

export const ADYEN_WEBHOOK_PATH = '/v1/psp/adyen/webhooks';

export interface WebhookLimits {
  readonly webhookMaxBodyBytes: number;
  readonly webhookMaxItems: number;
  readonly webhookMaxInflight: number;
}

export interface WebhookDeps {
  readonly inbox: WebhookInbox;
  /** The merchant's hex HMAC key (never logged). */
  readonly hmacKey: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: LifecycleMetrics;
  /** Called after new items are durable: the inbox follower applies them now. */
  readonly onStored: () => void;
}

export function mountWebhookRoute(app: Hono, deps: WebhookDeps, limits: WebhookLimits): void {
  let inflight = 0;
  app.post(ADYEN_WEBHOOK_PATH, async (c) => {
    const answer = (status: number) => deps.metrics.webhookRequests.inc({ status: String(status) });
    if (inflight >= limits.webhookMaxInflight) {
      answer(429);
      return errorResponse(c, 429, 'BUSY', 'too many webhook requests at once; retry');
    }
    inflight++;
    try {
      const body = parseJsonBody(await readBoundedBody(c.req.raw, limits.webhookMaxBodyBytes));
      countItems(body, limits.webhookMaxItems);
      const notification = validate(body);
      verifyAll(notification, deps.hmacKey);
      const items = notification.notificationItems.map((w) => w.NotificationRequestItem);
      // Whole milliseconds: an injected clock may have finer ones, the inbox stores integers.
      const outcomes = await deps.inbox.accept(items, notification.live === 'true', Math.floor(deps.clock.now()));
      for (const o of outcomes) deps.metrics.webhookItems.inc({ result: o });
      if (outcomes.includes('stored')) deps.onStored();
      answer(200);
      // Adyen's acknowledgement: the body `[accepted]` (text), only now that the items are durable.
      return c.text(ADYEN_ACCEPTED, 200);
    } catch (err) {
      if (err instanceof HttpError) {
        answer(err.status);
        if (err.code === 'BAD_HMAC') deps.logger.warn('PSP webhook with a bad HMAC signature refused; nothing stored');
        return errorResponse(c, err.status, err.code, err.message);
      }
      if (err instanceof TillgateError && err.code.startsWith('LIFECYCLE_')) {
        deps.logger.error('PSP webhook: inbox unavailable; the PSP will resend', { code: err.code });
        answer(503);
        return errorResponse(c, 503, 'LIFECYCLE_UNAVAILABLE', 'notifications cannot be stored now; retry');
      }
      throw err;
    } finally {
      inflight--;
    }
  });
}

/** Counted before the schema, so an oversized batch costs no validation and stores nothing. */
function countItems(body: unknown, max: number): void {
  const items = (body as { notificationItems?: unknown } | null)?.notificationItems;
  if (Array.isArray(items) && items.length > max) throw new HttpError(413, 'TOO_MANY_ITEMS', `more than ${max} notification items in one request`);
}

function validate(body: unknown): AdyenNotification {
  const parsed = adyenNotificationSchema.safeParse(body);
  if (!parsed.success) throw new HttpError(400, 'MALFORMED', `notification ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** Every item must verify before any is stored (DESIGN §3.6: a bad signature stores nothing). */
function verifyAll(notification: AdyenNotification, hmacKey: string): void {
  let bad = 0;
  for (const { NotificationRequestItem: item } of notification.notificationItems) if (!verifyAdyenItem(item, hmacKey)) bad++;
  if (bad > 0) throw new HttpError(401, 'BAD_HMAC', `${bad} notification item(s) carry no valid HMAC signature`);
}
