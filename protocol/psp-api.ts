/**
 * The PSP's two small HTTP APIs tillgate speaks besides Adyen's webhooks, as the simulated PSP
 * (`tillgate psp-sim`) serves them:
 *  - `POST {psp}/v1/authorise` — a terminal authorises an online payment before it records it,
 *    passing its event id as `merchantReference`; the answer carries the `pspReference`.
 *  - `GET {psp}/v1/payments/{merchantReference}` — the status API the cloud's reconciliation job
 *    asks about payments it has no authorisation for; 404 when the PSP does not know the payment.
 * Statuses are an open set: anything but `authorised`, `refused` or `cancelled` counts as "not
 * confirmed".
 */
import { z } from 'zod';
import { UUID_PATTERN } from './ids.js';

export const authoriseRequestSchema = z.object({
  merchantReference: z.string().regex(UUID_PATTERN, 'must be the event id (a UUID)'),
  amount: z.object({ value: z.number().int().positive().max(1e13), currency: z.string().regex(/^[A-Z]{3}$/) }),
  store: z.string().max(64).optional(),
  terminal: z.string().max(64).optional(),
});
export type AuthoriseRequest = z.infer<typeof authoriseRequestSchema>;

/** `Authorised` means the terminal may show success; the PSP's notification follows later. */
export const authoriseResponseSchema = z
  .object({ pspReference: z.string().min(1).max(64), resultCode: z.string().max(32) })
  .loose();
export type AuthoriseResponse = z.infer<typeof authoriseResponseSchema>;

export const PSP_PAYMENT_STATUSES = ['authorised', 'refused', 'cancelled', 'pending'] as const;

export const pspPaymentStatusSchema = z
  .object({
    merchantReference: z.string().max(256),
    pspReference: z.string().max(64).nullable(),
    status: z.string().regex(/^[a-z][a-z_]{0,31}$/),
  })
  .loose();
export type PspPaymentStatus = z.infer<typeof pspPaymentStatusSchema>;

/** Largest answer of either API: a few short fields. */
export const MAX_PSP_RESPONSE_BYTES = 16 * 1024;
