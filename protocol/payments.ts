/**
 * The payment lifecycle's read side and the updates back to stores (DESIGN §3.6), as schemas.
 * States are an open set (DESIGN §3.4): a reader that meets a state it does not know shows it as
 * it is and never refuses the message for it.
 */
import { z } from 'zod';
import { idSchema, terminalIdSchema, UUID_PATTERN } from './ids.js';

/** The states this version produces, in their forward order (see cloud-bridge/lifecycle/machine.ts). */
export const PAYMENT_STATES = ['pending', 'captured', 'authorised', 'refused', 'cancelled', 'inconsistent'] as const;
export type KnownPaymentState = (typeof PAYMENT_STATES)[number];

/** Any state on the wire, known or not (bounded, log-safe). */
export const paymentStateSchema = z.string().regex(/^[a-z][a-z_]{0,31}$/);

/** States that, after an optimistic charge, contradict it (DESIGN §3.6). */
export const CONTRADICTING_STATES: readonly KnownPaymentState[] = ['refused', 'cancelled', 'inconsistent'];

export const CHARGED_BY = ['optimistic', 'authorisation'] as const;
export type ChargedBy = (typeof CHARGED_BY)[number];

/**
 * One change of a payment, as `GET /v1/stores/{store}/updates` lists it and the gateway publishes
 * it on `P/{terminal}/updates`. `contradicted` is an addition to the §3.6 fields (readers ignore
 * fields they do not know): the terminal shows the cashier that an optimistic charge did not hold.
 */
export const paymentUpdateSchema = z
  .object({
    terminal: terminalIdSchema,
    id: z.string().regex(UUID_PATTERN),
    seq: z.number().int().min(1),
    state: paymentStateSchema,
    charged: z.boolean(),
    contradicted: z.boolean().optional(),
  })
  .loose();
export type PaymentUpdate = z.infer<typeof paymentUpdateSchema>;

/** Largest MQTT payload of one update: a handful of short fields. */
export const MAX_PAYMENT_UPDATE_BYTES = 1024;

/** The cursor of the updates feed: opaque to the gateway, which stores it and sends it back. */
export const updatesCursorSchema = z.string().regex(/^[0-9]{1,20}$/);

export const updatesPageSchema = z.object({
  cursor: updatesCursorSchema,
  updates: z.array(paymentUpdateSchema),
});
export type UpdatesPage = z.infer<typeof updatesPageSchema>;

export const paymentHistoryEntrySchema = z.object({ at: z.string(), state: paymentStateSchema, source: z.string() }).loose();

/** `GET /v1/payments/{id}` (DESIGN §3.6). Fields unknown until the terminal's event arrives are null. */
export const paymentViewSchema = z
  .object({
    id: z.string().regex(UUID_PATTERN),
    store: idSchema.nullable(),
    terminal: terminalIdSchema.nullable(),
    seq: z.number().int().nullable(),
    amount: z.number().int().nullable(),
    currency: z.string().nullable(),
    mode: z.string().nullable(),
    state: paymentStateSchema,
    charged: z.boolean(),
    chargedAt: z.string().nullable(),
    chargedBy: z.enum(CHARGED_BY).nullable(),
    contradicted: z.boolean(),
    at: z.string().nullable(),
    capturedAt: z.string().nullable(),
    authorisedAt: z.string().nullable(),
    history: z.array(paymentHistoryEntrySchema),
  })
  .loose();
export type PaymentView = z.infer<typeof paymentViewSchema>;

export const latencySegmentSchema = z.object({
  count: z.number().int().min(0),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
});
export type LatencySegment = z.infer<typeof latencySegmentSchema>;

/** `GET /v1/payments/latency` (DESIGN §3.6); percentiles in seconds, null when there is no sample. */
export const latencyReportSchema = z
  .object({
    segments: z.object({ success_to_charged: latencySegmentSchema, success_to_authorised: latencySegmentSchema }).loose(),
    optimistic: z.object({ charged: z.number().int().min(0), contradicted: z.number().int().min(0), rate: z.number().nullable() }).loose(),
  })
  .loose();
export type LatencyReport = z.infer<typeof latencyReportSchema>;
