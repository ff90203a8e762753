import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { DEFAULT_OFFLINE_LIMITS } from '../../terminal-agent/limits.js';
import { LevelOutbox } from '../../terminal-agent/outbox/level-outbox.js';
import { Recorder } from '../../terminal-agent/recorder.js';
import { testSigner } from '../support/events.js';
import { FakeClock } from '../support/fake-clock.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { tx } from './support/tx.js';

const TOKEN = 'tok_terminal_a7c3e9';

function rawFiles(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile()).map((f) => readFileSync(join(dir, f))));
}

describe('terminal outbox encryption at rest', () => {
  let dir = '';
  afterEach(async () => {
    await removeDir(dir);
  });

  it('terminal at rest - recorded payments leave no JWS, amount or card token in the raw outbox files', async () => {
    dir = await makeTempDir('tillgate-term-at-rest-');
    const outbox = new LevelOutbox(join(dir, 'outbox'), defaultDataKeys(dir));
    await outbox.open();
    await outbox.adoptBase({ seq: 0, hash: '' });
    const recorder = new Recorder({
      store: 's-1', terminal: 't-1', signer: testSigner('t-1'), outbox, clock: new FakeClock(), limits: DEFAULT_OFFLINE_LIMITS, isOffline: () => false,
    });
    for (let i = 0; i < 30; i++) await recorder.record(tx(55_501, { card: { brand: 'visa', last4: '4242', token: TOKEN } }), { idempotencyKey: `order-secret-${i}` });
    const records = await outbox.read(1, 100);
    expect(records).toHaveLength(30);
    await outbox.close();

    const raw = rawFiles(join(dir, 'outbox'));
    expect(raw.length).toBeGreaterThan(3_000);
    for (const r of records) expect(raw.includes(Buffer.from((r.jws.split('.')[1] as string).slice(0, 32)))).toBe(false);
    // Record keys stay plain (seqs, and the app's idempotency keys: order references, never card data).
    for (const needle of ['55501', TOKEN, '"exposureMinor"']) expect(raw.includes(Buffer.from(needle)), needle).toBe(false);

    const again = new LevelOutbox(join(dir, 'outbox'), defaultDataKeys(dir));
    await again.open();
    expect((await again.read(1, 100)).map((r) => r.jws)).toEqual(records.map((r) => r.jws));
    expect(again.atRestStatus()).toMatchObject({ pass: 'done', plainPossible: false });
    await again.close();
  });
});
