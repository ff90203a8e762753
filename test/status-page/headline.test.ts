import { describe, expect, it } from 'vitest';
import { buildHeadline, DEFAULT_HEADLINE_OPTIONS, listProblems, PROBLEM_CODES } from '../../gateway/status-page/headline.js';
import { PROBLEM_CATALOGUE, problemCatalogueMarkdown } from '../../gateway/problem-catalogue.js';
import { EMPTY_MONEY } from '../../gateway/store/money.js';
import { FakeClock } from '../support/fake-clock.js';
import {
  blockedView,
  deadLettersView,
  offlineRefusedView,
  storeDamagedView,
  healthyView,
  MIN_MS,
  rejectsView,
  storeFullView,
  takings,
  terminal,
  terminalSilentView,
  wanDownView,
} from './fixtures.js';

const codes = (view: Parameters<typeof listProblems>[0]) => listProblems(view).map((p) => p.code);

describe('status page headline', () => {
  it('headline - says all good with the number of terminals when nothing is wrong', () => {
    const clock = new FakeClock();
    const h = buildHeadline(healthyView(clock.now()));
    expect(h.level).toBe('ok');
    expect(h.problems).toEqual([]);
    expect(h.sentence).toBe('All good — 12 terminals connected, nothing waiting');
  });

  it('headline - after a restore from backup, says in words which terminals wait for the cloud and that their payments are safe meanwhile', () => {
    const now = new FakeClock().now();
    const h = buildHeadline(healthyView(now, { restore: { unconfirmedCount: 4, unconfirmed: ['t-01', 't-02', 't-03', 't-04'], backupTakenAt: '2026-11-21T23:00:00.000Z' } }));
    expect(h.problems.map((p) => p.code)).toEqual([PROBLEM_CODES.restoreUnconfirmed]);
    expect(h.sentence).toBe('Restored from a backup — checking with the cloud which payments of 4 terminals (t-01, t-02, t-03 and 1 more) it already has; until then their new payments wait on the terminals, safely');
    expect(buildHeadline(healthyView(now, { restore: null })).level).toBe('ok');
  });

  it('headline - a gateway kept store-only on purpose says so, with and without payments waiting', () => {
    const now = new FakeClock().now();
    const idle = healthyView(now, { storeOnly: true });
    expect(buildHeadline({ ...idle, forwarder: { ...idle.forwarder, state: 'not running' } }).sentence).toBe('All good — 12 terminals connected, store only: nothing is sent to a cloud');
    const busy = { ...idle, forwarder: { ...idle.forwarder, state: 'not running', backlogEvents: 3, money: takings(3, { EUR: 300 }) } };
    expect(buildHeadline(busy).sentence).toMatch(/^Store only — 3 payments \(EUR 3\.00\) kept on this gateway; nothing is sent to a cloud/);
  });

  it('headline - all good mentions a small backlog in flight', () => {
    const now = new FakeClock().now();
    const base = healthyView(now);
    const view = {
      ...base,
      forwarder: { ...base.forwarder, backlogEvents: 5, oldestPendingAgeS: 2, amountByCurrency: { EUR: 500 }, money: takings(5, { EUR: 500 }) },
      terminals: [terminal('t-01', now), terminal('t-02', now)],
    };
    expect(buildHeadline(view).sentence).toBe('All good — 2 terminals connected, 5 payments on the way to the cloud');
    expect(buildHeadline({ ...base, terminals: [] }).sentence).toBe('All good — no terminals enrolled yet, nothing waiting');
  });

  it('headline - a terminal that disconnected a minute ago is named, never hidden under all good', () => {
    const now = new FakeClock().now();
    const base = healthyView(now);
    const view = { ...base, terminals: [terminal('t-01', now), terminal('t-02', now, { connected: false, lastSeenAtMs: now - MIN_MS })] };
    const h = buildHeadline(view);
    expect(h.level).toBe('warn');
    expect(h.sentence).toBe('Terminal t-02 disconnected 1 min ago');
    expect(h.problems[0]).toMatchObject({ code: PROBLEM_CODES.terminalDisconnected, subjects: ['t-02'] });
    expect(h.problems[0]?.action).toMatch(/^Often a restart or a WiFi blip/);
  });

  it('headline - says the internet is down, for how long, and how much money waits safely', () => {
    const h = buildHeadline(wanDownView(new FakeClock().now()));
    expect(h.level).toBe('alarm');
    expect(h.problems[0]?.code).toBe(PROBLEM_CODES.wanOffline);
    expect(h.sentence).toBe('Internet down for 12 min — 342 payments (EUR 4,210.50) waiting, all stored safely on this gateway');
  });

  it('headline - the WAN-down sentence follows a fake clock and lists every currency', () => {
    const clock = new FakeClock();
    const view = wanDownView(clock.now());
    clock.advance(60 * MIN_MS);
    const later = {
      ...view,
      nowMs: clock.now(),
      forwarder: { ...view.forwarder, backlogEvents: 2, amountByCurrency: { JPY: 1200, EUR: 421_050 }, money: takings(2, { JPY: 1200, EUR: 421_050 }) },
    };
    expect(buildHeadline(later).sentence).toBe('Internet down for 1 h 12 min — 2 payments (EUR 4,210.50 + JPY 1,200) waiting, all stored safely on this gateway');
    const empty = { ...later, forwarder: { ...later.forwarder, backlogEvents: 0, amountByCurrency: {}, money: EMPTY_MONEY }, wan: { ...later.wan, sinceMs: null } };
    expect(buildHeadline(empty).sentence).toBe('Internet down — no payments waiting; new ones are stored safely on this gateway');
  });

  it('headline - counts approved payments as takings, names refunds apart and never counts declined money', () => {
    const now = new FakeClock().now();
    const view = wanDownView(now);
    const money = {
      ...EMPTY_MONEY,
      takings: { count: 340, byCurrency: { EUR: 420_000 } },
      refunds: { count: 2, byCurrency: { EUR: 3_000 } },
      declined: { count: 40, byCurrency: {} },
    };
    const mixed = { ...view, forwarder: { ...view.forwarder, backlogEvents: 382, amountByCurrency: { EUR: 420_000 }, money } };
    expect(buildHeadline(mixed).sentence).toBe('Internet down for 12 min — 340 payments (EUR 4,200.00) and 2 refunds (EUR 30.00) waiting, all stored safely on this gateway');
    const declinedOnly = { ...view, forwarder: { ...view.forwarder, backlogEvents: 3, amountByCurrency: {}, money: { ...EMPTY_MONEY, declined: { count: 3, byCurrency: {} } } } };
    expect(buildHeadline(declinedOnly).sentence).toBe('Internet down for 12 min — 3 transactions waiting, all stored safely on this gateway');
    const online = { ...mixed, wan: healthyView(now).wan, forwarder: { ...mixed.forwarder, oldestPendingAgeS: 1 } };
    expect(buildHeadline(online).sentence).toBe('All good — 12 terminals connected, 340 payments and 2 refunds on the way to the cloud');
  });

  it('headline - storage full outranks the internet being down', () => {
    const now = new FakeClock().now();
    const full = storeFullView(now);
    const both = { ...wanDownView(now), storage: full.storage };
    const h = buildHeadline(both);
    expect(h.sentence).toBe('Storage full — terminals are keeping payments on their own devices');
    expect(h.problems.map((p) => p.code)).toEqual([PROBLEM_CODES.storeFull, PROBLEM_CODES.wanOffline]);
  });

  it('headline - store full does not also report the STORE_FULL rejects as a terminal problem', () => {
    expect(codes(storeFullView(new FakeClock().now()))).toEqual([PROBLEM_CODES.storeFull]);
  });

  it('headline - names a silent terminal and how long it has been gone', () => {
    const h = buildHeadline(terminalSilentView(new FakeClock().now()));
    expect(h.level).toBe('warn');
    expect(h.sentence).toBe('Terminal t-07 has not been seen for 25 min');
  });

  it('headline - groups several silent terminals, longest gone first, and ignores a short blip', () => {
    const now = new FakeClock().now();
    const base = healthyView(now);
    const off = (id: string, minutes: number) => terminal(id, now, { connected: false, lastSeenAtMs: now - minutes * MIN_MS });
    const view = { ...base, terminals: [off('t-01', 30), off('t-02', 11), off('t-03', 90), off('t-04', 45), off('t-05', 2)] };
    expect(buildHeadline(view).sentence).toBe('4 terminals have not been seen for 11 min or more: t-03, t-04, t-01 and 1 more');
    const blip = { ...base, terminals: [off('t-05', 2)] };
    expect(buildHeadline(blip).sentence).toBe('Terminal t-05 disconnected 2 min ago');
    expect(codes(blip)).toEqual([PROBLEM_CODES.terminalDisconnected]);
    const strict = buildHeadline(blip, { ...DEFAULT_HEADLINE_OPTIONS, silentTerminalAfterMs: MIN_MS });
    expect(strict.sentence).toBe('Terminal t-05 has not been seen for 2 min');
  });

  it('headline - calls forged events possible tampering, leaving routine SEQ_GAP out', () => {
    const h = buildHeadline(rejectsView(new FakeClock().now()));
    expect(h.level).toBe('alarm');
    expect(h.problems.map((p) => p.code)).toEqual([PROBLEM_CODES.securityRejects]);
    expect(h.sentence).toBe('Possible tampering — terminal t-03 sent 3 transactions the gateway refused (BAD_SIGNATURE)');
  });

  it('headline - reports other recent rejects as a warning and forgets old ones', () => {
    const clock = new FakeClock();
    const now = clock.now();
    const base = healthyView(now);
    const view = { ...base, terminals: [terminal('t-01', now, { rejects: { PAN_DETECTED: 2, SCHEMA: 1 }, lastRejectAtMs: now - MIN_MS })] };
    const h = buildHeadline(view);
    expect(h.level).toBe('warn');
    expect(h.sentence).toBe('Terminal t-01 sent 3 transactions the gateway refused (PAN_DETECTED, SCHEMA)');
    clock.advance(2 * 60 * MIN_MS);
    expect(buildHeadline({ ...view, nowMs: clock.now() }).level).toBe('ok');
    const routine = { ...base, terminals: [terminal('t-01', now, { rejects: { SEQ_GAP: 4 }, lastRejectAtMs: now })] };
    expect(buildHeadline(routine).level).toBe('ok');
  });

  it('headline - says dead letters need an admin', () => {
    const h = buildHeadline(deadLettersView(new FakeClock().now()));
    expect(h.level).toBe('alarm');
    expect(h.sentence).toBe('2 payments were refused by the cloud — kept on this gateway, an admin must retry them');
  });

  it('headline - warns when the link is unreliable or sending falls behind while it is up', () => {
    const now = new FakeClock().now();
    const down = wanDownView(now);
    const degraded = { ...down, wan: { state: 'degraded' as const, sinceMs: now - 5 * MIN_MS, rttMs: 900 } };
    const h = buildHeadline(degraded);
    expect(h.level).toBe('warn');
    expect(h.sentence).toBe('Internet unreliable for 5 min — 342 payments (EUR 4,210.50) waiting, all stored safely on this gateway');
    const behind = { ...down, wan: { state: 'online' as const, sinceMs: now - MIN_MS, rttMs: 40 } };
    expect(buildHeadline(behind).sentence).toBe('Sending to the cloud is behind — 342 payments (EUR 4,210.50) waiting, the oldest for 12 min');
    const unknown = { ...behind, wan: { state: 'unknown' as const, sinceMs: null, rttMs: null } };
    expect(codes(unknown)).toEqual([PROBLEM_CODES.forwardBehind]);
    const noCloud = { ...unknown, forwarder: { ...unknown.forwarder, state: 'not running', oldestPendingAgeS: 1 } };
    expect(buildHeadline(noCloud).sentence).toBe('No cloud configured — 342 payments (EUR 4,210.50) kept on this gateway, nothing is sent');
  });

  it('headline - keeps every problem in priority order', () => {
    const now = new FakeClock().now();
    const down = wanDownView(now);
    const all = {
      ...down,
      storage: storeFullView(now).storage,
      forwarder: { ...down.forwarder, deadLetters: 1 },
      terminals: [
        terminal('t-01', now, { rejects: { CONFLICT: 1 }, lastRejectAtMs: now }),
        terminal('t-02', now, { connected: false, lastSeenAtMs: now - 60 * MIN_MS }),
        terminal('t-03', now, { rejects: { TOO_LARGE: 1 }, lastRejectAtMs: null }),
      ],
    };
    expect(codes(all)).toEqual([
      PROBLEM_CODES.storeFull,
      PROBLEM_CODES.wanOffline,
      PROBLEM_CODES.deadLetters,
      PROBLEM_CODES.conflict,
      PROBLEM_CODES.terminalSilent,
      PROBLEM_CODES.rejects,
    ]);
    expect(listProblems(all)[2]?.sentence).toBe('1 payment was refused by the cloud — kept on this gateway, an admin must retry it');
  });
});

