/**
 * One roll-up run, over whatever stores the data (both HealthStore implementations call this):
 * the minutes from the cursor up to the last minute that ended `graceMs` ago, at most
 * `maxMinutesPerRun` of them, then every hour those minutes complete. Returns what to write and
 * the new cursor; the store writes both in one batch so a crash never leaves half a run.
 */
import {
  MAX_HEALTH_READ, RESOLUTION_MS, type HealthEntry, type HealthSubject, type Rollup, type RollupCursor, type RollupOptions, type RollupRun,
  type TerminalRollup, type WanProbe, type WanRollup,
} from './health-store.js';
import { bucketStart, hourRollups, terminalMinuteRollups, wanMinuteRollups } from './rollup.js';

/** The reads a roll-up run needs; ranges are [fromMs, toMs). */
export interface RollupReader {
  terminals(): readonly string[];
  samples(terminal: string, fromMs: number, toMs: number, limit: number): Promise<HealthEntry[]>;
  sampleBefore(terminal: string, ms: number): Promise<HealthEntry | undefined>;
  probes(fromMs: number, toMs: number, limit: number): Promise<WanProbe[]>;
  minuteRollups(subject: HealthSubject, fromMs: number, toMs: number, limit: number): Promise<Rollup[]>;
}

export interface RollupPlan {
  readonly rollups: readonly Rollup[];
  readonly cursor: RollupCursor;
  readonly run: RollupRun;
}

const MINUTE_MS = RESOLUTION_MS['1m'];
const HOUR_MS = RESOLUTION_MS['1h'];

export async function planRollup(reader: RollupReader, cursor: RollupCursor | undefined, nowMs: number, options: RollupOptions): Promise<RollupPlan> {
  const doneBefore = bucketStart(nowMs - options.graceMs, '1m');
  const maxSpanMs = options.maxMinutesPerRun * MINUTE_MS;
  const start = cursor?.minuteMs ?? doneBefore - maxSpanMs;
  const end = Math.min(doneBefore, start + maxSpanMs);
  if (end <= start) {
    const same = cursor ?? { minuteMs: start, hourMs: bucketStart(start, '1h') };
    return { rollups: [], cursor: same, run: { minutes: 0, hours: 0, written: 0, cursor: same, bounded: false } };
  }
  const hourFrom = cursor?.hourMs ?? bucketStart(start, '1h');
  const hourTo = bucketStart(end, '1h');

  const minutes: Rollup[] = [];
  const hours: Rollup[] = [];
  const subjects: HealthSubject[] = [...reader.terminals().map((terminal) => ({ kind: 'terminal', terminal }) as const), { kind: 'wan' } as const];
  for (const subject of subjects) {
    const fresh: (TerminalRollup | WanRollup)[] =
      subject.kind === 'terminal'
        ? terminalMinuteRollups(subject.terminal, (await reader.sampleBefore(subject.terminal, start))?.sample, await reader.samples(subject.terminal, start, end, MAX_HEALTH_READ))
        : wanMinuteRollups(await reader.probes(start, end, MAX_HEALTH_READ));
    minutes.push(...fresh);
    if (hourTo > hourFrom) {
      // The hours now complete: stored minutes before this run plus the fresh ones.
      const stored = hourFrom < start ? await reader.minuteRollups(subject, hourFrom, Math.min(start, hourTo), MAX_HEALTH_READ) : [];
      const all = [...(stored as (TerminalRollup | WanRollup)[]), ...fresh.filter((r) => r.startMs < hourTo)];
      hours.push(...hourRollups(all));
    }
  }
  const next: RollupCursor = { minuteMs: end, hourMs: Math.max(hourFrom, hourTo) };
  return {
    rollups: [...minutes, ...hours],
    cursor: next,
    run: {
      minutes: (end - start) / MINUTE_MS,
      hours: Math.max(0, (hourTo - hourFrom) / HOUR_MS),
      written: minutes.length + hours.length,
      cursor: next,
      bounded: end < doneBefore,
    },
  };
}
