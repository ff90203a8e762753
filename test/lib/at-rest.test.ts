import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AtRestKeeper,
  describeKeyFile,
  initKeyFile,
  inspect,
  openKeyFile,
  resolveKeyFile,
  retireKey,
  rotateKeyFile,
  SealCodec,
  sealedJson,
  sealedUtf8,
  staticKeyProvider,
  WriteGate,
  type DataKey,
} from '../../lib/at-rest/index.js';
import { codeOf } from '../support/codes.js';
import { makeTempDir, removeDir } from '../support/temp.js';

const keyA: DataKey = { id: 'key-a', key: Buffer.alloc(32, 1) };
const keyB: DataKey = { id: 'key-b', key: Buffer.alloc(32, 2) };
const JWS = 'eyJhbGciOiJFZERTQSIsImtpZCI6IngifQ.eyJhbW91bnQiOjEyNTAsImN1cnJlbmN5IjoiRVVSIn0.c2lnbmF0dXJl';
const TOKEN = 'tok_9f8e7d6c5b4a';

/** Every file LevelDB wrote (tables, log, manifest), concatenated: what a thief with the disk reads. */
function rawBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile()).map((f) => readFileSync(join(dir, f))));
}

const noPause = { pauseMs: 0, pause: async () => undefined };

describe('at-rest sealing', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('at-rest - a sealed value opens to the same bytes, and sealing the same value twice gives different bytes', () => {
    const codec = new SealCodec(staticKeyProvider([keyA], 'key-a'));
    const a = codec.seal(Buffer.from(JWS));
    const b = codec.seal(Buffer.from(JWS));
    expect(a.equals(b)).toBe(false);
    expect(codec.open(a).toString()).toBe(JWS);
    expect(inspect(a)).toEqual({ kind: 'sealed', keyId: 'key-a' });
    expect(a.includes(Buffer.from('eyJ'))).toBe(false);
  });

  it('at-rest - a flipped byte, an unknown key and a damaged header each fail with their own code', () => {
    const codec = new SealCodec(staticKeyProvider([keyA], 'key-a'));
    const sealed = codec.seal(Buffer.from('{"amount":1250}'));
    const flipped = Buffer.from(sealed);
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 20) ^ 0xff, flipped.length - 20);
    expect(codeOf(() => codec.open(flipped))).toBe('AT_REST_TAMPERED');
    expect(codeOf(() => new SealCodec(staticKeyProvider([keyB], 'key-b')).open(sealed))).toBe('AT_REST_KEY_UNKNOWN');
    // Same id, different key: GCM refuses it rather than returning garbage.
    expect(codeOf(() => new SealCodec(staticKeyProvider([{ id: 'key-a', key: Buffer.alloc(32, 9) }], 'key-a')).open(sealed))).toBe('AT_REST_TAMPERED');
    expect(codeOf(() => codec.open(Buffer.from([0, 0x54, 0x47, 7, 1, 65])))).toBe('AT_REST_MALFORMED');
  });

  it('at-rest - a value written before encryption at rest (plain JSON) reads as it is', () => {
    const codec = new SealCodec(staticKeyProvider([keyA], 'key-a'));
    expect(codec.open(Buffer.from('{"seq":3}')).toString()).toBe('{"seq":3}');
    expect(inspect(Buffer.from('"text"'))).toEqual({ kind: 'plain' });
  });
});

