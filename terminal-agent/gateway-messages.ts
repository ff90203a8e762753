/** Parses what the gateway sends a terminal (DESIGN §3.3): bounded, schema-validated, never throws. */
import { ackMessageSchema, gatewayStatusSchema, rejectMessageSchema, type AckMessage, type GatewayStatusMessage, type RejectMessage } from '../protocol/messages.js';
import type { ParsedTopic } from '../protocol/topics.js';

/** Gateway messages are tiny JSON objects; anything larger is not one of them. */
export const MAX_GATEWAY_MESSAGE_BYTES = 4096;

export type GatewayMessage =
  | { readonly kind: 'ack'; readonly ack: AckMessage }
  | { readonly kind: 'reject'; readonly reject: RejectMessage }
  | { readonly kind: 'status'; readonly status: GatewayStatusMessage };

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
    const r = gatewayStatusSchema.safeParse(json);
    return r.success ? { kind: 'status', status: r.data } : undefined;
  }
  return undefined;
}
