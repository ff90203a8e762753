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
