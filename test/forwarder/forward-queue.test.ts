/**
 * Runs the ForwardQueue conformance suite against every implementation: the event store's LevelDB
 * queue (in a temp dir, on a fake clock) and the in-memory double the forwarder tests stand on.
 */
import { describe, expect, it } from 'vitest';
import type { CommitEntry } from '../../gateway/store/event-store.js';
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { LevelEventStore } from '../../gateway/store/level-event-store.js';
import type { TerminalKey, TerminalRecord } from '../../gateway/store/records.js';
import { testSigner, type SignedChainEvent } from '../support/events.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { FakeClock } from '../support/fake-clock.js';
import { forwardQueueConformance, signChainWith } from './forward-queue.conformance.js';
import { MemoryForwardQueue } from './memory-forward-queue.js';

function keyOf(terminal: string): TerminalKey {
  const signer = testSigner(terminal);
  return { kid: signer.kid, publicKey: signer.publicKeyRaw.toString('base64url'), at: '2026-11-22T09:00:00.000Z' };
}

function registryRecord(terminal: string): TerminalRecord {
  const key = keyOf(terminal);
  return { terminal, keys: [key], enrolledAt: key.at, updatedAt: key.at, password: { algo: 'scrypt', n: 16384, r: 8, p: 1, salt: 'c2FsdA', hash: 'aGFzaA' } };
}

function eventEntry(terminal: string, e: SignedChainEvent): CommitEntry {
  return {
    kind: 'event', terminal, seq: e.seq, prev: e.payload.prev, jws: e.jws, hash: e.hash,
    id: e.payload.id, type: e.payload.type, outcome: e.payload.outcome, amount: e.payload.amount, currency: e.payload.currency,
  };
}

forwardQueueConformance('leveldb', {
  async create(clock) {
    const dir = await makeTempDir('tillgate-fq-');
    const store = await LevelEventStore.open({ dataDir: dir, rejectsKeep: 1_000, clock, keys: defaultDataKeys(dir) });
    const registered = new Set<string>();
    const register = async (terminal: string, withQueueEntry: boolean) => {
      if (registered.has(terminal) && !withQueueEntry) return;
      registered.add(terminal);
      await store.commit([{ kind: 'enrollment', record: registryRecord(terminal), newKey: withQueueEntry ? keyOf(terminal) : null }], clock.now());
    };
    return {
      queue: store.queue,
      clock,
      appendEnrollment: (terminal) => register(terminal, true),
      async appendEvents(terminal, events) {
        await register(terminal, false);
        await store.commit(events.map((e) => eventEntry(terminal, e)), clock.now());
      },
      hasEvent: async (terminal, seq) => (await store.getEvent(terminal, seq)) !== undefined,
      async close() {
        await store.close();
        await removeDir(dir);
      },
    };
  },
});

forwardQueueConformance('memory', {
  async create(clock) {
    const queue = new MemoryForwardQueue(() => clock.now());
    return {
      queue,
      clock,
      appendEnrollment: async (terminal) => queue.appendEnrollment(terminal, keyOf(terminal).kid, keyOf(terminal).publicKey),
      appendEvents: async (terminal, events) => queue.appendEvents(terminal, events),
      hasEvent: async (terminal, seq) => queue.entries.some((e) => e.kind === 'event' && e.terminal === terminal && e.seq === seq),
      close: async () => undefined,
    };
  },
});

describe('leveldb forward queue', () => {
  it('leveldb - the cloud seq of each terminal survives a restart (it was written with the cursor)', async () => {
    const dir = await makeTempDir('tillgate-fq-');
    const clock = new FakeClock();
    try {
      let store = await LevelEventStore.open({ dataDir: dir, rejectsKeep: 1_000, clock, keys: defaultDataKeys(dir) });
      await store.commit([{ kind: 'enrollment', record: registryRecord('t-a'), newKey: null }], clock.now());
      const events = await signChainWith('t-a', 4, () => ({}));
      await store.commit(events.map((e) => eventEntry('t-a', e)), clock.now());
      await store.queue.advanceCursor(3);
      await store.close();
      store = await LevelEventStore.open({ dataDir: dir, rejectsKeep: 1_000, clock, keys: defaultDataKeys(dir) });
      expect(store.queue.cloudSeq('t-a')).toBe(3);
      await store.close();
    } finally {
      await removeDir(dir);
    }
  });
});
