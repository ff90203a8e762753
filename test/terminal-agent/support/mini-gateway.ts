/**
 * A minimal gateway for publisher mechanics tests: a REAL Aedes broker on 127.0.0.1 port 0 with the
 * DESIGN §3.3 ingest rules in `authorizePublish` (decode, verify, sequence/chain, store in memory,
 * retained ack, rejects with PUBACK, and event-id uniqueness: DUPLICATE_ID). Not the real gateway
 * (tests against it live in test/e2e/): it lets these tests inject any reject code (also ones no
 * gateway sends today), a full store, another chain for a terminal, and held answers, which the
 * real gateway offers no switch for.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { chainHash, classifySequence, EMPTY_HEAD, type ChainHead } from '../../../protocol/chain.js';
import { RejectError, type RejectCode } from '../../../protocol/errors.js';
import { decodeEvent, verifyEventSignature } from '../../../protocol/jws.js';
import { publicKeyFromRaw } from '../../../protocol/keys.js';
import type { Signer } from '../../../protocol/signer.js';
import { parseTopic, topics } from '../../../protocol/topics.js';

export interface MiniGateway {
  readonly url: string;
  readonly port: number;
  readonly events: Map<string, string[]>;
  readonly rejects: { terminal: string; seq: number; code: string }[];
  /** Reject the event with this seq (once) with `code`: any wire code, known or not. */
  rejectSeq(terminal: string, seq: number, code: string): void;
  /**
   * Refuse the event first published at this seq with `code`, and that event (its id) every time
   * again, wherever it is sent: a gateway refusing its content, as a real one does.
   */
  refuseEvent(terminal: string, seq: number, code: string): void;
  /** Reject every event of the terminal with `code` until called with undefined. */
  rejectAll(terminal: string, code: string | undefined): void;
  /** Replaces a terminal's stored chain and publishes its retained ack (a gateway holding another chain). */
  setChain(terminal: string, list: string[]): Promise<void>;
  /** Holds every answer (PUBACK, ack, reject) until `resume()`. */
  pause(): void;
  resume(): void;
  /** How many times each event id was published (and verified). */
  readonly sends: Map<string, number>;
  /** PUBACK the event with this seq (once) without storing it: a lost message. */
  dropSeq(terminal: string, seq: number): void;
  /** Restores a terminal's stored events (a gateway restart on the same disk). */
  restore(terminal: string, list: string[]): void;
  /** Health samples seen, parsed. */
  readonly health: unknown[];
  /** When true every event gets STORE_FULL. */
  storeFull: boolean;
  publishStatus(status: { wan: 'online' | 'degraded' | 'offline'; accepting: boolean }): Promise<void>;
  /** Drops every client connection (a WiFi blip from the broker's side). */
  dropClients(): void;
  close(): Promise<void>;
}

