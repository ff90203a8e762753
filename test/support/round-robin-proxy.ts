/**
 * A round-robin TCP load balancer for tests (node:net only): spreads new connections over several
 * targets on 127.0.0.1 in turn, and skips a target that refuses the connection (a replica that is
 * down), as a cloud load balancer does. Counts live connections per target so a test can kill the
 * replica that is busy. Every socket it opens it closes.
 */
import { createServer, Socket, type Server } from 'node:net';

export class RoundRobinProxy {
  readonly #server: Server;
  readonly #targets: number[];
  readonly #live: Array<Set<Socket>>;
  #next = 0;
  /** Connections refused by a target and retried on the next one. */
  skipped = 0;

  private constructor(server: Server, targets: number[]) {
    this.#server = server;
    this.#targets = targets;
    this.#live = targets.map(() => new Set());
    server.on('connection', (socket) => this.#accept(socket));
  }

  /** Listens on 127.0.0.1 (ephemeral port) in front of 127.0.0.1:targets[i]. */
  static async start(targets: readonly number[]): Promise<RoundRobinProxy> {
    const proxy = new RoundRobinProxy(createServer(), [...targets]);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get url(): string {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new TypeError('proxy is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Points target `index` at another port (a restarted replica). */
  setTarget(index: number, port: number): void {
    if (index < 0 || index >= this.#targets.length) throw new RangeError('no such target');
    this.#targets[index] = port;
  }

  /** Live connections per target. */
  liveConnections(): number[] {
    return this.#live.map((s) => s.size);
  }

  async close(): Promise<void> {
    for (const set of this.#live) for (const s of set) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    client.pause();
    client.on('error', () => client.destroy());
    this.#connect(client, this.#targets.length);
  }

  /** Tries the next target; on a refusal, the one after it, `triesLeft` times in all. */
  #connect(client: Socket, triesLeft: number): void {
    if (triesLeft === 0 || client.destroyed) {
      client.destroy();
      return;
    }
    const index = this.#next;
    this.#next = (this.#next + 1) % this.#targets.length;
    const upstream = new Socket();
    let connected = false;
    upstream.once('error', () => {
      upstream.destroy();
      if (!connected) {
        this.skipped++;
        this.#connect(client, triesLeft - 1);
      } else client.destroy();
    });
    upstream.connect(this.#targets[index] as number, '127.0.0.1', () => {
      connected = true;
      const live = this.#live[index] as Set<Socket>;
      live.add(upstream);
      upstream.once('close', () => {
        live.delete(upstream);
        client.destroy();
      });
      client.once('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}
