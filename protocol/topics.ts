/** MQTT topics of DESIGN §3.3. Prefix `P = tillgate/v1/{store}`. */
import { isId, isTerminalId } from './ids.js';

export const TOPIC_ROOT = 'tillgate/v1';
export const TERMINAL_TOPIC_KINDS = ['events', 'ack', 'rejects', 'health', 'updates'] as const;
export type TerminalTopicKind = (typeof TERMINAL_TOPIC_KINDS)[number];

export const topics = {
  prefix: (store: string) => `${TOPIC_ROOT}/${store}`,
  events: (store: string, terminal: string) => `${TOPIC_ROOT}/${store}/${terminal}/events`,
  ack: (store: string, terminal: string) => `${TOPIC_ROOT}/${store}/${terminal}/ack`,
  rejects: (store: string, terminal: string) => `${TOPIC_ROOT}/${store}/${terminal}/rejects`,
  health: (store: string, terminal: string) => `${TOPIC_ROOT}/${store}/${terminal}/health`,
  updates: (store: string, terminal: string) => `${TOPIC_ROOT}/${store}/${terminal}/updates`,
  gatewayStatus: (store: string) => `${TOPIC_ROOT}/${store}/gateway/status`,
  /** What a terminal may subscribe to for gateway-wide messages. */
  gatewayWildcard: (store: string) => `${TOPIC_ROOT}/${store}/gateway/#`,
} as const;

export type ParsedTopic =
  | { readonly kind: TerminalTopicKind; readonly store: string; readonly terminal: string }
  | { readonly kind: 'gateway'; readonly store: string; readonly rest: string };

/** Parses a concrete topic (no wildcards); undefined for anything outside the contract. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  if (topic.length > 256) return undefined;
  const parts = topic.split('/');
  if (parts.length < 4 || parts[0] !== 'tillgate' || parts[1] !== 'v1') return undefined;
  const store = parts[2] as string;
  if (!isId(store)) return undefined;
  if (parts[3] === 'gateway') {
    const rest = parts.slice(4).join('/');
    return parts.length >= 5 ? { kind: 'gateway', store, rest } : undefined;
  }
  if (parts.length !== 5) return undefined;
  const terminal = parts[3] as string;
  const kind = parts[4] as TerminalTopicKind;
  if (!isTerminalId(terminal) || !(TERMINAL_TOPIC_KINDS as readonly string[]).includes(kind)) return undefined;
  return { kind, store, terminal };
}
