/** Each detector on a fake clock: what it says about noise, a lasting change, an outlier, a restart. */
import { describe, expect, it } from 'vitest';
import { CounterSurge, Cusum, Ewma, RobustBaseline, RobustSlope, SteadyClimb } from '../../gateway/predict/detectors/index.js';
import { normal, seededRandom } from '../../lib/random.js';
import { FakeClock } from '../support/fake-clock.js';

const MIN = 60_000;
const HOUR = 3_600_000;

describe('detectors', () => {
  it('ewma - weighs a long gap more than a short one', () => {
    const clock = new FakeClock();
    const short = new Ewma(10 * MIN);
    const long = new Ewma(10 * MIN);
    short.update(0, clock.now());
    long.update(0, clock.now());
    expect(short.update(100, clock.now() + MIN)).toBeCloseTo(100 * (1 - Math.exp(-0.1)), 6);
    expect(long.update(100, clock.now() + 60 * MIN)).toBeGreaterThan(99);
  });

  it('ewma - with a capped step, learns from the time spent in something and not from the pauses between', () => {
    const clock = new FakeClock();
    const capped = new Ewma(10 * MIN, MIN);
    capped.update(0, clock.now());
    // Twelve hours away weigh no more than one minute.
    expect(capped.update(100, clock.now() + 12 * HOUR)).toBeCloseTo(100 * (1 - Math.exp(-0.1)), 6);
    expect(() => new Ewma(10 * MIN, 0)).toThrow(RangeError);
  });

  it('robust baseline - scores an outlier high without moving much, and learns a lasting shift', () => {
    const clock = new FakeClock();
    const random = seededRandom(1);
    const b = new RobustBaseline({ tauMs: 30 * MIN, clipZ: 3, minScale: 1, warmupSamples: 10 });
    for (let i = 0; i < 200; i++) {
      b.update(-60 + 2 * normal(random), clock.now());
      clock.advance(30_000);
    }
    const before = b.level;
    expect(before).toBeCloseTo(-60, 0);
    expect(b.update(-95, clock.now())).toBeLessThan(-8);
    expect(Math.abs(b.level - before)).toBeLessThan(1);
    for (let i = 0; i < 400; i++) {
      clock.advance(30_000);
      b.update(-75 + 2 * normal(random), clock.now());
    }
    expect(b.level).toBeCloseTo(-75, 0);
    expect(Math.abs(b.z(-75))).toBeLessThan(0.5);
  });

  it('cusum - stays near zero on noise and climbs on a small lasting shift, one side only', () => {
    const random = seededRandom(2);
    const down = new Cusum({ k: 0.5, cap: 50, direction: 'down' });
    const up = new Cusum({ k: 0.5, cap: 50, direction: 'up' });
    let maxNoise = 0;
    for (let i = 0; i < 500; i++) {
      const z = normal(random) * 0.5;
      maxNoise = Math.max(maxNoise, down.update(z));
      up.update(z);
    }
    expect(maxNoise).toBeLessThan(3);
    for (let i = 0; i < 20; i++) {
      down.update(-1.5);
      up.update(-1.5);
    }
    expect(down.value).toBeGreaterThan(15);
    expect(up.value).toBe(0);
    for (let i = 0; i < 100; i++) down.update(-10);
    expect(down.value).toBe(50);
  });

  it('robust slope - finds a battery falling 9 %/h through rounding and noise, and when it is empty', () => {
    const clock = new FakeClock();
    const random = seededRandom(3);
    const s = new RobustSlope({ tauMs: 30 * MIN, clipZ: 3, minScale: 0.5, minPoints: 6, minSpanMs: 5 * MIN });
    expect(s.ready).toBe(false);
    let pct = 60;
    for (let i = 0; i < 120; i++) {
      s.update(Math.round(pct + 0.4 * normal(random)), clock.now());
      clock.advance(30_000);
      pct -= 9 / 120;
    }
    expect(s.ready).toBe(true);
    expect(s.slopePerH).toBeGreaterThan(-10.5);
    expect(s.slopePerH).toBeLessThan(-7.5);
    // About 51 % left at 9 %/h: empty in about 5.7 hours.
    expect(s.hoursTo(0, 'down')).toBeGreaterThan(4.8);
    expect(s.hoursTo(0, 'down')).toBeLessThan(6.8);
    expect(s.hoursTo(100, 'up')).toBe(Number.POSITIVE_INFINITY);
  });

  it('robust slope - is not bent by one wild reading', () => {
    const clock = new FakeClock();
    const s = new RobustSlope({ tauMs: 30 * MIN, clipZ: 3, minScale: 0.5, minPoints: 6, minSpanMs: 5 * MIN });
    for (let i = 0; i < 60; i++) {
      s.update(50, clock.now());
      clock.advance(30_000);
    }
    s.update(5, clock.now());
    expect(Math.abs(s.slopePerH)).toBeLessThan(1);
    expect(s.hoursTo(0, 'down')).toBeGreaterThan(24);
  });

  it('steady climb - sees a round trip that keeps rising window after window, not one jump to a plateau or noise', () => {
    const random = seededRandom(3);
    const run = (logRttAt: (minutes: number) => number) => {
      const clock = new FakeClock();
      const c = new SteadyClimb({ tauMs: 2 * MIN, minScale: 0.1, windowMs: 5 * MIN, windows: 3 });
      const seen: number[] = [];
      for (let m = 0; m < 60; m += 0.25) {
        // Noise, and now and then one probe several times slower than the rest.
        const spike = random() < 0.01 ? Math.log(3 + 5 * random()) : 0;
        c.update(logRttAt(m) + 0.2 * normal(random) + spike, clock.now());
        clock.advance(15_000);
        seen.push(c.value);
      }
      return { last: c.value, max: Math.max(...seen) };
    };
    const base = Math.log(40);
    // Degrading: 10× slower over an hour, faster toward the end (the shape before an outage).
    const degrading = run((m) => base + Math.log(1 + 9 * (m / 60) ** 2));
    // Congestion: three times slower at minute 20, then flat.
    const congested = run((m) => base + (m >= 20 ? Math.log(3) : 0));
    const quiet = run(() => base);
    expect(degrading.last).toBeGreaterThan(0.1);
    expect(congested.max).toBeLessThan(0.1);
    expect(congested.last).toBeLessThan(0.05);
    expect(quiet.max).toBeLessThan(0.1);
  });

  it('counter surge - sees a burst against a quiet baseline, counts a restart from zero, and calms down', () => {
    const clock = new FakeClock();
    const c = new CounterSurge({ shortTauMs: 15 * MIN, longTauMs: 24 * HOUR, floorPerH: 0.5 });
    let errors = 0;
    for (let i = 0; i < 12 * 120; i++) {
      if (i % 240 === 0) errors++;
      c.update(errors, clock.now());
      clock.advance(30_000);
    }
    expect(c.surge).toBeLessThan(0.7);
    for (let i = 0; i < 20; i++) {
      errors += 2;
      c.update(errors, clock.now());
      clock.advance(30_000);
    }
    expect(c.shortRatePerH).toBeGreaterThan(60);
    expect(c.surge).toBeGreaterThan(3);
    // The agent restarts: counters start again from 0; the new value is the increase.
    expect(c.update(3, clock.now())).toBe(3);
    for (let i = 0; i < 240; i++) {
      clock.advance(30_000);
      c.update(3, clock.now());
    }
    expect(c.surge).toBeLessThan(0.5);
  });
});
