/** Gateway → terminal MQTT payloads (DESIGN §3.3) and the health sample (§5.3). */
import { z } from 'zod';
import { WIRE_CODE_PATTERN } from './errors.js';

export const ackMessageSchema = z.object({
  seq: z.number().int().min(0),
  hash: z.string().max(64),
  /**
   * Optional (added after v1 shipped; receivers ignore unknown fields, DESIGN §3.3): every event of
   * this terminal with seq ≤ `cloud` is accepted by the cloud. A gateway that forwards to a cloud
   * sends it; a terminal keeps acknowledged events above it until the cloud has them, so a gateway
   * restored from an older backup can be refilled. Absent: the gateway says nothing about the cloud.
   */
  cloud: z.number().int().min(0).optional(),
});
export type AckMessage = z.infer<typeof ackMessageSchema>;

/** Longest reject message kept (the gateway sends at most this many characters). */
export const MAX_REJECT_MESSAGE_CHARS = 512;

/**
 * The reject code is an OPEN set (DESIGN §3.4): any code of the wire form is accepted, so a code a
 * newer gateway adds reaches the terminal, which treats one it does not know as a permanent refusal
 * of that one event. A longer message from a newer gateway is cut, not refused.
 */
export const rejectMessageSchema = z.object({
  seq: z.number().int().min(0),
  id: z.string().max(64),
  code: z.string().regex(WIRE_CODE_PATTERN),
  message: z.string().transform((m) => m.slice(0, MAX_REJECT_MESSAGE_CHARS)),
  expected: z.number().int().min(1).optional(),
});
export type RejectMessage = z.infer<typeof rejectMessageSchema>;

export const WAN_STATES = ['online', 'degraded', 'offline'] as const;
export type WanState = (typeof WAN_STATES)[number];

export const gatewayStatusSchema = z.object({
  wan: z.enum(WAN_STATES),
  accepting: z.boolean(),
  backlog: z.number().int().min(0),
  at: z.string(),
});
export type GatewayStatusMessage = z.infer<typeof gatewayStatusSchema>;

/**
 * The terminal's offline limits (DESIGN §5.2), in a health sample so the gateway can tell a
 * technician what the tills will refuse while the internet is down. Amounts in minor units of
 * whatever currency the till takes.
 */
export const offlineLimitsSampleSchema = z
  .object({
    maxTxAmountMinor: z.number().int().min(0),
    maxUnackedAmountMinor: z.number().int().min(0),
    maxUnackedCount: z.number().int().min(0),
    maxUnackedAgeS: z.number().min(0),
  })
  .loose();
export type OfflineLimitsSample = z.infer<typeof offlineLimitsSampleSchema>;

/**
 * Payments the terminal refused because an offline approval would have broken a limit, since the
 * agent started (a counter: a drop means a restart), by refusal code (an open set, DESIGN §3.4),
 * and when the latest was refused (the terminal's clock).
 */
export const offlineRefusalsSampleSchema = z
  .object({
    total: z.number().int().min(0),
    byCode: z.record(z.string().regex(WIRE_CODE_PATTERN), z.number().int().min(0)).optional(),
    lastAt: z.string().max(40).nullable().optional(),
  })
  .loose();
export type OfflineRefusalsSample = z.infer<typeof offlineRefusalsSampleSchema>;

/** Health samples: bounded in size; unknown extra fields are kept (DESIGN §5.3). */
export const MAX_HEALTH_BYTES = 4096;
export const healthSampleSchema = z
  .object({
    at: z.string().max(40),
    rssiDbm: z.number().min(-150).max(0).nullable().optional(),
    rttMs: z.number().min(0).max(600_000).nullable().optional(),
    reconnects: z.number().int().min(0).optional(),
    outboxDepth: z.number().int().min(0).optional(),
    outboxOldestAgeS: z.number().min(0).optional(),
    errors: z.number().int().min(0).optional(),
    batteryPct: z.number().min(0).max(100).nullable().optional(),
    /** On its charger or mains power; null where the device cannot tell. */
    charging: z.boolean().nullable().optional(),
    /** Seconds since the agent started (a drop means a restart, like the counters). */
    uptimeS: z.number().min(0).max(10 * 365 * 86_400).optional(),
    /** Firmware or agent version string, free form. */
    firmware: z.string().max(64).optional(),
    /** Where the terminal's chain stands (`in-step`, `resyncing`, `held`, `unsynced`; an open set). */
    chain: z.string().max(32).optional(),
    /** The event holding the chain (while `held`) or being moved past (`resyncing`), and its code. */
    blockedSeq: z.number().int().min(0).optional(),
    blockedCode: z.string().regex(WIRE_CODE_PATTERN).optional(),
    /** Events the gateway refused for good, kept aside on the terminal. */
    setAside: z.number().int().min(0).optional(),
    offlineRefused: offlineRefusalsSampleSchema.optional(),
    offlineLimits: offlineLimitsSampleSchema.optional(),
  })
  .loose();
export type HealthSample = z.infer<typeof healthSampleSchema>;
