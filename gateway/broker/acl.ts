/**
 * The topic ACL of DESIGN §3.3. A terminal publishes only to its own `events` and `health`, and
 * subscribes only to its own `ack`, `rejects`, `updates` and to `P/gateway/#` (or a concrete topic
 * under it). Exact matches only: a wildcard that could reach another terminal's topics is refused.
 */
import { parseTopic, topics } from '../../protocol/topics.js';

export type PublishKind = 'events' | 'health';

export function publishKind(terminal: string, topic: string, store: string): PublishKind | null {
  const parsed = parseTopic(topic);
  if (parsed === undefined || parsed.store !== store || parsed.kind === 'gateway') return null;
  if (parsed.terminal !== terminal) return null;
  return parsed.kind === 'events' || parsed.kind === 'health' ? parsed.kind : null;
}

export function maySubscribe(terminal: string, topic: string, store: string): boolean {
  if (topic === topics.gatewayWildcard(store)) return true;
  if (topic.includes('+') || topic.includes('#')) return false;
  const parsed = parseTopic(topic);
  if (parsed === undefined || parsed.store !== store) return false;
  if (parsed.kind === 'gateway') return true;
  return parsed.terminal === terminal && (parsed.kind === 'ack' || parsed.kind === 'rejects' || parsed.kind === 'updates');
}
