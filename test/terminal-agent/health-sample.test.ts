import { describe, expect, it } from 'vitest';
import { healthSampleSchema } from '../../protocol/messages.js';
import { healthSample } from '../../terminal-agent/health.js';
import { parseChargingStatus } from '../../terminal-agent/host-readings.js';
import { MemoryOutbox } from '../../terminal-agent/outbox/memory-outbox.js';
import { FakeClock } from '../support/fake-clock.js';

const publisher = { rttMs: 12.345, counters: { reconnects: 2, errors: 1, published: 9, retainedDropped: 0 }, blocked: undefined, chain: { kind: 'in-step' as const }, publishHealth: () => true };

describe('health sample', () => {
  it('health sample - carries charging, uptime since the agent started and firmware, and adds device errors', async () => {
    const clock = new FakeClock();
    const outbox = new MemoryOutbox();
    await outbox.open();
    const startedMonoMs = clock.monotonicMs();
    clock.advance(125_400);
    const host = {
      rssiDbm: async () => -61,
      batteryPct: async () => 48,
      charging: async () => false,
      firmware: async () => 'fw-2.4.1',
      deviceErrors: async () => 3,
    };
    const sample = await healthSample({ clock, outbox, publisher, host, startedMonoMs });
    expect(sample).toMatchObject({ rssiDbm: -61, batteryPct: 48, charging: false, uptimeS: 125, firmware: 'fw-2.4.1', errors: 4, reconnects: 2, rttMs: 12.3 });
    expect(healthSampleSchema.safeParse(sample).success).toBe(true);
  });

  it('health sample - says null for charging and leaves firmware out where the host cannot tell', async () => {
    const clock = new FakeClock();
    const outbox = new MemoryOutbox();
    await outbox.open();
    const sample = await healthSample({ clock, outbox, publisher, host: { rssiDbm: async () => null, batteryPct: async () => null }, startedMonoMs: 0 });
    expect(sample.charging).toBeNull();
    expect('firmware' in sample).toBe(false);
    expect(sample.uptimeS).toBe(0);
  });

  it('health sample schema - accepts the optional fields and keeps unknown ones', () => {
    const parsed = healthSampleSchema.parse({ at: '2026-11-22T09:00:00Z', charging: true, uptimeS: 3600, firmware: 'x', somethingNew: 7 });
    expect(parsed).toMatchObject({ charging: true, uptimeS: 3600, firmware: 'x', somethingNew: 7 });
    expect(healthSampleSchema.safeParse({ at: 'x', firmware: 'f'.repeat(65) }).success).toBe(false);
    expect(healthSampleSchema.safeParse({ at: 'x', charging: 'yes' }).success).toBe(false);
  });

  it('host readings - read charging from a power supply status', () => {
    expect(parseChargingStatus('Charging\n')).toBe(true);
    expect(parseChargingStatus('Full')).toBe(true);
    expect(parseChargingStatus('Discharging')).toBe(false);
    expect(parseChargingStatus('Unknown')).toBeNull();
  });
});