describe('status page headline after a gateway restart', () => {
  it('headline - a terminal never seen counts from the gateway start: not connected yet, then never connected', () => {
    const now = new FakeClock().now();
    const base = healthyView(now);
    const view = { ...base, uptimeS: 30 * 60, terminals: [terminal('t-01', now), terminal('t-09', now, { connected: false, lastSeenAtMs: null })] };
    expect(buildHeadline(view).sentence).toBe('Terminal t-09 has never connected');
    expect(buildHeadline({ ...view, uptimeS: 60 }).sentence).toBe('Terminal t-09 has not connected yet');
  });

  it('headline - a terminal not back since the restart is named with when it was last seen, in the store time zone', () => {
    const now = new FakeClock().now(); // 09:00 UTC
    const base = healthyView(now);
    const view = {
      ...base,
      timeZone: 'Europe/Berlin',
      uptimeS: 10 * 60,
      terminals: [terminal('t-01', now), terminal('t-09', now, { connected: false, lastSeenAtMs: now - 40 * MIN_MS })],
    };
    expect(buildHeadline(view).sentence).toBe('Terminal t-09 has not been seen since 09:20, before the gateway restarted (40 min ago)');
  });
});

describe('status page problems a technician acts on', () => {
  const now = new FakeClock().now();

  it('problems - every problem says what to do, from the one catalogue the API and the guide use', () => {
    const all = [wanDownView(now), storeFullView(now), terminalSilentView(now), rejectsView(now), deadLettersView(now), blockedView(now), offlineRefusedView(now), storeDamagedView(now)];
    for (const view of all) {
      for (const p of listProblems(view)) {
        const info = PROBLEM_CATALOGUE[p.code];
        expect(p.level).toBe(info.level);
        expect(p.action.startsWith(info.action), p.code).toBe(true);
        expect(p.subjects.length, p.code).toBeGreaterThan(0);
      }
    }
    for (const code of Object.values(PROBLEM_CODES)) expect(PROBLEM_CATALOGUE[code].action.length, code).toBeGreaterThan(40);
    expect(problemCatalogueMarkdown()).toContain('| `WAN_OFFLINE` | problem | wan | Internet down | Check the router');
  });

  it('problems - a blocked terminal is named with the transaction and code holding it', () => {
    const h = buildHeadline(blockedView(now));
    expect(h.level).toBe('alarm');
    expect(h.sentence).toBe('Terminal t-04 is refusing payments — the gateway keeps refusing its transaction no. 17 (PAN_DETECTED)');
    expect(h.problems[0]?.action).toMatch(/^Take payments on another till meanwhile\. Do not reset or wipe this till/);
    // A sample from an agent without the `chain` field: blockedSeq alone means held.
    const old = { ...healthyView(now), terminals: [terminal('t-01', now, { blocked: { seq: 3, code: 'GATEWAY_BEHIND' } })] };
    expect(buildHeadline(old).sentence).toBe('Terminal t-01 is refusing payments — this gateway holds fewer of its transactions than it confirmed (GATEWAY_BEHIND)');
    // Moving past a refused event takes milliseconds: not a problem.
    const moving = { ...healthyView(now), terminals: [terminal('t-01', now, { chain: 'resyncing', blocked: { seq: 3, code: 'PAN_DETECTED' } })] };
    expect(buildHeadline(moving).level).toBe('ok');
  });

  it('problems - the internet down says what the tills refuse meanwhile, from their offline limits', () => {
    const h = buildHeadline(offlineRefusedView(now));
    const wan = h.problems.find((p) => p.code === PROBLEM_CODES.wanOffline);
    expect(wan?.action).toContain('Check the router and the internet line');
    expect(wan?.action).toContain('Meanwhile tills approve card payments offline only up to EUR 100.00 each; a till that cannot reach this gateway either stops at EUR 1,000.00 or 200 payments held, or after 1 day.');
    const refused = h.problems.find((p) => p.code === PROBLEM_CODES.offlineRefused);
    expect(refused?.sentence).toBe('Terminal t-02 refused 3 card payments over its offline limits (amount of one payment ×2, total held on the till ×1, the latest 4 min ago)');
    // An hour later it is history, not a problem.
    expect(codes({ ...offlineRefusedView(now), nowMs: now + 2 * 60 * MIN_MS })).not.toContain(PROBLEM_CODES.offlineRefused);
  });

  it('problems - an admin test cut of the link says so and how to restore it', () => {
    const down = wanDownView(now);
    const cut = { ...down, timeZone: 'Europe/Berlin', wan: { ...down.wan, reason: 'LINK_CUT', cutUntilMs: now + 5 * MIN_MS } };
    const h = buildHeadline(cut);
    expect(h.sentence).toBe('Internet cut for a test by an admin (until 10:05) — 342 payments (EUR 4,210.50) waiting, all stored safely on this gateway');
    expect(h.problems[0]?.action).toContain('This is a test: restore the link under Admin actions, or wait until then.');
  });

  it('problems - a wrong till clock, the cloud refusing the token, a disk using its reserve and a conflict are each named', () => {
    const base = healthyView(now);
    const skewed = { ...base, terminals: [terminal('t-01', now, { clockSkewMs: -7 * MIN_MS - 5_000 }), terminal('t-02', now, { clockSkewMs: 30_000 })] };
    expect(buildHeadline(skewed).sentence).toBe("Terminal t-01's clock is 7 min behind");
    const auth = { ...wanDownView(now), wan: base.wan, forwarder: { ...wanDownView(now).forwarder, lastErrorCode: 'HTTP_401' } };
    expect(buildHeadline(auth).sentence).toBe("The cloud refuses this gateway's token (HTTP_401) — 342 payments (EUR 4,210.50) waiting here");
    const reserve = { ...base, storage: { ...base.storage, reserve: 'released' as const, diskFreeBytes: 300 * 1024 ** 2 } };
    expect(buildHeadline(reserve).sentence).toBe('Disk nearly full — 300.0 MiB free; it stops taking payments at 90 % used');
    const conflict = { ...base, terminals: [terminal('t-01', now, { rejects: { CONFLICT: 2 }, lastRejectAtMs: now })] };
    expect(buildHeadline(conflict).sentence).toBe('Terminal t-01 sent a different transaction under a number already stored here (CONFLICT)');
    expect(buildHeadline(conflict).problems[0]?.action).toMatch(/restored from a backup, cloned or replaced, or someone is tampering/);
  });

  it('problems - a disk that will reach its mark within a day is named with when, and one filling slowly is not', () => {
    const base = healthyView(now);
    const filling = (fullInMs: number) => ({ ...base, storage: { ...base.storage, diskFill: { usedPct: 71.6, risingPctPerH: 2.4, fullInMs } } });
    const soon = buildHeadline(filling(7.5 * 3_600_000));
    expect(soon.sentence).toBe('Disk filling up — 72 % used and rising 2.4 % an hour: at 90 % used, where it stops taking payments in about 7 h 30 min');
    expect(soon.problems[0]).toMatchObject({ code: 'DISK_FILLING', level: 'warn', subjects: ['gateway'] });
    expect(soon.problems[0]?.action).toContain('never delete tillgate');
    expect(buildHeadline(filling(30 * 3_600_000)).level).toBe('ok');
    // Once the reserve is in use, the more urgent "nearly full" says it instead.
    const reserve = { ...filling(3_600_000), storage: { ...filling(3_600_000).storage, reserve: 'released' as const } };
    expect(buildHeadline(reserve).problems.map((p) => p.code)).toEqual(['DISK_RESERVE']);
  });

  it('problems - a till holding payments close to its offline limits says when it will refuse card payments', () => {
    const base = healthyView(now);
    const limits = { maxTxAmountMinor: 10_000, maxUnackedAmountMinor: 50_000, maxUnackedCount: 50, maxUnackedAgeS: 4 * 3_600 };
    const holding = (over: Parameters<typeof terminal>[2]) => ({ ...base, terminals: [terminal('t-03', now, { offlineLimits: limits, sampleAtMs: now - 30_000, ...over }), ...base.terminals.slice(3)] });
    // 3 h 29 min 30 s old at the sample, 30 s ago: 30 minutes left.
    const byAge = buildHeadline(holding({ outboxDepth: 12, outboxOldestAgeS: 3 * 3_600 + 29 * 60 + 30 }));
    expect(byAge.sentence).toBe('Terminal t-03 will refuse card payments in about 30 min — it holds 12 payments this gateway has not stored, the oldest 3 h 30 min old, its limit 4 h');
    expect(byAge.problems[0]).toMatchObject({ code: 'OFFLINE_LIMIT_NEAR', level: 'warn', subjects: ['t-03'] });
    expect(buildHeadline(holding({ outboxDepth: 45, outboxOldestAgeS: 600 })).sentence).toBe('Terminal t-03 holds 45 payments this gateway has not stored, of the 50 its offline limit allows — past that it refuses card payments');
    // Far from both limits, or silent (its age is not known to grow), or already refusing: not this problem.
    expect(buildHeadline(holding({ outboxDepth: 12, outboxOldestAgeS: 600 })).level).toBe('ok');
    expect(buildHeadline(holding({ outboxDepth: 45, outboxOldestAgeS: 600, connected: false, lastSeenAtMs: now - 30 * MIN_MS })).problems.map((p) => p.code)).not.toContain('OFFLINE_LIMIT_NEAR');
    const refusing = holding({ outboxDepth: 50, outboxOldestAgeS: 600, offlineRefused: { total: 2, byCode: { MAX_UNACKED_COUNT: 2 }, lastAtMs: now - MIN_MS } });
    expect(buildHeadline(refusing).problems.map((p) => p.code)).toEqual(['OFFLINE_REFUSED']);
  });

  it('problems - a full disk is still named when the storage is also damaged', () => {
    const damaged = storeDamagedView(now);
    const full = { ...damaged, storage: { ...damaged.storage, diskFreeBytes: 1024 ** 3, diskTotalBytes: 64 * 1024 ** 3 } };
    expect(buildHeadline(full).problems.map((p) => p.code).slice(0, 2)).toEqual(['STORE_DAMAGED', 'STORE_FULL']);
  });

  it('problems - storage damage and lost data are said in plain words, without transaction jargon', () => {
    expect(buildHeadline(storeDamagedView(now)).sentence).toBe('Storage damaged — this gateway stopped taking payments; terminals are keeping them. Call support');
    expect(buildHeadline(storeDamagedView(now)).problems.map((p) => p.code)).not.toContain('STORE_FULL');
    const base = healthyView(now);
    const lost = {
      ...base,
      storage: { ...base.storage, integrity: { state: 'degraded' as const, problems: [{ code: 'EVENTS_MISSING', message: 'terminal t-1: events 5–9 were acknowledged but are not in the store', atMs: now, terminal: 't-1', seqs: { from: 5, through: 9 } }] } },
    };
    const sentence = buildHeadline(lost).sentence;
    expect(sentence).toBe("Storage lost data — terminal t-1's transactions no. 5–9 are missing on this gateway");
    expect(sentence).not.toMatch(/\bseq\b|events/);
  });
});
