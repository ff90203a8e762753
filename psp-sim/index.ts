/**
 * `tillgate psp-sim`: a simulated PSP on one port (DESIGN §3.5). `startPspSim()` is its one wiring
 * place: options, seeded randomness, the notification deliverer (HTTP to the cloud's webhook URLs),
 * the simulator and its HTTP API. It imports only protocol/ and lib/.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { systemClock, type Clock } from '../lib/clock.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { seededRandom } from '../lib/random.js';
import { TillgateError } from '../protocol/errors.js';
import { ADYEN_ACCEPTED, type NotificationRequestItem } from '../protocol/adyen.js';
import { Deliverer, type WebhookSender } from './deliverer.js';
import { createPspSimApp } from './http.js';
import { pspSimOptionsSchema, type PspSimOptions, type PspSimOptionsInput } from './options.js';
import { PspSimulator } from './simulator.js';

export interface PspSimDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** How notifications leave (default: HTTP POST); a bench may hand in its own. */
  readonly send?: WebhookSender;
}

export interface PspSimHandle {
  readonly url: string;
  readonly port: number;
  readonly options: PspSimOptions;
  readonly simulator: PspSimulator;
  readonly deliverer: Deliverer;
  close(): Promise<void>;
}

/** The Adyen-style POST: success only for 200 with the body `[accepted]`. */
export function httpSender(timeoutMs: number): WebhookSender {
  return async (url: string, items: readonly NotificationRequestItem[]) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ live: 'false', notificationItems: items.map((i) => ({ NotificationRequestItem: i })) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = (await res.text()).slice(0, 64);
    return res.status === 200 && text.trim() === ADYEN_ACCEPTED;
  };
}

/** Builds the simulator without a socket (the bench drives it on a virtual clock). */
export function createPspSim(options: PspSimOptions, deps: PspSimDeps = {}): { simulator: PspSimulator; deliverer: Deliverer } {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger({ level: options.logLevel, bindings: { program: 'psp-sim' } });
  // Two independent streams from the seed: what is decided does not depend on delivery order.
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  const deliverer = new Deliverer(options, clock, seededRandom(seed ^ 0x5bd1e995), deps.send ?? httpSender(options.deliveryTimeoutMs), logger);
  const simulator = new PspSimulator(options, clock, seededRandom(seed), deliverer);
  return { simulator, deliverer };
}

export async function startPspSim(input: PspSimOptionsInput, deps: PspSimDeps = {}): Promise<PspSimHandle> {
  const parsed = pspSimOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TillgateError('CONFIG_INVALID', `invalid psp-sim option ${String(issue?.path[0] ?? '')}: ${issue?.message ?? 'invalid'}`);
  }
  const options = Object.freeze(parsed.data);
  const { simulator, deliverer } = createPspSim(options, deps);
  const app = createPspSimApp(simulator, deliverer);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: options.host, port: options.httpPort }) as Server;
    s.once('error', reject);
    s.once('listening', () => resolve(s));
  });
  deliverer.start();
  const port = (server.address() as AddressInfo).port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    options,
    simulator,
    deliverer,
    close() {
      closing ??= (async () => {
        await deliverer.stop();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await simulator.close();
      })();
      return closing;
    },
  };
}