describe('at-rest key file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('key file - is created with mode 0600 on first open and gives the same key on the next', () => {
    const path = join(dir, 'data-key.json');
    const first = openKeyFile(path, { create: true });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const second = openKeyFile(path, { create: false });
    expect(second.current().id).toBe(first.current().id);
    expect(second.current().key.equals(first.current().key)).toBe(true);
    expect(codeOf(() => openKeyFile(join(dir, 'absent.json'), { create: false }))).toBe('DATA_KEY_FILE_MISSING');
    expect(codeOf(() => initKeyFile(path))).toBe('DATA_KEY_FILE_EXISTS');
  });

  it('key file - rotation makes a new key current and keeps the old one readable; only an old key can be retired', () => {
    const path = join(dir, 'k.json');
    const firstId = initKeyFile(path, new Date('2026-12-01T00:00:00Z'));
    const old = openKeyFile(path);
    const sealed = new SealCodec(old).seal(Buffer.from('payment'));
    const { current, previous } = rotateKeyFile(path, new Date('2026-12-02T00:00:00Z'));
    expect(previous).toBe(firstId);
    const rotated = openKeyFile(path);
    expect(rotated.current().id).toBe(current);
    expect(new SealCodec(rotated).open(sealed).toString()).toBe('payment');
    expect(codeOf(() => retireKey(path, current))).toBe('DATA_KEY_IN_USE');
    retireKey(path, firstId);
    expect(describeKeyFile(path).keys.map((k) => k.id)).toEqual([current]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('key file - a damaged file is refused with a code and its content never appears in the message', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ v: 1, current: 'x', keys: [{ id: 'x', key: 'SECRETSECRET', createdAt: 'now' }] }));
    let message = '';
    try {
      openKeyFile(path);
    } catch (err) {
      message = (err as Error).message;
      expect(codeOf(() => { throw err; })).toBe('DATA_KEY_FILE_INVALID');
    }
    expect(message).not.toContain('SECRETSECRET');
  });

  it('key file - a systemd credential is preferred to the data directory, an explicit option to both', () => {
    const creds = join(dir, 'creds');
    mkdirSync(creds);
    writeFileSync(join(creds, 'tillgate-data-key'), '{}');
    chmodSync(join(creds, 'tillgate-data-key'), 0o600);
    expect(resolveKeyFile(undefined, join(dir, 'data-key.json'), { CREDENTIALS_DIRECTORY: creds })).toEqual({ path: join(creds, 'tillgate-data-key'), source: 'systemd-credential' });
    expect(resolveKeyFile('/etc/k.json', 'x', { CREDENTIALS_DIRECTORY: creds }).source).toBe('option');
    expect(resolveKeyFile(undefined, join(dir, 'data-key.json'), {}).source).toBe('data-dir');
  });
});

