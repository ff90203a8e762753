/**
 * The terminal's MQTT link to its gateway (DESIGN §3.3): MQTT 3.1.1, clean session false,
 * clientId = username = terminal id. On every CONNACK it subscribes to the terminal's `ack` and
 * `rejects` and to `P/gateway/#` (a fresh SUBSCRIBE makes the broker re-send the retained ack and
 * status), then reports `up`. Reconnects are ours, not MQTT.js's: exponential backoff with full
 * jitter from injected randomness, capped.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { topics } from '../protocol/topics.js';
import { backoffDelayMs, type BackoffOptions } from './backoff.js';
import type { PublisherLimits } from './publisher-options.js';

export type LinkState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'connecting'; readonly attempt: number }
  | { readonly kind: 'connected'; readonly sinceMs: number }
  | { readonly kind: 'backoff'; readonly attempt: number; readonly delayMs: number }
  | { readonly kind: 'stopped' };

export type Connector = (url: string, options: IClientOptions) => MqttClient;

export interface MqttLinkOptions {
  readonly url: string;
  readonly store: string;
  readonly terminal: string;
  readonly password: string;
  readonly clock: Clock;
  /** Uniform [0, 1): jitter (injected). */
  readonly random: () => number;
  readonly logger: Logger;
  readonly limits: Pick<PublisherLimits, 'connectTimeoutMs' | 'keepaliveS' | 'closeTimeoutMs'>;
  readonly backoff: BackoffOptions;
  readonly connect?: Connector;
}

/**
 * Events: `up` (client, rttMs) once connected and subscribed; `down` when a connected link is
 * lost; `message` (topic, payload) from the current connection only; `update` (topic, payload)
 * for the terminal's payment updates (DESIGN §3.6).
 */
export class MqttLink extends EventEmitter {
  state: LinkState = { kind: 'idle' };
  readonly counters = { connects: 0, reconnects: 0, errors: 0 };
  readonly #o: MqttLinkOptions;
  #client: MqttClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #stopping = false;

  constructor(options: MqttLinkOptions) {
    super();
    this.#o = options;
  }

  /** The current client while the link is up. */
  get client(): MqttClient | undefined {
    return this.state.kind === 'connected' ? this.#client : undefined;
  }

  start(): void {
    this.#connect();
  }

  /**
   * Subscribes to the terminal's `ack` topic again: the broker re-sends the retained ack, i.e. the
   * gateway's current head ([MQTT-3.8.4-3]: a repeated SUBSCRIBE re-sends matching retained messages).
   */
  async refreshAck(client: MqttClient): Promise<void> {
    await withTimeout(client.subscribeAsync({ [topics.ack(this.#o.store, this.#o.terminal)]: { qos: 1 } }), this.#o.limits.connectTimeoutMs);
  }

  /** Cuts the current connection (e.g. no PUBACK in time); the link reconnects with backoff. */
  drop(client: MqttClient): void {
    if (client === this.#client) client.end(true);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    // MQTT.js's endAsync can stay pending when the client is reconnecting; bound it.
    if (client !== undefined) await boundedEnd(client, this.#o.limits.closeTimeoutMs);
    this.state = { kind: 'stopped' };
  }

  #connect(): void {
    if (this.#stopping) return;
    this.state = { kind: 'connecting', attempt: this.#attempt };
    const startedMs = this.#o.clock.monotonicMs();
    const client = (this.#o.connect ?? mqtt.connect)(this.#o.url, {
      clientId: this.#o.terminal,
      username: this.#o.terminal,
      password: this.#o.password,
      protocolVersion: 4, // MQTT 3.1.1: Aedes 1.x has no MQTT 5 (DESIGN §3.3)
      clean: false,
      reconnectPeriod: 0, // we reconnect ourselves, with jittered backoff
      resubscribe: false, // we subscribe on every connect, which also re-sends the retained ack
      connectTimeout: this.#o.limits.connectTimeoutMs,
      keepalive: this.#o.limits.keepaliveS,
    });
    this.#client = client;
    client.on('connect', () => void this.#onConnect(client, startedMs));
    client.on('message', (topic, payload) => {
      if (client !== this.#client) return;
      // Payment updates from the cloud have their own listener (terminal-agent/updates.ts).
      this.emit(topic === topics.updates(this.#o.store, this.#o.terminal) ? 'update' : 'message', topic, payload);
    });
    client.on('error', (err) => {
      this.counters.errors++;
      this.#o.logger.debug('mqtt error', { err });
    });
    client.on('close', () => this.#onClose(client));
  }

  async #onConnect(client: MqttClient, startedMs: number): Promise<void> {
    if (client !== this.#client) return;
    const rttMs = this.#o.clock.monotonicMs() - startedMs;
    const { store, terminal } = this.#o;
    try {
      await withTimeout(
        client.subscribeAsync({
          [topics.ack(store, terminal)]: { qos: 1 },
          [topics.rejects(store, terminal)]: { qos: 1 },
          [topics.updates(store, terminal)]: { qos: 1 },
          [topics.gatewayWildcard(store)]: { qos: 1 },
        }),
        this.#o.limits.connectTimeoutMs,
      );
    } catch (err) {
      this.counters.errors++;
      this.#o.logger.warn('subscribe failed; reconnecting', { err });
      client.end(true);
      return;
    }
    if (client !== this.#client) return;
    if (this.counters.connects > 0) this.counters.reconnects++;
    this.counters.connects++;
    this.#attempt = 0;
    this.state = { kind: 'connected', sinceMs: this.#o.clock.now() };
    this.emit('up', client, rttMs);
  }

  #onClose(client: MqttClient): void {
    if (client !== this.#client) return;
    client.removeAllListeners('connect');
    client.end(true);
    if (this.#stopping) return;
    const wasConnected = this.state.kind === 'connected';
    const delayMs = backoffDelayMs(this.#attempt, this.#o.backoff, this.#o.random);
    this.state = { kind: 'backoff', attempt: this.#attempt, delayMs };
    this.#attempt++;
    if (wasConnected) this.emit('down');
    this.#timer = setTimeout(() => this.#connect(), delayMs);
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function boundedEnd(client: MqttClient, ms: number): Promise<void> {
  try {
    await withTimeout(client.endAsync(false), ms);
  } catch {
    client.end(true);
  }
}
