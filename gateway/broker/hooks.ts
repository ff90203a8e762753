/**
 * Aedes hooks: who may connect (authenticate), what they may publish and subscribe to (ACL), and
 * where an `events` publish goes (the ingest pipeline, serialized per client). Aedes sends a QoS 1
 * PUBACK right after `authorizePublish` calls back (DESIGN §5.1), so the callback fires only when
 * the event is durable, or its reject is durable and published.
 */
import type { AedesOptions, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { Authenticator, AuthFailure } from '../auth/authenticator.js';
import type { HealthStore } from '../health/health-store.js';
import type { ClientLanes } from '../ingest/client-lanes.js';
import type { IngestPipeline } from '../ingest/pipeline.js';
import type { Presence } from '../presence.js';
import { maySubscribe, publishKind } from './acl.js';
import type { ConnectionGate } from './connection-gate.js';

export interface HookDeps {
  readonly store: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly authenticator: Authenticator;
  readonly pipeline: IngestPipeline;
  readonly lanes: ClientLanes;
  readonly health: HealthStore;
  readonly presence: Presence;
  /** Bounds unauthenticated sockets apart from terminals' sessions (connection-gate.ts). */
  readonly connections: ConnectionGate;
  /** ACL refusals, for the status API. */
  readonly counters: AclCounters;
}

export interface AclCounters {
  publishDenied: number;
  subscribeDenied: number;
  /** Connections closed for a packet over `mqttMaxPacketBytes` (gateway/broker/packet-size-guard.ts). */
  oversizeClosed: number;
}

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3. */
const RETURN_CODE: Record<AuthFailure, 3 | 4 | 5> = {
  BAD_IDENTITY: 4,
  UNKNOWN_TERMINAL: 4,
  BAD_PASSWORD: 4,
  LOCKED_OUT: 5,
  // "Server unavailable": try again later.
  BUSY: 3,
};

export function brokerHooks(deps: HookDeps): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'preConnect'> {
  const { store, clock, logger } = deps;
  const counters = deps.counters;

  // The CONNECT arrived: the socket is no longer an idle one that may be closed for a newer socket.
  const preConnect: AedesOptions['preConnect'] = (client, _packet, callback) => {
    deps.connections.connectReceived(client.conn);
    callback(null, true);
  };

  const authenticate: AedesOptions['authenticate'] = (client, username, password, done) => {
    deps.authenticator.check(client.id, username, password).then(
      (result) => {
        if (result.ok) {
          if (deps.connections.authenticated(client.conn)) return done(null, true);
          logger.warn('connect refused: every session slot is taken', { terminal: client.id.slice(0, 64) });
          return done(Object.assign(new Error('SESSIONS_FULL'), { returnCode: 3 }) as AuthenticateError, false);
        }
        logger.debug('connect refused', { terminal: client.id.slice(0, 64), reason: result.reason });
        const err = Object.assign(new Error(result.reason), { returnCode: RETURN_CODE[result.reason] }) as AuthenticateError;
        done(err, false);
      },
      (err: unknown) => {
        logger.error('authentication failed', { err });
        done(Object.assign(new Error('SERVER_UNAVAILABLE'), { returnCode: 3 }) as AuthenticateError, false);
      },
    );
  };

  const authorizePublish = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void => {
    // Wills restored without a live client, or anything else without an identity: refused.
    if (client === null) return callback(new Error('not authorized'));
    const kind = publishKind(client.id, packet.topic, store);
    if (kind === null) {
      counters.publishDenied++;
      logger.warn('publish refused by ACL', { terminal: client.id, topic: packet.topic.slice(0, 256) });
      // MQTT 3.1.1 has no negative PUBACK: refusing means closing the connection.
      return callback(new Error('not authorized'));
    }
    // The broker must not keep terminals' publishes as retained messages.
    packet.retain = false;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload, 'utf8') : packet.payload;
    deps.presence.seen(client.id, clock.now());
    if (kind === 'health') {
      // QoS 0 telemetry: while the gateway shuts down the store may already be closed; drop it.
      if (deps.health.state === 'open') deps.health.record(client.id, payload);
      return callback(null);
    }
    deps.lanes.run(
      client.id,
      () => deps.pipeline.prepare(client.id, payload),
      (ctx) => deps.pipeline.stage(ctx),
      (err) => {
        if (err === null) return callback(null);
        logger.error('event not stored: closing the connection so the terminal resends', { terminal: client.id, err });
        callback(err instanceof Error ? err : new Error(String(err)));
      },
    );
  };

  const authorizeSubscribe = (client: Client, sub: Subscription, callback: (error: Error | null, subscription?: Subscription | null) => void): void => {
    if (maySubscribe(client.id, sub.topic, store)) return callback(null, sub);
    counters.subscribeDenied++;
    logger.warn('subscribe refused by ACL', { terminal: client.id, topic: sub.topic.slice(0, 256) });
    // A null subscription is SUBACK 0x80 (failure) for that topic, MQTT 3.1.1 §3.9.3.
    callback(null, null);
  };

  return { preConnect, authenticate, authorizePublish, authorizeSubscribe };
}
