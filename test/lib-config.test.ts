import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { makeTempDir, removeDir } from './support/temp.js';

const specs = {
  mqttPort: { type: 'number', doc: 'MQTT port' },
  store: { type: 'string', doc: 'store id' },
  tls: { type: 'boolean', doc: 'use TLS' },
} as const;
const schema = z.object({ mqttPort: z.number().int().min(0).max(65535).default(1883), store: z.string().default('s-1'), tls: z.boolean().default(false) });

let dir: string | undefined;
afterEach(async () => {
  if (dir) await removeDir(dir);
  dir = undefined;
});

describe('config', () => {
  it('merges defaults < file < env < flags', async () => {
    dir = await makeTempDir();
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ mqttPort: 1000, store: 'from-file' }));
    const cfg = loadConfig(schema, specs, { argv: ['--config', file, '--tls'], env: { TILLGATE_STORE: 'from-env' } });
    expect(cfg).toEqual({ mqttPort: 1000, store: 'from-env', tls: true });
    expect(Object.isFrozen(cfg)).toBe(true);
    const flagWins = loadConfig(schema, specs, { argv: ['--store=flag'], env: { TILLGATE_STORE: 'from-env' } });
    expect(flagWins.store).toBe('flag');
  });

  it('names the flag, env var and key of an invalid value', () => {
    expect(() => loadConfig(schema, specs, { argv: ['--mqtt-port', '70000'], env: {} })).toThrow(/--mqtt-port \(TILLGATE_MQTT_PORT, config key "mqttPort"\)/);
    expect(() => loadConfig(schema, specs, { argv: ['--nope', '1'], env: {} })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('config secrets from files', () => {
  const secretSpecs = {
    adminToken: { type: 'string', doc: 'admin token', secret: true },
    gateways: { type: 'list', doc: 'gateways', secret: true },
    store: { type: 'string', doc: 'store id' },
  } as const;
  const secretSchema = z.object({ adminToken: z.string().min(8), gateways: z.array(z.string()).default([]), store: z.string().optional() });

  it('config - a secret comes from a file given by flag, environment variable or config key, a trailing newline ignored', async () => {
    dir = await makeTempDir();
    const token = join(dir, 'admin-token');
    writeFileSync(token, 'a-long-admin-token-from-a-file\n', { mode: 0o600 });
    expect(loadConfig(secretSchema, secretSpecs, { argv: ['--admin-token-file', token], env: {} }).adminToken).toBe('a-long-admin-token-from-a-file');
    expect(loadConfig(secretSchema, secretSpecs, { argv: [], env: { TILLGATE_ADMIN_TOKEN_FILE: token } }).adminToken).toBe('a-long-admin-token-from-a-file');
    const config = join(dir, 'c.json');
    writeFileSync(config, JSON.stringify({ adminTokenFile: token }));
    expect(loadConfig(secretSchema, secretSpecs, { argv: ['--config', config], env: {} }).adminToken).toBe('a-long-admin-token-from-a-file');
    // A flag beats the environment's file, as for any option.
    expect(loadConfig(secretSchema, secretSpecs, { argv: ['--admin-token', 'from-the-flag-123'], env: { TILLGATE_ADMIN_TOKEN_FILE: token } }).adminToken).toBe('from-the-flag-123');
    const gateways = join(dir, 'gateways');
    writeFileSync(gateways, 'g-1:s-1:token-one\ng-2:s-2:token-two\n');
    expect(loadConfig(secretSchema, secretSpecs, { argv: ['--admin-token-file', token, '--gateways-file', gateways], env: {} }).gateways).toEqual(['g-1:s-1:token-one', 'g-2:s-2:token-two']);
  });

  it('config - a secret and its file together, a missing file, an empty one and a missing required option are errors that name the option', async () => {
    dir = await makeTempDir();
    const token = join(dir, 'admin-token');
    writeFileSync(token, 'a-long-admin-token-from-a-file');
    const load = (argv: string[]) => () => loadConfig(secretSchema, secretSpecs, { argv, env: {} });
    expect(load(['--admin-token', 'x-long-enough', '--admin-token-file', token])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('--admin-token (TILLGATE_ADMIN_TOKEN, config key "adminToken")') }));
    expect(load(['--admin-token-file', join(dir, 'nope')])).toThrow(expect.objectContaining({ code: 'SECRET_FILE_UNREADABLE', message: expect.stringContaining('--admin-token-file (TILLGATE_ADMIN_TOKEN_FILE, config key "adminTokenFile")') }));
    writeFileSync(join(dir, 'empty'), '\n');
    expect(load(['--admin-token-file', join(dir, 'empty')])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('is empty') }));
    expect(load([])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: '--admin-token (TILLGATE_ADMIN_TOKEN, config key "adminToken"): is required' }));
    // A file variant exists only for secrets.
    expect(load(['--admin-token-file', token, '--store-file', token])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('unknown option --store-file') }));
  });
});

describe('logger', () => {
  it('never writes secrets or card numbers', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    log.info('connect', { password: 'hunter2', authorization: 'Bearer abc', note: 'pan 4111 1111 1111 1111', nested: { cloudToken: 'x' } });
    const text = lines.join('\n');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('Bearer abc');
    expect(text).not.toContain('4111');
    expect(text).toContain('[redacted]');
  });
});
