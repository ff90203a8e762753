/** Limits of the publisher: each a named option with its reason. */
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
  /**
   * After a reset, how long to wait for the retained ack before deciding this is a new terminal;
   * before a re-sequence, how long to wait for the gateway's current head.
   */
  readonly retainedAckWaitMs: number;
  /** Pause after STORE_FULL / UNKNOWN_KEY before trying again (or when status says accepting). */
  readonly retryLaterMs: number;
  /**
   * Events set aside in a row (refused for good, nothing accepted in between) before the agent
   * holds instead: one refused event (a card number in a free-text field) is set aside and the
   * chain carries on, but when the gateway refuses everything (a wrong store id, a revoked key, an
   * app that always sends a card number) setting each aside would answer the app success for
   * payments that are never delivered.
   */
  readonly maxConsecutiveSetAside: number;
  /** While held, how often the held event is sent again to see whether the gateway takes it now. */
  readonly heldRetryMs: number;
  /**
   * Acknowledged events kept until the cloud has them (the `cloud` field of the ack), so a gateway
   * restored from an older backup can be refilled. Past it the oldest are deleted (the gateway
   * holds them durably; only that extra protection is lost), with a warning and a counter. 10,000
   * events (~7 MB of flash) is weeks of a busy till's trade.
   */
  readonly maxRetainedAckedEvents: number;
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
  maxConsecutiveSetAside: 3,
  // A minute: an operator's fix (enrollment, gateway config) is picked up soon, and a gateway that
  // still refuses sees one event a minute from this terminal.
  heldRetryMs: 60_000,
  maxRetainedAckedEvents: 10_000,
  closeTimeoutMs: 2_000,
  backoff: DEFAULT_BACKOFF,
});
