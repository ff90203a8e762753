/**
 * A TCP proxy for WAN faults: sits on 127.0.0.1 between the gateway and the cloud and
 * can refuse connections, cut them mid-request, let requests through but drop the answers (so the
 * cloud commits and the gateway never hears it), cut everything now, and flap between up and down.
 * node:net only; every socket it opens it closes.
 */
import { createServer, Socket, type Server } from 'node:net';

/**
 * - `pass`: forward both ways;
 * - `refuse`: new connections are reset at once (link down);
 * - `cut-requests`: forward the first `cutAfterBytes` of each request, then cut both sides;
 * - `drop-responses`: forward requests whole, swallow the answer and cut the client side.
 */
export type ProxyMode = 'pass' | 'refuse' | 'cut-requests' | 'drop-responses';

export interface ProxyStats {
  connections: number;
  refused: number;
  cutRequests: number;
  droppedResponses: number;
  cutsByCommand: number;
  /** Times a flap took the link down. */
  flaps: number;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  sentBytes: number;
}

export class TcpProxy {
  readonly stats: ProxyStats = { connections: 0, refused: 0, cutRequests: 0, droppedResponses: 0, cutsByCommand: 0, flaps: 0 };
  /** Bytes of a request let through in `cut-requests` mode before the cut. */
  cutAfterBytes = 200;
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  #targetPort: number;
  #mode: ProxyMode = 'pass';
  #flapTimer: NodeJS.Timeout | null = null;

  private constructor(server: Server, targetPort: number) {
    this.#server = server;
    this.#targetPort = targetPort;
    server.on('connection', (socket) => this.#accept(socket));
  }

  /** Listens on 127.0.0.1 (ephemeral port) and forwards to 127.0.0.1:targetPort. */
  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, targetPort);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new TypeError('proxy is not listening');
    return address.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get mode(): ProxyMode {
    return this.#mode;
  }

  /** Points new connections at another port (a restarted cloud). */
  setTarget(port: number): void {
    this.#targetPort = port;
  }

  /** Switches mode; going to `refuse` also cuts the live connections (the cable is pulled). */
  setMode(mode: ProxyMode): void {
    this.#mode = mode;
    if (mode === 'refuse') this.cutAll();
  }

  /** Destroys every live connection now, mid-request or not. */
  cutAll(): void {
    for (const pair of this.#pairs) {
      this.stats.cutsByCommand++;
      this.#destroy(pair);
    }
  }

  /**
   * Alternates `pass` for `upMs` and a fault for `downMs` until `stopFlapping()`; the faults are
   * taken from `downModes` in turn.
   */
  flap(upMs: number, downMs: number, downModes: readonly Exclude<ProxyMode, 'pass'>[] = ['refuse']): void {
    this.stopFlapping();
    let n = 0;
    const toggle = (up: boolean) => {
      if (!up) this.stats.flaps++;
      this.setMode(up ? 'pass' : (downModes[n++ % downModes.length] ?? 'refuse'));
      this.#flapTimer = setTimeout(() => toggle(!up), up ? upMs : downMs);
    };
    toggle(true);
  }


  /** Stops flapping and leaves the link up. */
  stopFlapping(): void {
    if (this.#flapTimer !== null) clearTimeout(this.#flapTimer);
    this.#flapTimer = null;
    this.#mode = 'pass';
  }

  async close(): Promise<void> {
    this.stopFlapping();
    this.cutAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.stats.connections++;
    if (this.#mode === 'refuse') {
      this.stats.refused++;
      client.resetAndDestroy();
      return;
    }
    const upstream = new Socket();
    const pair: Pair = { client, upstream, sentBytes: 0 };
    this.#pairs.add(pair);
    client.pause();
    upstream.connect(this.#targetPort, '127.0.0.1', () => client.resume());
    client.on('data', (chunk: Buffer) => {
      if (this.#mode === 'cut-requests') {
        const room = this.cutAfterBytes - pair.sentBytes;
        if (room <= chunk.length) {
          if (room > 0) upstream.write(chunk.subarray(0, room));
          this.stats.cutRequests++;
          // Let the partial request reach the cloud, then cut both sides.
          setImmediate(() => this.#destroy(pair));
          return;
        }
      }
      pair.sentBytes += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (this.#mode === 'drop-responses') {
        this.stats.droppedResponses++;
        this.#destroy(pair);
        return;
      }
      client.write(chunk);
    });
    const end = () => this.#destroy(pair);
    client.on('end', end);
    upstream.on('end', end);
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  }

  #destroy(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream.destroy();
  }
}
