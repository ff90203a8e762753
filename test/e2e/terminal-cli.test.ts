/**
 * Proves the operator commands of the terminal agent as real processes (DESIGN §3.5):
 * `tillgate terminal init` (0600 key, prints kid and public key), `tillgate provision endorse
 * --dir`, `tillgate enroll --dir` and `--password-file` (sends the endorsement, writes the password to
 * a 0600 file and does not print it), and `tillgate simulate --duration` (ready line, then a JSON
 * summary: recorded, acked, rejected, max outbox depth) against the real gateway.
 */
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { GatewayHandle } from '../../gateway/index.js';
import { kidOf, parsePublicKey } from '../../protocol/keys.js';
import { readPassword } from '../../terminal-agent/terminal-dir.js';
import { writeTestProvisioningKeyFile } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { within } from '../support/wait.js';
import { ADMIN_TOKEN, gatewayAt } from '../terminal-agent/support/real-gateway.js';

let root: string | undefined;
let gw: GatewayHandle | undefined;

afterEach(async () => {
  await gw?.close();
  if (root !== undefined) await removeDir(root);
  root = gw = undefined;
});

function tillgate(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; lines: unknown[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/tillgate.ts', ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.resume();
  return within(
    new Promise<{ code: number | null; lines: unknown[] }>((resolve) => child.once('exit', (code) => resolve({ code, lines: out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown) }))),
    timeoutMs,
    `tillgate ${args[0]}`,
  ).finally(() => child.kill('SIGKILL'));
}

it('terminal cli - init creates a 0600 device key and enroll writes the MQTT password to a 0600 file instead of printing it', async () => {
  root = await makeTempDir('tillgate-e2e-cli-');
  gw = await gatewayAt(join(root, 'gateway'));
  const dir = join(root, 't-7');
  const init = await tillgate(['terminal', 'init', '--store', 's-1', '--terminal', 't-7', '--dir', dir]);
  expect(init.code).toBe(0);
  const made = init.lines[0] as { kid: string; publicKey: string; terminal: string };
  expect(made).toMatchObject({ terminal: 't-7', store: 's-1' });
  expect(made.kid).toBe(kidOf(parsePublicKey(made.publicKey)));
  expect((await stat(join(dir, 'device-key.pem'))).mode & 0o777).toBe(0o600);

  const keyFile = await writeTestProvisioningKeyFile(join(root, 'provisioning.pem'));
  expect((await tillgate(['provision', 'endorse', '--provisioning-key-file', keyFile, '--dir', dir])).code).toBe(0);
  const enroll = await tillgate(['enroll', '--gateway-url', gw.httpUrl, '--admin-token', ADMIN_TOKEN, '--dir', dir]);
  expect(enroll.code).toBe(0);
  const res = enroll.lines[0] as { terminal: string; kid: string; passwordFile: string; password?: string };
  expect(res).toEqual({ terminal: 't-7', kid: made.kid, passwordFile: join(dir, 'mqtt-password') });
  expect((await readPassword(dir)).length).toBeGreaterThanOrEqual(16);
  expect((await stat(join(dir, 'mqtt-password'))).mode & 0o777).toBe(0o600);

  // Without a terminal directory: --password-file, 0600, and still not printed.
  const passwordFile = join(root, 't-7.password');
  const endorsement = (await readFile(join(dir, 'endorsement.jws'), 'utf8')).trim();
  const bare = await tillgate(['enroll', '--gateway-url', gw.httpUrl, '--admin-token', ADMIN_TOKEN, '--terminal', 't-7', '--public-key', made.publicKey, '--endorsement', endorsement, '--password-file', passwordFile]);
  expect(bare.code).toBe(0);
  expect(bare.lines[0]).toEqual({ terminal: 't-7', kid: made.kid, passwordFile });
  expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
  expect((await readFile(passwordFile, 'utf8')).length).toBeGreaterThanOrEqual(16);

  const refused = await tillgate(['enroll', '--gateway-url', gw.httpUrl, '--admin-token', 'wrong-token-x', '--dir', dir]);
  expect(refused.code).toBe(1);
});

it('terminal cli - simulate runs for its duration and prints a summary in which everything recorded was acked', async () => {
  root = await makeTempDir('tillgate-e2e-sim-');
  gw = await gatewayAt(join(root, 'gateway'));
  const run = await tillgate([
    'simulate', '--gateway-url', gw.httpUrl, '--mqtt-url', `mqtt://127.0.0.1:${gw.mqttPort}`, '--admin-token', ADMIN_TOKEN,
    '--terminals', '4', '--rate', '3', '--duration', '4', '--wifi-drop-mean-s', '0.5', '--wifi-up-mean-s', '1', '--clock-skew-s', '5',
    '--dir', join(root, 'sim'), '--seed', '7', '--log-level', 'error',
    '--provisioning-key-file', await writeTestProvisioningKeyFile(join(root, 'provisioning.pem')),
  ], 60_000);
  expect(run.code).toBe(0);
  expect(run.lines[0]).toMatchObject({ ready: 'simulate', terminals: 4, store: 's-1' });
  const { summary } = run.lines[1] as { summary: { recorded: number; acked: number; rejected: number; maxOutboxDepth: number; drained: boolean; wifiDrops: number } };
  expect(summary.recorded).toBeGreaterThan(10);
  expect(summary).toMatchObject({ acked: summary.recorded, rejected: 0, drained: true });
  expect(summary.maxOutboxDepth).toBeGreaterThanOrEqual(1);
  expect(summary.wifiDrops).toBeGreaterThan(0);
});