describe('at-rest on LevelDB', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  async function openSealed(keys: DataKey[], currentId: string) {
    const codec = new SealCodec(staticKeyProvider(keys, currentId));
    const db = new ClassicLevel<string, unknown>(join(dir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'json' });
    await db.open();
    const gate = new WriteGate();
    const keeper = await AtRestKeeper.open(db, codec, gate, noPause);
    const events = db.sublevel<string, unknown>('events', { valueEncoding: sealedJson(codec) });
    const notes = db.sublevel<string, string>('notes', { valueEncoding: sealedUtf8(codec) });
    return { db, codec, gate, keeper, events, notes };
  }

  it('at-rest - the raw LevelDB files of a sealed store hold no JWS, amount or card token', async () => {
    const s = await openSealed([keyA], 'key-a');
    for (let i = 0; i < 200; i++) {
      await s.events.put(`t-1!${i}`, { jws: JWS, amount: 987654, currency: 'EUR', card: { token: TOKEN } });
      await s.notes.put(`n${i}`, `{"token":"${TOKEN}"}`);
    }
    expect(await s.events.get('t-1!7')).toEqual({ jws: JWS, amount: 987654, currency: 'EUR', card: { token: TOKEN } });
    expect(await s.notes.get('n7')).toBe(`{"token":"${TOKEN}"}`);
    await s.db.close(); // the log is on disk; the table files too once compacted at reopen
    const raw = rawBytes(join(dir, 'db'));
    expect(raw.length).toBeGreaterThan(10_000);
    for (const needle of [JWS.slice(0, 30), '987654', TOKEN, 'EUR']) expect(raw.includes(Buffer.from(needle))).toBe(false);
  });

  it('at-rest - a store written in plain text by an earlier release opens, reads, and is sealed by the background pass', async () => {
    const legacy = new ClassicLevel<string, unknown>(join(dir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'json' });
    const plainEvents = legacy.sublevel<string, unknown>('events', { valueEncoding: 'json' });
    for (let i = 0; i < 600; i++) await plainEvents.put(`t-1!${String(i).padStart(4, '0')}`, { jws: JWS, amount: 424242 });
    await legacy.close();
    expect(rawBytes(join(dir, 'db')).includes(Buffer.from('424242'))).toBe(true);

    const s = await openSealed([keyA], 'key-a');
    expect(s.keeper.needsPass).toBe(true);
    expect(await s.events.get('t-1!0005')).toEqual({ jws: JWS, amount: 424242 });
    await s.keeper.start();
    expect(s.keeper.status()).toMatchObject({ pass: 'done', keysInUse: ['key-a'], plainPossible: false, resealed: 600 });
    expect(await s.events.get('t-1!0599')).toEqual({ jws: JWS, amount: 424242 });
    await s.db.close();
    expect(rawBytes(join(dir, 'db')).includes(Buffer.from('424242'))).toBe(false);
  });

  it('at-rest - after a key rotation the pass re-seals every value while writes and deletes go on, losing and resurrecting nothing', async () => {
    const first = await openSealed([keyA], 'key-a');
    for (let i = 0; i < 1000; i++) await first.events.put(`e${String(i).padStart(4, '0')}`, { v: i });
    await first.db.close();

    const s = await openSealed([keyA, keyB], 'key-b');
    expect(s.keeper.status().keysInUse).toEqual(['key-b', 'key-a']);
    const expected = new Map<string, unknown>();
    for (let i = 0; i < 1000; i++) expected.set(`e${String(i).padStart(4, '0')}`, { v: i });
    const pass = s.keeper.start();
    // The store's own writes, racing the pass: overwrite, delete, add.
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 1000; i += 7) {
      const k = `e${String(i).padStart(4, '0')}`;
      if (i % 2 === 0) {
        expected.set(k, { v: -i - 1 });
        writes.push(s.gate.shared(() => s.events.put(k, { v: -i - 1 })));
      } else {
        expected.delete(k);
        writes.push(s.gate.shared(() => s.events.del(k)));
      }
    }
    await Promise.all([pass, ...writes]);
    expect(s.keeper.status()).toMatchObject({ pass: 'done', keysInUse: ['key-b'] });
    const actual = new Map<string, unknown>();
    for await (const [k, v] of s.events.iterator()) actual.set(k, v);
    expect(actual).toEqual(expected);
    const raw = s.db.sublevel<string, Buffer>('events', { valueEncoding: 'buffer' });
    for await (const v of raw.values()) expect(inspect(v)).toEqual({ kind: 'sealed', keyId: 'key-b' });
    await s.db.close();

    // key-a may now be retired: the store no longer needs it.
    const after = await openSealed([keyB], 'key-b');
    expect(after.keeper.needsPass).toBe(false);
    expect(await after.events.get('e0001')).toEqual({ v: 1 });
    await after.db.close();
  });

  it('at-rest - a store whose values need a key the key file lacks refuses to open, naming the key', async () => {
    const s = await openSealed([keyA], 'key-a');
    await s.events.put('x', { v: 1 });
    await s.db.close();
    const codec = new SealCodec(staticKeyProvider([keyB], 'key-b'));
    const db = new ClassicLevel<string, unknown>(join(dir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'json' });
    await db.open();
    try {
      await expect(AtRestKeeper.open(db, codec, new WriteGate(), noPause)).rejects.toMatchObject({ code: 'AT_REST_KEY_MISSING', message: expect.stringContaining('key-a') });
    } finally {
      await db.close();
    }
  });
});

describe('write gate', () => {
  it('write gate - an exclusive section waits for running writes and holds back later ones', async () => {
    const gate = new WriteGate();
    const log: string[] = [];
    let releaseFirst!: () => void;
    const first = gate.shared(() => new Promise<void>((r) => (releaseFirst = () => { log.push('w1 done'); r(); })));
    const ex = gate.exclusive(async () => {
      log.push('exclusive');
    });
    const later = gate.shared(async () => {
      log.push('w2');
    });
    await Promise.resolve();
    expect(log).toEqual([]);
    expect(gate.stats).toEqual({ shared: 1, exclusive: false, waiting: 2 });
    releaseFirst();
    await Promise.all([first, ex, later]);
    expect(log).toEqual(['w1 done', 'exclusive', 'w2']);
    expect(gate.stats).toEqual({ shared: 0, exclusive: false, waiting: 0 });
  });
});
