/**
 * The WAN monitor on a fake clock: probe results and forwarder outcomes move the link between
 * online, degraded and offline; probes run faster while the link is down; listeners hear the
 * moment it comes back; the demo LinkGate cuts it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CloudClient, IngestOutcome, ProbeOutcome } from '../../gateway/forwarder/cloud-client.js';
import { gatedCloudClient, LinkGate } from '../../gateway/forwarder/link-gate.js';
import { WanMonitor, type WanLink } from '../../gateway/wan/wan-monitor.js';
import { silentLogger } from '../../lib/logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { waitFor } from '../support/wait.js';
import { FakeTimers } from './fake-timers.js';

const OPTIONS = { probeIntervalMs: 15_000, probeIntervalOfflineMs: 2_000, probeTimeoutMs: 1_000, degradedRttMs: 500, offlineAfterFailures: 2 };

class ProbeScript implements CloudClient {
  next: ProbeOutcome = { ok: true, rttMs: 20 };
  probes = 0;
  async ingest(): Promise<IngestOutcome> {
    throw new TypeError('not used');
  }
  async probe(): Promise<ProbeOutcome> {
    this.probes++;
    return this.next;
  }
}

const monitors: WanMonitor[] = [];
afterEach(() => monitors.splice(0).forEach((m) => m.close()));

function setup(client?: CloudClient) {
  const clock = new FakeClock();
  const timers = new FakeTimers(clock);
  const script = new ProbeScript();
  const monitor = new WanMonitor(OPTIONS, { client: client ?? script, clock, timers, logger: silentLogger });
  monitors.push(monitor);
  const changes: [WanLink['state'], WanLink['state']][] = [];
  monitor.onChange((link, prev) => changes.push([prev.state, link.state]));
  return { clock, timers, script, monitor, changes };
}

/** Fires the next probe timer and waits until that probe has been applied. */
async function nextProbe(h: ReturnType<typeof setup>): Promise<void> {
  const before = h.script.probes;
  h.timers.fireNext();
  await waitFor(() => h.script.probes > before && h.timers.pendingDelaysMs().length === 1, { what: 'probe' });
}

describe('WAN monitor', () => {
  it('wan - tells probe listeners every result with its time, round trip and whether it was lost', async () => {
    const h = setup();
    const seen: { atMs: number; ok: boolean; rttMs: number | null }[] = [];
    h.monitor.onProbe((p) => seen.push(p));
    h.monitor.start();
    await waitFor(() => seen.length === 1, { what: 'first probe' });
    h.script.next = { ok: false, code: 'NETWORK', rttMs: null };
    h.clock.advance(15_000);
    await nextProbe(h);
    h.script.next = { ok: false, code: 'HTTP_503', rttMs: 80 };
    h.clock.advance(2_000);
    await nextProbe(h);
    const t0 = seen[0]!.atMs;
    expect(seen).toEqual([
      { atMs: t0, ok: true, rttMs: 20 },
      { atMs: t0 + 15_000, ok: false, rttMs: null },
      { atMs: t0 + 17_000, ok: false, rttMs: 80 },
    ]);
  });

  it('wan - goes online on the first good probe and then probes at the slow period', async () => {
    const h = setup();
    expect(h.monitor.link).toMatchObject({ state: 'offline', reason: 'NOT_PROBED' });
    h.monitor.start();
    await waitFor(() => h.monitor.state === 'online');
    expect(h.monitor.link.rttMs).toBe(20);
    await waitFor(() => h.timers.pendingDelaysMs().length === 1);
    expect(h.timers.pendingDelaysMs()).toEqual([15_000]);
    expect(h.changes).toEqual([['offline', 'online']]);
  });

  it('wan - one failed probe is degraded, two are offline, and probes speed up', async () => {
    const h = setup();
    h.monitor.start();
    await waitFor(() => h.monitor.state === 'online' && h.timers.pendingDelaysMs().length === 1);
    h.script.next = { ok: false, code: 'NETWORK', rttMs: null };
    await nextProbe(h);
    expect(h.monitor.link).toMatchObject({ state: 'degraded', reason: 'NETWORK' });
    expect(h.timers.pendingDelaysMs()).toEqual([2_000]);
    await nextProbe(h);
    expect(h.monitor.link).toMatchObject({ state: 'offline', reason: 'NETWORK', rttMs: null });
    const since = h.monitor.link.since;
    await nextProbe(h);
    expect(h.monitor.link.since).toBe(since); // same state keeps its since
    h.script.next = { ok: true, rttMs: 30 };
    await nextProbe(h);
    expect(h.monitor.state).toBe('online');
    expect(h.changes).toEqual([['offline', 'online'], ['online', 'degraded'], ['degraded', 'offline'], ['offline', 'online']]);
  });

  it('wan - a slow round trip is degraded; a cloud answering 503 is degraded, not offline', async () => {
    const h = setup();
    h.script.next = { ok: true, rttMs: 900 };
    h.monitor.start();
    await waitFor(() => h.monitor.state === 'degraded');
    expect(h.monitor.link).toMatchObject({ reason: 'SLOW', rttMs: 900 });
    h.script.next = { ok: false, code: 'HTTP_503', rttMs: 5 };
    await nextProbe(h);
    await nextProbe(h);
    expect(h.monitor.link).toMatchObject({ state: 'degraded', reason: 'HTTP_503' });
  });

  it('wan - learns from forwarder outcomes between probes', async () => {
    const h = setup();
    h.monitor.start();
    await waitFor(() => h.monitor.state === 'online');
    h.monitor.observe({ kind: 'retry', code: 'TIMEOUT', status: null, latencyMs: 30_000 });
    h.monitor.observe({ kind: 'retry', code: 'NETWORK', status: null, latencyMs: 1 });
    expect(h.monitor.state).toBe('offline');
    h.monitor.observe({ kind: 'ok', results: [], latencyMs: 5 });
    expect(h.monitor.state).toBe('online');
    h.monitor.observe({ kind: 'auth', code: 'HTTP_401', status: 401, latencyMs: 5 });
    expect(h.monitor.link).toMatchObject({ state: 'degraded', reason: 'HTTP_401' });
  });

  it('wan - the demo link gate takes the link offline at once and gives it back', async () => {
    const clock = new FakeClock();
    const gate = new LinkGate(clock);
    const script = new ProbeScript();
    const h = setup(gatedCloudClient(script, gate));
    h.monitor.start();
    await waitFor(() => h.monitor.state === 'online');
    gate.cutFor(60);
    await h.monitor.probeNow();
    expect(h.monitor.link).toMatchObject({ state: 'offline', reason: 'LINK_CUT' });
    expect(gate.cutUntilMs()).toBe(clock.now() + 60_000);
    clock.advance(60_000);
    expect(gate.isCut()).toBe(false);
    await h.monitor.probeNow();
    expect(h.monitor.state).toBe('online');
    expect(() => gate.cutFor(-1)).toThrow(RangeError);
  });

  it('wan - close stops the probes', async () => {
    const h = setup();
    h.monitor.start();
    await waitFor(() => h.timers.pendingDelaysMs().length === 1);
    h.monitor.close();
    expect(h.timers.pendingDelaysMs()).toEqual([]);
  });
});
