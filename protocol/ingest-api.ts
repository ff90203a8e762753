/** HTTP gateway → cloud contract, DESIGN §3.4. */
import { z } from 'zod';
import { REJECT_CODES, WIRE_CODE_PATTERN } from './errors.js';
import { idSchema, terminalIdSchema, UUID_PATTERN } from './ids.js';
import { MAX_JWS_BYTES } from './event.js';

/** Limits of one ingest request: a batch is bounded in count and bytes. */
export const MAX_INGEST_EVENTS = 1000;
export const MAX_INGEST_ENROLLMENTS = 1000;
export const MAX_INGEST_BODY_BYTES = 20 * 1024 * 1024;

export const enrollmentSchema = z.object({
  terminal: terminalIdSchema,
  kid: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  at: z.string().max(40),
  /**
   * The operator's endorsement of this key (DESIGN §3.1, protocol/endorsement.ts). Optional on the
   * wire so that a request from a gateway of the previous release (or with old enrollments) is still
   * a valid request: the cloud refuses that one enrollment, never the whole batch (DESIGN §3.4). The
   * bound here is loose on purpose for the same reason; the endorsement's own bound
   * (MAX_ENDORSEMENT_CHARS) refuses only the enrollment that breaks it.
   */
  endorsement: z.string().max(MAX_JWS_BYTES).optional(),
});
export type Enrollment = z.infer<typeof enrollmentSchema>;

export const ingestRequestSchema = z.object({
  gateway: idSchema,
  store: idSchema,
  batch: z.string().regex(UUID_PATTERN),
  enrollments: z.array(enrollmentSchema).max(MAX_INGEST_ENROLLMENTS),
  events: z.array(z.string().min(1).max(MAX_JWS_BYTES)).max(MAX_INGEST_EVENTS),
});
export type IngestRequest = z.infer<typeof ingestRequestSchema>;

export const INGEST_STATUSES = ['accepted', 'duplicate', 'rejected'] as const;
export type IngestStatus = (typeof INGEST_STATUSES)[number];

export const ingestResultSchema = z.object({
  // terminal and seq are null when the event could not even be parsed.
  terminal: z.string().nullable(),
  seq: z.number().int().nullable(),
  status: z.enum(INGEST_STATUSES),
  code: z.enum(REJECT_CODES).optional(),
  expected: z.number().int().optional(),
});
export type IngestResult = z.infer<typeof ingestResultSchema>;

export const ingestResponseSchema = z.object({ results: z.array(ingestResultSchema) });
export type IngestResponse = z.infer<typeof ingestResponseSchema>;

/** Longest status or code kept from an answer; anything longer is cut (it is still a new value). */
const MAX_WIRE_VALUE_CHARS = 64;

/**
 * A result as a gateway reads it (DESIGN §3.4 "forward compatibility"): `status` and `code` are
 * open sets, so a value this version does not know never makes the whole 200 malformed (which would
 * stall forwarding on an older gateway). A code that is not even shaped like one
 * (`WIRE_CODE_PATTERN`) reads as `UNREADABLE_CODE`; the receiver decides what unknown values mean.
 * `ingestResultSchema` above stays the strict shape a cloud of this version sends.
 */
export const receivedIngestResultSchema = z.object({
  terminal: z.string().nullable(),
  seq: z.number().int().nullable(),
  status: z.string().transform((s) => s.slice(0, MAX_WIRE_VALUE_CHARS)),
  code: z
    .string()
    .transform((c) => (WIRE_CODE_PATTERN.test(c) ? c : 'UNREADABLE_CODE'))
    .optional(),
  expected: z.number().int().optional(),
});
export type ReceivedIngestResult = z.infer<typeof receivedIngestResultSchema>;

export const receivedIngestResponseSchema = z.object({ results: z.array(receivedIngestResultSchema) });

/** Error body of every non-200 answer: a stable code and a human message. */
export const errorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ErrorBody = z.infer<typeof errorBodySchema>;

export const eventsPageSchema = z.object({
  head: z.number().int().min(0),
  events: z.array(z.object({ seq: z.number().int(), jws: z.string(), receivedAt: z.string() })),
});
export type EventsPage = z.infer<typeof eventsPageSchema>;
