/**
 * The forwarder alone, on a fake clock: an in-memory queue (the ForwardQueue seam), scripted cloud
 * answers for the faults, and the delivery rules of DESIGN §3.4: order, backoff, cursor only over
 * settled entries, SEQ_GAP repair, dead letters, 401/413, restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Backoff } from '../../gateway/forwarder/backoff.js';
import { Forwarder, type ForwarderOptions } from '../../gateway/forwarder/forwarder.js';
import type { EnrollmentSource } from '../../gateway/forwarder/request-builder.js';
import { silentLogger } from '../../lib/logger.js';
import type { Enrollment } from '../../protocol/ingest-api.js';
import { signChain, testSigner, type SignedChainEvent } from '../support/events.js';
import { FakeClock } from '../support/fake-clock.js';
import { waitFor } from '../support/wait.js';
import { FakeTimers } from './fake-timers.js';
import { MemoryForwardQueue } from './memory-forward-queue.js';
import { fault, ScriptedCloud } from './scripted-cloud.js';

const STORE = 's-1';
const OPTIONS: ForwarderOptions = {
  gatewayId: 'g-1',
  store: STORE,
  batchMaxEvents: 10,
  batchMaxBytes: 1024 * 1024,
  retryDelayMsMin: 100,
  retryDelayMsMax: 5_000,
  authRetryDelayMs: 60_000,
  deadLetterRetryMax: 100,
};

const chains = new Map<string, SignedChainEvent[]>();
async function chain(terminal: string, count: number): Promise<SignedChainEvent[]> {
  let c = chains.get(terminal);
  if (c === undefined || c.length < count) {
    c = await signChain(testSigner(terminal), STORE, terminal, count);
    chains.set(terminal, c);
  }
  return c.slice(0, count);
}

function enrollmentOf(terminal: string): Enrollment {
  const s = testSigner(terminal);
  return { terminal, kid: s.kid, publicKey: s.publicKeyRaw.toString('base64url'), at: '2026-11-22T09:00:00.000Z' };
}

const registry: EnrollmentSource = { enrollmentsOf: async (t) => [enrollmentOf(t)] };

interface Harness {
  clock: FakeClock;
  timers: FakeTimers;
  queue: MemoryForwardQueue;
  cloud: ScriptedCloud;
  forwarder: Forwarder;
}

const open: Forwarder[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((f) => f.close()));
});

function setup(options: Partial<ForwarderOptions> = {}, random: () => number = () => 0.5, shared?: Partial<Harness>): Harness {
  const clock = shared?.clock ?? new FakeClock();
  const timers = shared?.timers ?? new FakeTimers(clock);
  const queue = shared?.queue ?? new MemoryForwardQueue(() => clock.now());
  const cloud = shared?.cloud ?? new ScriptedCloud();
  const forwarder = new Forwarder({ ...OPTIONS, ...options }, { queue, client: cloud, clock, timers, random, logger: silentLogger, enrollments: registry });
  open.push(forwarder);
  return { clock, timers, queue, cloud, forwarder };
}

async function idleAndDrained(h: Harness): Promise<void> {
  await waitFor(() => h.forwarder.state === 'idle' && h.queue.cursor() === h.queue.head(), { timeoutMs: 5_000, what: 'drained' });
}

async function inBackoff(h: Harness): Promise<void> {
  // A backoff has begun when the forwarder waits on a timer (fireNext removes the old one).
  await waitFor(() => h.forwarder.state === 'backoff' && h.timers.pendingDelaysMs().length > 0, { timeoutMs: 5_000, what: 'backoff' });
}

describe('forwarder', () => {
  it('forwarder - delivers every event in queue order and moves the cursor to the head', async () => {
    const h = setup();
    h.queue.appendEnrollment('t-1', testSigner('t-1').kid, testSigner('t-1').publicKeyRaw.toString('base64url'));
    h.queue.appendEvents('t-1', await chain('t-1', 25));
    h.queue.appendEvents('t-2', await chain('t-2', 7));
    h.forwarder.start();
    await idleAndDrained(h);
    expect(h.cloud.seqsOf('t-1')).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(h.cloud.seqsOf('t-2')).toEqual(Array.from({ length: 7 }, (_, i) => i + 1));
    // The queue's own enrollment goes in the first request, before the events that need it.
    expect(h.cloud.requests[0]?.enrollments.map((e) => e.terminal)).toContain('t-1');
    // Batches by count: 33 entries at 10 per request.
    expect(h.cloud.requests.length).toBe(4);
    expect(h.forwarder.stats.counters.eventsAccepted).toBe(32);
  });

  it('forwarder - reads at most one batch at a time from the queue, whatever the backlog', async () => {
    const h = setup({ batchMaxEvents: 8 });
    h.queue.appendEvents('t-1', await chain('t-1', 50));
    const calls: number[] = [];
    const read = h.queue.readAfter.bind(h.queue);
    h.queue.readAfter = async (after, max, bytes) => {
      calls.push(max);
      return read(after, max, bytes);
    };
    h.forwarder.start();
    await idleAndDrained(h);
    expect(Math.max(...calls)).toBe(8);
    expect(Math.max(...h.cloud.requests.map((r) => r.events.length))).toBe(8);
  });

  it('forwarder - keeps order when the cloud returns 503, and does not move the cursor meanwhile', async () => {
    const h = setup();
    h.queue.appendEvents('t-1', await chain('t-1', 12));
    h.cloud.faults.push(fault.http503, fault.http503, fault.network);
    h.forwarder.start();
    for (let i = 0; i < 3; i++) {
      await inBackoff(h);
      expect(h.queue.cursor()).toBe(0);
      h.timers.fireNext();
    }
    await idleAndDrained(h);
    expect(h.cloud.seqsOf('t-1')).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(h.forwarder.stats.counters.batchesFailed).toBe(3);
    expect(h.forwarder.stats.lastError?.code).toBe('NETWORK');
  });

  it('forwarder - backs off exponentially with full jitter up to the cap', async () => {
    const randoms = [0.999, 0.999, 0.999, 0.5, 0.999, 0.999, 0.999, 0.999, 0.25];
    const h = setup({}, () => randoms.shift() ?? 0.999);
    h.queue.appendEvents('t-1', await chain('t-1', 1));
    h.cloud.persistentFault = fault.http503;
    h.forwarder.start();
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      await inBackoff(h);
      delays.push(...h.timers.pendingDelaysMs());
      h.timers.fireNext();
    }
    // ceilings 100, 200, 400, 800, 1600, 3200, 5000 (cap), 5000, 5000; delay = random * ceiling
    expect(delays).toEqual([99, 199, 399, 400, 1598, 3196, 4995, 4995, 1250]);
    // The last timer fired a 10th attempt; with the cloud healthy again it delivers.
    h.cloud.persistentFault = null;
    await idleAndDrained(h);
  });

  it('forwarder - the Backoff alone: grows, jitters within [0, ceiling), resets', () => {
    const b = new Backoff({ retryDelayMsMin: 10, retryDelayMsMax: 100 }, () => 0.999999);
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([9, 19, 39, 79, 99]);
    b.reset();
    expect(b.ceilingMs()).toBe(10);
    const zero = new Backoff({ retryDelayMsMin: 10, retryDelayMsMax: 100 }, () => 0);
    expect(zero.next()).toBe(0);
    expect(() => new Backoff({ retryDelayMsMin: 0, retryDelayMsMax: 1 }, Math.random)).toThrow(TypeError);
  });

  it('forwarder - a wake (WAN back, or drain) ends the backoff at once', async () => {
    const h = setup();
    h.queue.appendEvents('t-1', await chain('t-1', 3));
    h.cloud.faults.push(fault.network);
    h.forwarder.start();
    await inBackoff(h);
    h.forwarder.wake();
    await idleAndDrained(h);
    expect(h.cloud.seqsOf('t-1')).toEqual([1, 2, 3]);
  });

  it('forwarder - wakes up when new entries are appended while idle', async () => {
    const h = setup();
    h.forwarder.start();
    await waitFor(() => h.forwarder.state === 'idle');
    h.queue.appendEvents('t-1', await chain('t-1', 4));
    await idleAndDrained(h);
    expect(h.cloud.seqsOf('t-1')).toEqual([1, 2, 3, 4]);
  });

  it('forwarder - a lost answer after the cloud committed is resent and settled as duplicates', async () => {
    const h = setup();
    h.queue.appendEvents('t-1', await chain('t-1', 5));
    h.cloud.faults.push(fault.commitThenLose);
    h.forwarder.start();
    await inBackoff(h);
    expect(h.queue.cursor()).toBe(0);
    h.timers.fireNext();
    await idleAndDrained(h);
    expect(h.cloud.seqsOf('t-1')).toEqual([1, 2, 3, 4, 5]);
    expect(h.forwarder.stats.counters.eventsDuplicate).toBe(5);
  });

  it('forwarder - a malformed 200 is a retryable fault, never a cursor advance', async () => {
    const h = setup();
    h.queue.appendEvents('t-1', await chain('t-1', 4));
    h.cloud.faults.push(fault.malformed);
    h.forwarder.start();
    await inBackoff(h);
    expect(h.queue.cursorWrites).toEqual([]);
    expect(h.forwarder.stats.lastError?.code).toBe('MALFORMED_RESPONSE');
    h.timers.fireNext();
    await idleAndDrained(h);
  });

  it('forwarder - repairs a SEQ_GAP by resending the terminal from expected, then goes on', async () => {
    const h = setup();
    const events = await chain('t-1', 10);
    h.queue.appendEvents('t-1', events.slice(0, 6));
    h.forwarder.start();
    await idleAndDrained(h);
    // The cloud comes back from an old backup: it lost seq 4–6, which the gateway still holds.
    h.cloud.loseFrom('t-1', 4);
    h.queue.appendEvents('t-2', await chain('t-2', 2));
    h.queue.appendEvents('t-1', events.slice(6));
    await idleAndDrained(h);
    expect(h.cloud.seqsOf('t-1')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(h.cloud.seqsOf('t-2')).toEqual([1, 2]);
    expect(h.forwarder.stats.counters.gapRepairs).toBe(1);
    expect(h.queue.deadLetterCount()).toBe(0);
    // The repair request carried the terminal's enrollment.
    expect(h.cloud.requests.some((r) => r.events.length === 3 && r.enrollments.some((e) => e.terminal === 't-1'))).toBe(true);
  });

  it('forwarder - the cursor only advances over settled entries', async () => {
    const h = setup({ batchMaxEvents: 20 });
    h.queue.appendEvents('t-1', (await chain('t-1', 3)).slice(0, 3));
    h.forwarder.start();
    await idleAndDrained(h);
    h.cloud.loseFrom('t-1', 2);
    h.cloud.faultAt.set(h.cloud.requests.length + 2, fault.network); // the repair's request fails
    const t1 = await chain('t-1', 5);
    h.queue.appendEvents('t-2', await chain('t-2', 2)); // pos 4, 5
    h.queue.appendEvents('t-1', t1.slice(3)); // pos 6, 7 → gap (cloud head is 1)
    await inBackoff(h);
    // Only t-2's two events (pos 4, 5) were settled; pos 6 gapped and was not passed.
    expect(h.queue.cursor()).toBe(5);
    expect(Math.max(...h.queue.cursorWrites)).toBe(5);
    h.timers.fireNext();
    await idleAndDrained(h);
    expect(h.cloud.seqsOf('t-1')).toEqual([1, 2, 3, 4, 5]);
  });

  it('forwarder - dead-letters refused events with an alarm, and an admin retry recovers them', async () => {
    const h = setup();
    let refuse = true;
    h.cloud.rejectRule = (t, s) => (refuse && t === 't-1' && s === 3 ? 'BAD_CHAIN' : undefined);
    h.queue.appendEvents('t-1', await chain('t-1', 5));
    h.queue.appendEvents('t-2', await chain('t-2', 3));
    h.forwarder.start();
    await idleAndDrained(h);
    const letters = await h.queue.listDeadLetters(10);
    // seq 3 refused; seq 4 and 5 cannot pass the hole (unrepairable gap): all three dead letters.
    expect(letters.map((l) => [l.seq, l.code])).toEqual([[3, 'BAD_CHAIN'], [4, 'SEQ_GAP'], [5, 'SEQ_GAP']]);
    expect(h.cloud.seqsOf('t-2')).toEqual([1, 2, 3]);
    expect(h.forwarder.stats.counters.alarms.BAD_CHAIN).toBe(1);
    expect(h.forwarder.stats.counters.alarms.GAP_UNREPAIRABLE).toBe(1);
    expect(h.queue.backlog().events).toBe(0);
    // The cloud's operator fixes the cause; the admin retries.
    refuse = false;
    expect(await h.forwarder.retryDeadLetters()).toBe(3);
    await waitFor(() => h.queue.deadLetterCount() === 0 && h.forwarder.state === 'idle');
    expect(h.cloud.seqsOf('t-1')).toEqual([1, 2, 3, 4, 5]);
  });

  it('forwarder - a reject code or status it does not know dead-letters that one event and forwarding goes on', async () => {
    const h = setup();
    let newer = true;
    // A newer cloud: codes and a status this gateway has never heard of, and the new known codes.
    h.cloud.rejectRule = (t, s) => (newer && s === 1 ? ({ 't-1': 'FUTURE_CODE', 't-2': 'KEY_REVOKED', 't-3': 'DUPLICATE_ID' } as Record<string, string>)[t] : undefined);
    h.cloud.statusRule = (t, s) => (newer && t === 't-4' && s === 1 ? 'parked-for-review' : undefined);
    for (const t of ['t-1', 't-2', 't-3', 't-4', 't-5']) h.queue.appendEvents(t, await chain(t, 1));
    h.forwarder.start();
    await idleAndDrained(h);
    expect((await h.queue.listDeadLetters(10)).map((l) => [l.terminal, l.code])).toEqual([
      ['t-1', 'FUTURE_CODE'], ['t-2', 'KEY_REVOKED'], ['t-3', 'DUPLICATE_ID'], ['t-4', 'UNKNOWN_STATUS'],
    ]);
    expect(h.cloud.seqsOf('t-5')).toEqual([1]);
    expect(h.forwarder.stats.counters.alarms).toMatchObject({ FUTURE_CODE: 1, KEY_REVOKED: 1, DUPLICATE_ID: 1, UNKNOWN_STATUS: 1 });
    expect(h.forwarder.stats.counters.batchesFailed).toBe(0);
    // A dead letter is settled only by an answer that says the cloud holds it.
    expect(await h.forwarder.retryDeadLetters()).toBe(4);
    await waitFor(() => h.forwarder.state === 'idle' && h.cloud.requests.length >= 2);
    expect(h.queue.deadLetterCount()).toBe(4);
    newer = false;
    await h.forwarder.retryDeadLetters();
    await waitFor(() => h.queue.deadLetterCount() === 0 && h.forwarder.state === 'idle');
  });

  it('forwarder - 401 raises an alarm and keeps retrying slowly without losing anything', async () => {
    const h = setup();
    h.queue.appendEvents('t-1', await chain('t-1', 3));
    h.cloud.persistentFault = fault.http401;
    h.forwarder.start();
    await inBackoff(h);
    expect(h.timers.pendingDelaysMs()).toEqual([60_000]);
    h.timers.fireNext();
    await inBackoff(h);
    expect(h.forwarder.stats.counters.alarms.HTTP_401).toBe(2);
    expect(h.queue.cursor()).toBe(0);
    h.cloud.persistentFault = null; // the token is fixed
    h.timers.fireNext();
    await idleAndDrained(h);
    expect(h.cloud.seqsOf('t-1')).toEqual([1, 2, 3]);
  });

  it('forwarder - 413 halves the batch until the cloud takes it', async () => {
    const h = setup({ batchMaxEvents: 8 });
    h.queue.appendEvents('t-1', await chain('t-1', 8));
    h.cloud.faults.push(fault.http413, fault.http413);
    h.forwarder.start();
    await idleAndDrained(h);
    expect(h.cloud.requests.map((r) => r.events.length).slice(0, 3)).toEqual([8, 4, 2]);
    expect(h.cloud.seqsOf('t-1')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('forwarder - a single event the cloud answers 400 to goes to dead letters, the rest flows', async () => {
    const h = setup({ batchMaxEvents: 2 });
    h.queue.appendEvents('t-2', await chain('t-2', 1));
    h.queue.appendEvents('t-1', await chain('t-1', 1));
    h.cloud.faults.push(fault.http400, fault.http400);
    h.forwarder.start();
    await idleAndDrained(h);
    const letters = await h.queue.listDeadLetters(10);
    expect(letters.map((l) => [l.terminal, l.code])).toEqual([['t-2', 'HTTP_400']]);
    expect(h.cloud.seqsOf('t-1')).toEqual([1]);
  });

  it('forwarder - UNKNOWN_KEY resends the terminal enrollments and then the event', async () => {
    const h = setup();
    h.cloud.requireKeys = true;
    h.queue.appendEvents('t-1', await chain('t-1', 2));
    h.forwarder.start();
    await idleAndDrained(h);
    expect(h.cloud.seqsOf('t-1')).toEqual([1, 2]);
    // The first batch after a start already carries the keys of its terminals.
    expect(h.cloud.requests[0]?.enrollments.map((e) => e.terminal)).toEqual(['t-1']);
    // Later the cloud forgets the key: the forwarder resends it once and delivers.
    h.cloud.keys.clear();
    h.cloud.loseFrom('t-1', 3);
    h.queue.appendEvents('t-1', (await chain('t-1', 4)).slice(2));
    await idleAndDrained(h);
    expect(h.cloud.seqsOf('t-1')).toEqual([1, 2, 3, 4]);
    expect(h.queue.deadLetterCount()).toBe(0);
  });

  it('forwarder - resumes from the stored cursor after a restart', async () => {
    const h = setup({ batchMaxEvents: 5 });
    const events = await chain('t-1', 12);
    h.queue.appendEvents('t-1', events.slice(0, 5));
    h.forwarder.start();
    await idleAndDrained(h);
    await h.forwarder.close();
    h.queue.appendEvents('t-1', events.slice(5));
    const sentBefore = h.cloud.requests.length;
    const again = setup({ batchMaxEvents: 5 }, () => 0.5, { clock: h.clock, timers: h.timers, queue: h.queue, cloud: h.cloud });
    again.forwarder.start();
    await idleAndDrained(again);
    const firstAfter = h.cloud.requests[sentBefore];
    // It starts after the stored cursor, not from the beginning, and resends that batch's keys.
    expect(firstAfter?.events[0]).toBe(events[5]?.jws);
    expect(firstAfter?.enrollments.map((e) => e.terminal)).toEqual(['t-1']);
    expect(h.cloud.seqsOf('t-1')).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(h.forwarder.stats.counters.eventsDuplicate + again.forwarder.stats.counters.eventsDuplicate).toBe(0);
  });

  it('forwarder - close while backing off ends the loop and leaves the cursor as it was', async () => {
    const h = setup();
    h.queue.appendEvents('t-1', await chain('t-1', 2));
    h.cloud.persistentFault = fault.http503;
    h.forwarder.start();
    await inBackoff(h);
    await h.forwarder.close();
    expect(h.forwarder.state).toBe('closed');
    expect(h.queue.cursor()).toBe(0);
  });
});
