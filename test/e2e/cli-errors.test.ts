/**
 * Proves one error style across every command, with the real executable: a failure is exactly one
 * line on stderr, `tillgate <command>: <CODE>: <message>`, where a failure about an option names
 * its flag, environment variable and config key the same way, and the exit code is 2 for a
 * configuration error and 1 for a runtime one (a port in use, a data directory another gateway
 * holds). Also `tillgate --version`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../support/temp.js';
import { assertBuilt, killAll, spawnTillgate, TILLGATE_BIN, type TillgateProcess } from '../support/tillgate-process.js';
import { within } from '../support/wait.js';

const ONE_ERROR_LINE = /^tillgate( [a-z-]+){0,2}: [A-Z][A-Z0-9_]*: [^\n]+\n$/;
const GATEWAY = ['--store', 's-1', '--gateway-id', 'g-1', '--admin-token', 'admin-token-for-tests', '--host', '127.0.0.1', '--mqtt-port', '0', '--log-level', 'error'];
const names = (flag: string, env: string, key: string) => `${flag} (${env}, config key "${key}")`;

function run(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [TILLGATE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return within(new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr }))), 30_000, `tillgate ${args.slice(0, 2).join(' ')}`)
    .finally(() => child.kill('SIGKILL'));
}

let dir = '';
const running: TillgateProcess[] = [];
let blocker: Server | null = null;
beforeAll(() => assertBuilt());
afterEach(async () => {
  await killAll(running.splice(0));
  await new Promise<void>((resolve) => (blocker === null ? resolve() : blocker.close(() => resolve())));
  blocker = null;
  if (dir !== '') await removeDir(dir);
  dir = '';
});

describe('one error style', () => {
  it('cli - every command answers a configuration error with one line that names the option three ways, and exit code 2', async () => {
    dir = await makeTempDir('tillgate-cli-errors-');
    const cases: [string[], string, string][] = [
      [['gateway'], 'tillgate gateway: CONFIG_INVALID: ', `${names('--data-dir', 'TILLGATE_DATA_DIR', 'dataDir')}: is required`],
      [['gateway', '--data-dir', join(dir, 'g'), ...GATEWAY, '--cloud-url', 'http://127.0.0.1:9'], 'tillgate gateway: CONFIG_INVALID: ', names('--cloud-token', 'TILLGATE_CLOUD_TOKEN', 'cloudToken')],
      [['gateway', '--data-dir', join(dir, 'g'), ...GATEWAY, '--admin-token-file', join(dir, 'nope')], 'tillgate gateway: CONFIG_INVALID: ', names('--admin-token', 'TILLGATE_ADMIN_TOKEN', 'adminToken')],
      [['cloud', '--http-port', '70000', '--trust-gateway-enrollments'], 'tillgate cloud: CONFIG_INVALID: ', names('--http-port', 'TILLGATE_HTTP_PORT', 'httpPort')],
      [['terminal', 'run', '--dir', dir], 'tillgate terminal run: CONFIG_INVALID: ', names('--gateway', 'TILLGATE_GATEWAY', 'gateway')],
      [['enroll', '--gateway-url', 'http://127.0.0.1:9', '--dir', dir], 'tillgate enroll: CONFIG_INVALID: ', names('--admin-token', 'TILLGATE_ADMIN_TOKEN', 'adminToken')],
      [['simulate', '--gateway-url', 'http://127.0.0.1:9', '--mqtt-url', 'mqtt://127.0.0.1:9', '--admin-token', 'x', '--dir', dir, '--terminals', 'many'], 'tillgate simulate: CONFIG_INVALID: ', names('--terminals', 'TILLGATE_TERMINALS', 'terminals')],
      [['provision', 'init'], 'tillgate provision init: CONFIG_INVALID: ', names('--provisioning-key-file', 'TILLGATE_PROVISIONING_KEY_FILE', 'provisioningKeyFile')],
      [['data-key', 'show'], 'tillgate data-key show: CONFIG_INVALID: ', names('--key-file', 'TILLGATE_KEY_FILE', 'keyFile')],
      [['start', '--rate-per-s', 'fast'], 'tillgate start: CONFIG_INVALID: ', names('--rate-per-s', 'TILLGATE_RATE_PER_S', 'ratePerS')],
      [['gateway', 'backup', '--data-dir', dir], 'tillgate gateway backup: CONFIG_INVALID: ', names('--out', 'TILLGATE_OUT', 'out')],
      [['gateway', 'restore', '--data-dir', dir], 'tillgate gateway restore: CONFIG_INVALID: ', names('--from', 'TILLGATE_FROM', 'from')],
      [['frobnicate'], 'tillgate: USAGE: ', 'unknown command "frobnicate"'],
    ];
    // The same rules hold for the environment: a bad TILLGATE_* value is named the same way.
    const fromEnv = await run(['cloud', '--trust-gateway-enrollments'], { TILLGATE_HTTP_PORT: 'eighty' });
    expect(fromEnv.stderr).toMatch(ONE_ERROR_LINE);
    expect(fromEnv.stderr).toContain(names('--http-port', 'TILLGATE_HTTP_PORT', 'httpPort'));
    for (const [args, prefix, part] of cases) {
      const r = await run(args);
      expect(r.stderr, args.join(' ')).toMatch(ONE_ERROR_LINE);
      expect(r.stderr.startsWith(prefix), `${args.join(' ')}: ${r.stderr}`).toBe(true);
      expect(r.stderr).toContain(part);
      expect(r.code, args.join(' ')).toBe(2);
    }
    // A missing secret file is named by its own option.
    const missing = await run(['gateway', '--data-dir', join(dir, 'g'), ...GATEWAY.filter((a) => a !== '--admin-token' && a !== 'admin-token-for-tests'), '--admin-token-file', join(dir, 'nope')]);
    expect(missing.stderr).toMatch(ONE_ERROR_LINE);
    expect(missing.stderr).toContain(`tillgate gateway: SECRET_FILE_UNREADABLE: ${names('--admin-token-file', 'TILLGATE_ADMIN_TOKEN_FILE', 'adminTokenFile')}: cannot read`);
    expect(missing.code).toBe(2);
  }, 120_000);

  it('cli - a port in use and a data directory another gateway holds are named as options, with exit code 1', async () => {
    dir = await makeTempDir('tillgate-cli-errors-');
    blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker!.listen(0, '127.0.0.1', () => resolve((blocker!.address() as { port: number }).port)));
    const taken = await run(['gateway', '--data-dir', join(dir, 'a'), ...GATEWAY, '--http-port', String(port)]);
    expect(taken.stderr).toMatch(ONE_ERROR_LINE);
    expect(taken.stderr).toContain(`tillgate gateway: PORT_IN_USE: ${names('--http-port', 'TILLGATE_HTTP_PORT', 'httpPort')}: 127.0.0.1:${port} is already in use`);
    expect(taken.code).toBe(1);
    const cloud = await run(['cloud', '--data-dir', join(dir, 'c'), '--host', '127.0.0.1', '--http-port', String(port), '--trust-gateway-enrollments', '--log-level', 'error']);
    expect(cloud.stderr).toContain(`tillgate cloud: PORT_IN_USE: ${names('--http-port', 'TILLGATE_HTTP_PORT', 'httpPort')}`);

    running.push(await spawnTillgate(['gateway', '--data-dir', join(dir, 'b'), ...GATEWAY, '--http-port', '0'], { readyKind: 'gateway' }));
    const second = await run(['gateway', '--data-dir', join(dir, 'b'), ...GATEWAY, '--http-port', '0']);
    expect(second.stderr).toMatch(ONE_ERROR_LINE);
    expect(second.stderr).toContain(`tillgate gateway: DATA_DIR_LOCKED: ${names('--data-dir', 'TILLGATE_DATA_DIR', 'dataDir')}`);
    expect(second.code).toBe(1);
  }, 120_000);

  it('cli - tillgate --version prints the release of package.json', async () => {
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    const r = await run(['--version']);
    expect([r.code, r.stdout]).toEqual([0, `${version}\n`]);
  });
});
