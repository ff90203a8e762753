/**
 * Aedes' in-memory persistence with bounded offline queues. Aedes 1.x keeps every QoS 1 message for
 * a subscriber with a persistent session (clean session false) in that client's outgoing queue
 * (aedes-persistence `outgoingEnqueueCombi`) until it is delivered and PUBACKed, with no limit: every
 * retained status publication (every 30 s) piled up for every terminal that stayed offline, ~2,880 a
 * day each, in broker memory.
 *
 * This keeps aedes-persistence's memory implementation for everything else and replaces its five
 * outgoing-queue methods (same semantics, see asyncPersistence.js), bounding the queue of a client
 * that is offline:
 * - a message on a last-value topic (the retained `ack` and `gateway/status` of DESIGN §3.3: a newer
 *   one supersedes every older one) replaces the queued, not yet sent, message on the same topic;
 * - past `maxQueuedPerClient` the oldest message not yet sent is dropped, and counted.
 * A connected client's queue is its in-flight window and is left alone (Aedes delivers it at once).
 * Dropping is safe for this gateway's topics: acks and status are last-value, rejects go to a client
 * that is connected (it just published), and updates are advisory (the cloud's read API has them).
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';

/**
 * aedes-persistence and aedes-packet are Aedes' own dependencies (not ours): resolve them from
 * Aedes' package, so we always extend exactly the implementation Aedes itself would use.
 */
const require = createRequire(import.meta.resolve('aedes'));

/** What of an aedes packet these methods read. */
interface QueuedPacket {
  readonly topic: string;
  messageId?: number;
  readonly brokerId?: string;
  readonly brokerCounter?: number;
}

interface AedesClientRef {
  readonly id: string;
}

interface BrokerRef {
  readonly clients: Readonly<Record<string, unknown>>;
}

/** aedes-persistence's in-memory implementation (CommonJS, no typings for these deep paths). */
interface MemoryPersistenceClass {
  new (opts?: object): { readonly broker: BrokerRef | undefined };
}
const MemoryPersistence = require('aedes-persistence/asyncPersistence.js') as MemoryPersistenceClass;
const { CallBackPersistence } = require('aedes-persistence/callBackPersistence.js') as {
  CallBackPersistence: new (factory: (opts: object) => object, opts?: object) => object;
};
const { Packet } = require('aedes-persistence') as { Packet: new (packet: QueuedPacket) => QueuedPacket };

export interface OfflineQueueLimits {
  /** QoS 1 messages kept for one offline client; the oldest unsent one goes first past it. */
  readonly maxQueuedPerClient: number;
  /** True for topics whose newest message supersedes older ones (retained state). */
  readonly isLastValueTopic: (topic: string) => boolean;
}

export interface OfflineQueueStats {
  /** Older messages on a last-value topic replaced by a newer one while the client was offline. */
  superseded: number;
  /** Messages dropped because a client's offline queue was full. */
  dropped: number;
}

class BoundedMemoryPersistence extends MemoryPersistence {
  readonly #limits: OfflineQueueLimits;
  readonly #stats: OfflineQueueStats;
  /** clientId → queued packets, oldest first (aedes-persistence's `#outgoing`). */
  readonly #queues = new Map<string, QueuedPacket[]>();

  constructor(opts: object, limits: OfflineQueueLimits, stats: OfflineQueueStats) {
    super(opts);
    this.#limits = limits;
    this.#stats = stats;
  }

  async outgoingEnqueue(sub: AedesClientRef & { readonly clientId: string }, packet: QueuedPacket): Promise<void> {
    this.#enqueue(sub.clientId, packet);
  }

  async outgoingEnqueueCombi(subs: readonly { readonly clientId: string }[], packet: QueuedPacket): Promise<void> {
    for (const sub of subs) this.#enqueue(sub.clientId, packet);
  }

  async outgoingUpdate(client: AedesClientRef, packet: QueuedPacket): Promise<void> {
    const queue = this.#queue(client.id);
    for (let i = 0; i < queue.length; i++) {
      const queued = queue[i] as QueuedPacket;
      if (queued.brokerId === packet.brokerId) {
        if (queued.brokerCounter === packet.brokerCounter) {
          queued.messageId = packet.messageId;
          return;
        }
        // Same broker, other counter: message ids rotate at 65535, keep looking (as aedes-persistence).
      } else if (queued.messageId === packet.messageId) {
        queue[i] = packet;
        return;
      }
    }
    throw new Error('no such packet');
  }

  async outgoingClearMessageId(client: AedesClientRef, packet: QueuedPacket): Promise<QueuedPacket | undefined> {
    const queue = this.#queue(client.id);
    const i = queue.findIndex((q) => q.messageId === packet.messageId);
    if (i < 0) return undefined;
    const [removed] = queue.splice(i, 1);
    if (queue.length === 0) this.#queues.delete(client.id);
    return removed;
  }

  outgoingStream(client: AedesClientRef): Readable {
    // A copy: the queue changes while Aedes drains it on reconnect.
    return Readable.from([...this.#queue(client.id)]);
  }

  /** Queued messages of one client (tests, status). */
  queuedFor(clientId: string): number {
    return this.#queues.get(clientId)?.length ?? 0;
  }

  #queue(clientId: string): QueuedPacket[] {
    let queue = this.#queues.get(clientId);
    if (queue === undefined) {
      queue = [];
      this.#queues.set(clientId, queue);
    }
    return queue;
  }

  #enqueue(clientId: string, packet: QueuedPacket): void {
    const queue = this.#queue(clientId);
    const copy = new Packet(packet);
    const offline = this.broker?.clients[clientId] === undefined;
    if (offline) {
      if (this.#limits.isLastValueTopic(copy.topic)) {
        for (let i = queue.length - 1; i >= 0; i--) {
          const q = queue[i] as QueuedPacket;
          if (q.topic === copy.topic && q.messageId === undefined) {
            queue.splice(i, 1);
            this.#stats.superseded++;
          }
        }
      }
      while (queue.length >= this.#limits.maxQueuedPerClient) {
        const oldestUnsent = queue.findIndex((q) => q.messageId === undefined);
        if (oldestUnsent < 0) {
          // Everything queued is in flight: the new message is the one that goes.
          this.#stats.dropped++;
          return;
        }
        queue.splice(oldestUnsent, 1);
        this.#stats.dropped++;
      }
    }
    queue.push(copy);
  }
}

export interface BoundedPersistence {
  /** Pass as Aedes' `persistence` option. */
  readonly persistence: object;
  readonly stats: Readonly<OfflineQueueStats>;
  /** Messages queued for one client right now. */
  queuedFor(clientId: string): number;
}

/** An Aedes persistence whose offline queues are bounded (see the top of this file). */
export function boundedPersistence(limits: OfflineQueueLimits): BoundedPersistence {
  if (!Number.isSafeInteger(limits.maxQueuedPerClient) || limits.maxQueuedPerClient < 1) throw new TypeError('maxQueuedPerClient must be at least 1');
  const stats: OfflineQueueStats = { superseded: 0, dropped: 0 };
  let memory: BoundedMemoryPersistence | null = null;
  const persistence = new CallBackPersistence((opts) => {
    memory = new BoundedMemoryPersistence(opts, limits, stats);
    return memory;
  });
  return {
    persistence,
    stats,
    queuedFor: (clientId) => memory?.queuedFor(clientId) ?? 0,
  };
}
