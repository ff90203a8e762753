/**
 * What encryption at rest costs: sealing and opening a typical stored event record (the gateway's
 * event record, ~700 bytes of JSON with its JWS) with AES-256-GCM through the LevelDB value
 * encoding, on one core, against the JSON encoding alone (the reference, measured in the same run).
 * Also the cost of synced LevelDB writes of 1,000-record batches with the sealed encoding against
 * plain JSON, in temp directories.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel, type BatchOptions } from 'classic-level';
import { SealCodec, sealedJson, staticKeyProvider } from '../lib/at-rest/index.js';
import { signEvent } from '../protocol/jws.js';
import { KeyObjectSigner } from '../protocol/signer.js';
import { uuidv7 } from '../protocol/uuid.js';
import type { Bench, BenchReport } from './report.js';

const RECORDS = 50_000;
const BATCHES = 30;
const BATCH_RECORDS = 1_000;

export const bench: Bench = {
  name: 'at-rest',
  async run(): Promise<BenchReport> {
    const signer = KeyObjectSigner.fromSeed(createHash('sha256').update('bench-at-rest').digest());
    const jws = await signEvent({
      v: 1, store: 's-1', terminal: 't-1', seq: 1, prev: '', id: uuidv7(Date.now()), type: 'payment', at: new Date().toISOString(),
      amount: 1250, currency: 'EUR', outcome: 'approved', mode: 'online', card: { brand: 'visa', last4: '4242', token: 'tok_0123456789abcdef' },
    }, signer);
    const record = { pos: 1, terminal: 't-1', seq: 1, jws, storedAtMs: Date.now(), amount: 1250, currency: 'EUR' };
    const codec = new SealCodec(staticKeyProvider([{ id: 'bench', key: Buffer.alloc(32, 7) }], 'bench'));
    const sealed = sealedJson(codec);
    const bytes = Buffer.byteLength(JSON.stringify(record));

    const plainEncode = rate(() => Buffer.from(JSON.stringify(record)));
    const sealedEncode = rate(() => sealed.encode(record));
    const encoded = sealed.encode(record);
    const plainBytes = Buffer.from(JSON.stringify(record));
    const plainDecode = rate(() => JSON.parse(plainBytes.toString('utf8')) as unknown);
    const sealedDecode = rate(() => sealed.decode(encoded));

    const dir = mkdtempSync(join(tmpdir(), 'tillgate-bench-at-rest-'));
    let plainWrite: number;
    let sealedWrite: number;
    try {
      plainWrite = await writeRate(join(dir, 'plain'), 'json', record);
      sealedWrite = await writeRate(join(dir, 'sealed'), sealed, record);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return {
      name: 'at-rest',
      figures: [
        { metric: `reference: JSON encode of a ${bytes}-byte event record, 1 core`, value: plainEncode, unit: 'records/s' },
        { metric: 'JSON encode + AES-256-GCM seal, 1 core', value: sealedEncode, unit: 'records/s', reference: 'JSON encode' },
        { metric: 'reference: JSON decode, 1 core', value: plainDecode, unit: 'records/s' },
        { metric: 'AES-256-GCM open + JSON decode, 1 core', value: sealedDecode, unit: 'records/s', reference: 'JSON decode' },
        { metric: 'seal cost per 1,000 records', value: 1e6 / sealedEncode - 1e6 / plainEncode, unit: 'ms' },
        { metric: 'reference: synced LevelDB batches of 1,000 plain records', value: plainWrite, unit: 'records/s' },
        { metric: 'synced LevelDB batches of 1,000 sealed records', value: sealedWrite, unit: 'records/s', reference: 'plain records' },
      ],
      notes: [`sealed record is ${encoded.length} bytes for ${bytes} bytes of JSON (+${encoded.length - bytes}: header, key id, nonce, tag)`],
    };
  },
};

/** Operations per second of `fn` over RECORDS calls, after a warm-up. */
function rate(fn: () => unknown): number {
  for (let i = 0; i < 2_000; i++) fn();
  const start = performance.now();
  for (let i = 0; i < RECORDS; i++) fn();
  return RECORDS / ((performance.now() - start) / 1000);
}

const SYNCED: BatchOptions<string, unknown> = { sync: true };

async function writeRate(location: string, valueEncoding: 'json' | ReturnType<typeof sealedJson>, record: Record<string, unknown>): Promise<number> {
  const db = new ClassicLevel<string, unknown>(location, { keyEncoding: 'utf8', valueEncoding: 'json' });
  await db.open();
  const section = db.sublevel<string, unknown>('events', { valueEncoding });
  try {
    const start = performance.now();
    for (let b = 0; b < BATCHES; b++) {
      const ops = Array.from({ length: BATCH_RECORDS }, (_, i) => ({ type: 'put' as const, sublevel: section, key: `t-1!${String(b * BATCH_RECORDS + i).padStart(16, '0')}`, value: { ...record, seq: b * BATCH_RECORDS + i } }));
      await db.batch(ops, SYNCED);
    }
    return (BATCHES * BATCH_RECORDS) / ((performance.now() - start) / 1000);
  } finally {
    await db.close();
  }
}
