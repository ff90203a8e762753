import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { afterEach, describe, expect, it } from 'vitest';
import { openLevelLedger } from '../../cloud-bridge/level-ledger.js';
import type { Ledger } from '../../cloud-bridge/ledger.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { FakeClock } from '../support/fake-clock.js';
import { describeLedgerConformance } from './ledger-conformance.js';

describeLedgerConformance('LevelDB', async () => {
  const dir = await makeTempDir('tillgate-ledger-');
  return {
    open: (clock) => openLevelLedger({ dataDir: dir, clock, keys: defaultDataKeys(dir) }),
    // One process per directory: a "replica" is the same ledger, so the races run on one instance.
    openReplica: async (_clock, first) => first,
    receivedAtFrom: 'clock',
    destroy: () => removeDir(dir),
  };
});

describe('LevelDB ledger', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('level ledger - a second open of the same directory fails with LEDGER_LOCKED', async () => {
    const dir = await makeTempDir('tillgate-ledger-');
    cleanups.push(() => removeDir(dir));
    const first: Ledger = await openLevelLedger({ dataDir: dir, clock: new FakeClock(), keys: defaultDataKeys(dir) });
    cleanups.push(() => first.close());
    await expect(openLevelLedger({ dataDir: dir, clock: new FakeClock(), keys: defaultDataKeys(dir) })).rejects.toMatchObject({ code: 'LEDGER_LOCKED' });
    expect(first.state).toBe('open');
  });

  it('level ledger - programmer mistakes are TypeErrors, not codes', async () => {
    const dir = await makeTempDir('tillgate-ledger-');
    cleanups.push(() => removeDir(dir));
    const ledger = await openLevelLedger({ dataDir: dir, clock: new FakeClock(), keys: defaultDataKeys(dir) });
    cleanups.push(() => ledger.close());
    expect(() => ledger.head('Bad Store', 't-1')).toThrow(TypeError);
    expect(() => ledger.readEvents('s-1', 't-1', 0, 0)).toThrow(TypeError);
    const event = { id: '0190a0b0-0000-7000-8000-000000000001', type: 'payment', at: '2026-11-22T09:00:00Z', amount: 1, currency: 'EUR', outcome: 'approved', mode: 'online' };
    expect(() => ledger.append('s-1', [{ terminal: 't-1', seq: 0, prev: '', jws: 'x', kid: 'k'.repeat(43), event }])).toThrow(TypeError);
    expect(() => ledger.readFeed(0, 0)).toThrow(TypeError);
  });
});
