/** The demo's degrading terminals: their health follows the shared degradation curves to a failure, then they are fixed. */
import { describe, expect, it } from 'vitest';
import { ageingCutoffPct } from '../../protocol/degradation.js';
import { Degrader } from '../../terminal-agent/sim/degrader.js';
import { degradationPlans } from '../../terminal-agent/sim/simulator.js';
import { seededRandom } from '../../lib/random.js';

const S = 1_000;

describe('demo degradation', () => {
  it('degrader - a battery drains off its charger to its cutoff exactly when it fails, then charges once fixed', () => {
    const d = new Degrader({ mode: 'battery', failAfterS: 900, deadForS: 600 }, 0, seededRandom(1));
    expect(d.phase(0)).toBe('degrading');
    expect(d.charging(0)).toBe(false);
    expect(d.batteryPct(450 * S)).toBeGreaterThan(d.batteryPct(899 * S)!);
    expect(d.batteryPct(900 * S)).toBeCloseTo(ageingCutoffPct(0.3), 5);
    expect(d.phase(900 * S)).toBe('dead');
    expect(d.phase(1_500 * S)).toBe('fixed');
    expect(d.charging(1_500 * S)).toBe(true);
    expect(d.rssiDbm(-60, 800 * S)).toBe(-60);
  });

  it('degrader - WiFi fades and drops more often toward the failure; errors pile up faster', () => {
    const wifi = new Degrader({ mode: 'wifi', failAfterS: 1_200, deadForS: 600 }, 0, seededRandom(2));
    expect(wifi.rssiDbm(-60, 0)).toBe(-60);
    expect(wifi.rssiDbm(-60, 1_100 * S)).toBeLessThan(-80);
    expect(wifi.dropChance(wifi.rssiDbm(-60, 1_100 * S), 1, 1_100 * S)).toBeGreaterThan(10 * wifi.dropChance(-60, 1, 0));
    expect(wifi.batteryPct(0)).toBeNull();
    const errors = new Degrader({ mode: 'errors', failAfterS: 1_200, deadForS: 600 }, 0, seededRandom(3));
    let last = 0;
    const perWindow: number[] = [];
    for (let t = 0; t <= 1_200; t += 10) {
      const e = errors.deviceErrors(t * S);
      if (t % 300 === 0 && t > 0) {
        perWindow.push(e - last);
        last = e;
      }
    }
    expect(perWindow[3]!).toBeGreaterThan(perWindow[0]! + 5);
  });

  it('degrader - plans spread the degrading terminals over the fleet, battery first, each 5 minutes later', () => {
    const plans = degradationPlans(5, 2, 900, 600);
    expect([...plans]).toEqual([
      [1, { mode: 'battery', failAfterS: 900, deadForS: 600 }],
      [3, { mode: 'wifi', failAfterS: 1_200, deadForS: 600 }],
    ]);
    expect(degradationPlans(3, 0, 900, 600).size).toBe(0);
    expect(degradationPlans(2, 5, 900, 600).size).toBe(2);
  });
});
