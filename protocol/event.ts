/** The event payload of DESIGN §3.2, as a validated schema with limits. */
import { z } from 'zod';
import { idSchema, terminalIdSchema, UUID_PATTERN } from './ids.js';

/** DESIGN §3.2: a compact JWS is at most 16 KiB. */
export const MAX_JWS_BYTES = 16 * 1024;
/** Largest amount in minor units we accept: above any real card payment, below 2^53. */
export const MAX_AMOUNT_MINOR = 1e13;
export const EVENT_VERSION = 1 as const;
export const KNOWN_TYPES = ['payment', 'refund', 'void'] as const;

const CHAIN_HASH = /^[A-Za-z0-9_-]{43}$/;
/** RFC 3339 date-time with a mandatory offset (`Z` or ±hh:mm). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

export const cardSchema = z
  .object({
    brand: z.string().min(1).max(32),
    last4: z.string().regex(/^\d{4}$/),
    token: z.string().min(1).max(256).optional(),
  })
  .loose();

export const eventPayloadSchema = z
  .object({
    v: z.literal(EVENT_VERSION),
    store: idSchema,
    terminal: terminalIdSchema,
    seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    prev: z.string().max(64),
    id: z.string().regex(UUID_PATTERN, 'must be a UUID'),
    // Other types are stored and forwarded untouched (DESIGN §3.2).
    type: z.string().min(1).max(32),
    at: z
      .string()
      .max(40)
      .regex(RFC3339, 'must be an RFC 3339 date-time')
      .refine((s) => !Number.isNaN(Date.parse(s)), 'must be a real date-time'),
    amount: z.number().int().positive().max(MAX_AMOUNT_MINOR),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
    outcome: z.enum(['approved', 'declined']),
    mode: z.enum(['online', 'offline']),
    card: cardSchema,
    ref: z.string().min(1).max(128).optional(),
  })
  // Extra fields are allowed and kept (DESIGN §3.2).
  .loose()
  .superRefine((p, ctx) => {
    if (p.seq === 1 && p.prev !== '') ctx.addIssue({ code: 'custom', path: ['prev'], message: 'must be "" when seq is 1' });
    if (p.seq > 1 && !CHAIN_HASH.test(p.prev)) {
      ctx.addIssue({ code: 'custom', path: ['prev'], message: 'must be the base64url chain hash of seq-1' });
    }
  });

export type EventPayload = z.infer<typeof eventPayloadSchema>;

/** What a terminal's payment app hands to `record()`: the payload less what the agent assigns. */
export type Transaction = Omit<EventPayload, 'v' | 'store' | 'terminal' | 'seq' | 'prev' | 'id'>;

/** A short, log-safe description of the first schema issue. */
export function describeIssues(error: z.ZodError): string {
  const first = error.issues[0];
  if (first === undefined) return 'invalid';
  const path = first.path.length > 0 ? first.path.join('.') : '(root)';
  return `${path}: ${first.message}`;
}
