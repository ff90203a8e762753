/** Parses what the gateway sends a terminal (DESIGN §3.3): bounded, schema-validated, never throws. */
import { z } from 'zod';
import { ackMessageSchema, gatewayStatusSchema, rejectMessageSchema, type AckMessage, type RejectMessage } from '../protocol/messages.js';
import type { ParsedTopic } from '../protocol/topics.js';

/** Gateway messages are tiny JSON objects; anything larger is not one of them. */
export const MAX_GATEWAY_MESSAGE_BYTES = 4096;

/**
 * The retained gateway status as the terminal reads it. `wan` is an open set (DESIGN §3.4): a
 * state a newer gateway adds is kept as it is, and anything but `online` counts as offline.
 */
const terminalStatusSchema = gatewayStatusSchema.extend({ wan: z.string().min(1).max(32) });
export type GatewayStatus = z.infer<typeof terminalStatusSchema>;

export type GatewayMessage =
  | { readonly kind: 'ack'; readonly ack: AckMessage }
  | { readonly kind: 'reject'; readonly reject: RejectMessage }
  | { readonly kind: 'status'; readonly status: GatewayStatus };

export function parseGatewayMessage(kind: ParsedTopic['kind'], payload: Buffer): GatewayMessage | undefined {
  if (payload.length === 0 || payload.length > MAX_GATEWAY_MESSAGE_BYTES) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (kind === 'ack') {
    const r = ackMessageSchema.safeParse(json);
    return r.success ? { kind: 'ack', ack: r.data } : undefined;
  }
  if (kind === 'rejects') {
    const r = rejectMessageSchema.safeParse(json);
    return r.success ? { kind: 'reject', reject: r.data } : undefined;
  }
  if (kind === 'gateway') {
    const r = terminalStatusSchema.safeParse(json);
    return r.success ? { kind: 'status', status: r.data } : undefined;
  }
  return undefined;
}
