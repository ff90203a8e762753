/**
 * The sockets in front of Aedes: MQTT over TCP, and over TLS when a certificate is configured
 * (DESIGN §3.3: 1883 / 8883). Every accepted socket goes through the connection gate first, which
 * bounds sockets that have not authenticated apart from terminals' sessions (connection-gate.ts);
 * `maxSockets` is the hard stop at accept, above both.
 */
import { listenFailure } from '../../lib/cli-failure.js';
import { optionError } from '../../lib/config.js';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Aedes } from 'aedes';
import type { ConnectionGate } from './connection-gate.js';
import { guardPacketSize } from './packet-size-guard.js';

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  /** Open sockets per listener, sessions and pending ones together. */
  readonly maxSockets: number;
  readonly gate: ConnectionGate;
  /** Packets declaring more are refused by closing the connection (packet-size-guard.ts). */
  readonly maxPacketBytes: number;
  readonly onOversize: () => void;
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly port: number };
}

export interface Listeners {
  readonly mqttPort: number;
  readonly mqttTlsPort: number | null;
  /** Stops accepting new sockets (open ones are closed by the broker). */
  close(): Promise<void>;
}

export async function listen(broker: Aedes, options: ListenOptions): Promise<Listeners> {
  const servers: Server[] = [];
  const handle = (socket: Socket) => {
    options.gate.admit(socket);
    broker.handle(socket);
    guardPacketSize(socket, options.maxPacketBytes, options.onOversize);
  };
  const tcp = createServer(handle);
  servers.push(tcp);
  try {
    const mqttPort = await bind(tcp, options.host, options.port, options.maxSockets).catch((err: unknown) => {
      throw listenFailure(err, 'mqttPort', options.host, options.port);
    });
    let mqttTlsPort: number | null = null;
    if (options.tls !== undefined) {
      const secure = createTlsServer({ cert: readPem(options.tls.certFile, 'tlsCert'), key: readPem(options.tls.keyFile, 'tlsKey') }, handle);
      servers.push(secure);
      const tlsPort = options.tls.port;
      mqttTlsPort = await bind(secure, options.host, tlsPort, options.maxSockets).catch((err: unknown) => {
        throw listenFailure(err, 'mqttTlsPort', options.host, tlsPort);
      });
    }
    return { mqttPort, mqttTlsPort, close: () => closeAll(servers) };
  } catch (err) {
    await closeAll(servers);
    throw err;
  }
}

/** A PEM file of the TLS listener; unreadable is a startup error naming its option. */
function readPem(path: string, option: 'tlsCert' | 'tlsKey'): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw optionError('TLS_FILE_UNREADABLE', option, `cannot read ${path}: ${(cause as Error).message}`, cause);
  }
}

function bind(server: Server, host: string, port: number, maxConnections: number): Promise<number> {
  server.maxConnections = maxConnections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops accepting. Does not wait for open sockets to end (net.Server#close would): the broker
 * closes its clients after the last commit, later in the shutdown.
 */
async function closeAll(servers: readonly Server[]): Promise<void> {
  for (const s of servers) if (s.listening) s.close();
}
