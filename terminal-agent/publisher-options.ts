/** Limits of the publisher (STYLE 9): each a named option with its reason. */
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';

export interface PublisherLimits {
  /**
   * Events published and not yet PUBACKed. The gateway group-commits what arrives within a few ms,
   * so a window lets one fsync cover many events; bounded so a slow gateway never gets a flood.
   */
  readonly maxInFlight: number;
  /** CONNECT → CONNACK (and SUBSCRIBE → SUBACK) deadline. */
  readonly connectTimeoutMs: number;
  /** MQTT keepalive: how fast a dead WiFi link is noticed (the broker allows 1.5x). */
  readonly keepaliveS: number;
  /** Oldest in-flight event without PUBACK before the link is dropped and everything resent. */
  readonly publishTimeoutMs: number;
  /** After a reset, how long to wait for the retained ack before deciding this is a new terminal. */
  readonly retainedAckWaitMs: number;
  /** Pause after STORE_FULL / UNKNOWN_KEY before trying again (or when status says accepting). */
  readonly retryLaterMs: number;
  /** How many rejected records are looked at to find the one that blocks the chain. */
  readonly maxRejectedScan: number;
  /** Graceful disconnect deadline on stop. */
  readonly closeTimeoutMs: number;
  readonly backoff: BackoffOptions;
}

export const DEFAULT_PUBLISHER_LIMITS: PublisherLimits = Object.freeze({
  maxInFlight: 256,
  connectTimeoutMs: 5_000,
  keepaliveS: 10,
  publishTimeoutMs: 15_000,
  retainedAckWaitMs: 1_000,
  retryLaterMs: 5_000,
  maxRejectedScan: 1_000,
  closeTimeoutMs: 2_000,
  backoff: DEFAULT_BACKOFF,
});