export async function startMiniGateway(store: string, terminals: Record<string, { signer: Signer; password: string }>, port = 0): Promise<MiniGateway> {
  const broker = await Aedes.createBroker();
  const heads = new Map<string, ChainHead>();
  const events = new Map<string, string[]>();
  const rejects: MiniGateway['rejects'] = [];
  const planned = new Map<string, string>();
  const always = new Map<string, string>();
  const refuseAtSeq = new Map<string, string>();
  const refusedIds = new Map<string, string>();
  const sends = new Map<string, number>();
  let paused: { promise: Promise<void>; release: () => void } | undefined;
  const health: unknown[] = [];
  broker.on('publish', (packet, client) => {
    if (client !== null && packet.topic.endsWith('/health')) health.push(JSON.parse(packet.payload.toString()));
  });
  const chains = new Map<string, Promise<unknown>>();
  const sockets = new Set<Socket>();
  const gw = { storeFull: false };

  broker.authenticate = (client, username, password, done) => {
    const t = terminals[client.id];
    done(null, t !== undefined && username === client.id && password?.toString() === t.password);
  };
  const publish = (topic: string, payload: string, retain: boolean) =>
    new Promise<void>((resolve) => broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false }, () => resolve()));

  broker.authorizePublish = (client, packet, done) => {
    if (client === null) return done(null);
    const parsed = parseTopic(packet.topic);
    if (parsed === undefined || parsed.kind === 'gateway' || parsed.terminal !== client.id) return done(new Error('acl'));
    if (parsed.kind === 'health') return done(null);
    const terminal = client.id;
    // Serialize per client so PUBACKs keep publish order (DESIGN §5.1).
    const run = (chains.get(terminal) ?? Promise.resolve()).then(async () => {
      if (paused !== undefined) await paused.promise;
      const head = heads.get(terminal) ?? EMPTY_HEAD;
      let seq = 0;
      let id = '';
      try {
        const ev = decodeEvent(packet.payload as Buffer);
        seq = ev.payload.seq;
        id = ev.payload.id;
        verifyEventSignature(ev, publicKeyFromRaw(terminals[terminal]!.signer.publicKeyRaw));
        const key = `${terminal}:${seq}`;
        sends.set(id, (sends.get(id) ?? 0) + 1);
        const atSeq = refuseAtSeq.get(key);
        if (atSeq !== undefined) {
          refuseAtSeq.delete(key);
          refusedIds.set(id, atSeq);
        }
        const plannedCode = planned.get(key) ?? refusedIds.get(id) ?? always.get(terminal);
        if (plannedCode !== undefined) {
          planned.delete(key);
          if (plannedCode === 'DROP') return;
          throw new RejectError(plannedCode as RejectCode, 'planned by the test');
        }
        if (gw.storeFull) throw new RejectError('STORE_FULL', 'store full');
        const v = classifySequence(head, seq, ev.payload.prev);
        const list = events.get(terminal) ?? [];
        if (v.kind === 'past') {
          if (list[seq - 1] !== ev.jws) throw new RejectError('CONFLICT', 'different bytes');
          await publish(topics.ack(store, terminal), JSON.stringify(head), true);
        } else if (v.kind === 'gap') {
          throw new RejectError('SEQ_GAP', 'gap', { expected: v.expected });
        } else if (v.kind === 'bad-chain') {
          throw new RejectError('BAD_CHAIN', 'bad chain');
        } else if (list.some((stored, i) => i !== seq - 1 && stored !== undefined && decodeEvent(stored).payload.id === id)) {
          throw new RejectError('DUPLICATE_ID', 'this event id is stored at another seq');
        } else {
          list[seq - 1] = ev.jws;
          events.set(terminal, list);
          const next = { seq, hash: chainHash(ev.jws) };
          heads.set(terminal, next);
          await publish(topics.ack(store, terminal), JSON.stringify(next), true);
        }
      } catch (err) {
        if (!(err instanceof RejectError)) throw err;
        rejects.push({ terminal, seq, code: err.code });
        const body = { seq, id, code: err.code, message: err.message, ...(err.expected === undefined ? {} : { expected: err.expected }) };
        await publish(topics.rejects(store, terminal), JSON.stringify(body), false);
      }
    });
    chains.set(terminal, run.catch(() => undefined));
    run.then(() => done(null), (err: Error) => done(err));
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `mqtt://127.0.0.1:${boundPort}`,
    port: boundPort,
    events,
    rejects,
    get storeFull() {
      return gw.storeFull;
    },
    set storeFull(v: boolean) {
      gw.storeFull = v;
    },
    health,
    restore: (terminal, list) => {
      events.set(terminal, [...list]);
      const last = list[list.length - 1];
      if (last !== undefined) heads.set(terminal, { seq: list.length, hash: chainHash(last) });
    },
    rejectSeq: (terminal, seq, code) => void planned.set(`${terminal}:${seq}`, code),
    refuseEvent: (terminal, seq, code) => void refuseAtSeq.set(`${terminal}:${seq}`, code),
    rejectAll: (terminal, code) => void (code === undefined ? always.delete(terminal) : always.set(terminal, code)),
    sends,
    async setChain(terminal, list) {
      events.set(terminal, [...list]);
      const last = list[list.length - 1];
      const head = last === undefined ? EMPTY_HEAD : { seq: list.length, hash: chainHash(last) };
      heads.set(terminal, head);
      await publish(topics.ack(store, terminal), JSON.stringify(head), true);
    },
    pause() {
      if (paused !== undefined) return;
      let release = () => undefined as void;
      const promise = new Promise<void>((r) => (release = r));
      paused = { promise, release };
    },
    resume() {
      paused?.release();
      paused = undefined;
    },
    dropSeq: (terminal, seq) => void planned.set(`${terminal}:${seq}`, 'DROP'),
    publishStatus: (s) => publish(topics.gatewayStatus(store), JSON.stringify({ ...s, backlog: 0, at: new Date().toISOString() }), true),
    dropClients: () => {
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
