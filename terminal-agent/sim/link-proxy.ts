/**
 * A terminal's WiFi link, simulated: a TCP proxy between one terminal and the gateway that can go
 * down (every open connection is cut, new ones are dropped on arrival) and come back up.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class LinkProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #up = true;
  port = 0;

  constructor(readonly targetHost: string, readonly targetPort: number) {}

  get up(): boolean {
    return this.#up;
  }

  async start(): Promise<number> {
    const server = createServer((client) => this.#accept(client));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    return this.port;
  }

  setUp(up: boolean): void {
    this.#up = up;
    if (!up) for (const s of this.#sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.setUp(false);
    const server = this.#server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    if (!this.#up) {
      client.destroy();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.on('close', () => {
        this.#sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
