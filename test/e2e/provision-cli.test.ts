/**
 * Proves the operator's provisioning commands as real processes (DESIGN §3.1, §3.5):
 * `tillgate provision init` creates a 0600 key, prints its public key and kid and never the private
 * key, and refuses to overwrite; `tillgate provision endorse` endorses a terminal directory's key
 * (written there) or explicit ids and key (printed), and the result verifies against the printed
 * public key; `tillgate enroll` refuses a directory without an endorsement; `--help` documents both.
 */
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ProvisioningKeys, verifyEndorsement } from '../../protocol/endorsement.js';
import { readEndorsement } from '../../terminal-agent/terminal-dir.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { assertBuilt, TILLGATE_BIN } from '../support/tillgate-process.js';
import { within } from '../support/wait.js';

let root: string | undefined;
afterEach(async () => {
  if (root !== undefined) await removeDir(root);
  root = undefined;
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function tillgate(args: string[], env: Record<string, string> = {}): Promise<Run> {
  assertBuilt();
  const child = spawn(process.execPath, [TILLGATE_BIN, ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return within(new Promise<Run>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr }))), 30_000, `tillgate ${args.join(' ')}`).finally(() => child.kill('SIGKILL'));
}
const json = (r: Run) => JSON.parse(r.stdout.trim()) as Record<string, string>;

it('provision cli - init creates a 0600 key, prints its public key and kid but never the private key, and never overwrites', async () => {
  root = await makeTempDir('tillgate-provision-');
  const keyFile = join(root, 'provisioning.pem');
  const init = await tillgate(['provision', 'init', '--provisioning-key-file', keyFile]);
  expect(init.code).toBe(0);
  const made = json(init);
  expect(made.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(new ProvisioningKeys([Buffer.from(made.publicKey!, 'base64url')]).kids()).toEqual([made.kid]);
  expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  const pem = await readFile(keyFile, 'utf8');
  const secret = pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----')).join('');
  expect(init.stdout + init.stderr).not.toContain(secret);
  expect(init.stdout).not.toContain('PRIVATE KEY');

  const again = await tillgate(['provision', 'init', '--provisioning-key-file', keyFile]);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('KEY_FILE_EXISTS');
  expect(await readFile(keyFile, 'utf8')).toBe(pem);
});

it('provision cli - endorse writes the endorsement of a terminal directory there, and enroll refuses a directory without one', async () => {
  root = await makeTempDir('tillgate-provision-');
  const keyFile = join(root, 'provisioning.pem');
  const made = json(await tillgate(['provision', 'init', '--provisioning-key-file', keyFile]));
  const dir = join(root, 't-7');
  const terminal = json(await tillgate(['terminal', 'init', '--store', 's-1', '--terminal', 't-7', '--dir', dir]));

  const refused = await tillgate(['enroll', '--gateway-url', 'http://127.0.0.1:9', '--admin-token', 'admin-token-x', '--dir', dir]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('ENDORSEMENT_MISSING');

  // By environment variable, as every flag may be given (DESIGN §3.5).
  const endorsed = await tillgate(['provision', 'endorse', '--dir', dir], { TILLGATE_PROVISIONING_KEY_FILE: keyFile });
  expect(endorsed.code).toBe(0);
  const out = json(endorsed);
  expect(out).toMatchObject({ store: 's-1', terminal: 't-7', kid: terminal.kid, publicKey: terminal.publicKey, issuer: made.kid });
  expect(await readEndorsement(dir)).toBe(out.endorsement);
  const trusted = ProvisioningKeys.fromBase64url([made.publicKey!]);
  expect(() => verifyEndorsement(out.endorsement, { store: 's-1', terminal: 't-7', kid: terminal.kid!, publicKey: terminal.publicKey! }, trusted)).not.toThrow();
});

it('provision cli - endorse with explicit ids and key prints an endorsement that verifies', async () => {
  root = await makeTempDir('tillgate-provision-');
  const keyFile = join(root, 'provisioning.pem');
  const made = json(await tillgate(['provision', 'init', '--provisioning-key-file', keyFile]));
  const publicKey = 'A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg';
  const run = await tillgate(['provision', 'endorse', '--provisioning-key-file', keyFile, '--store', 's-2', '--terminal', 't-9', '--public-key', publicKey]);
  expect(run.code).toBe(0);
  const out = json(run);
  expect(() => verifyEndorsement(out.endorsement, { store: 's-2', terminal: 't-9', kid: out.kid!, publicKey }, ProvisioningKeys.fromBase64url([made.publicKey!]))).not.toThrow();
});

it('provision cli - refuses a provisioning key file others can read, and bad arguments with exit code 2', async () => {
  root = await makeTempDir('tillgate-provision-');
  const keyFile = join(root, 'provisioning.pem');
  await tillgate(['provision', 'init', '--provisioning-key-file', keyFile]);
  const loose = join(root, 'loose.pem');
  await writeFile(loose, await readFile(keyFile), { mode: 0o644 });
  const publicKey = 'A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg';
  const exposed = await tillgate(['provision', 'endorse', '--provisioning-key-file', loose, '--store', 's-1', '--terminal', 't-1', '--public-key', publicKey]);
  expect(exposed.code).toBe(1);
  expect(exposed.stderr).toContain('KEY_FILE_MODE');
  const both = await tillgate(['provision', 'endorse', '--provisioning-key-file', keyFile, '--dir', root, '--store', 's-1']);
  expect(both.code).toBe(2);
  const neither = await tillgate(['provision', 'endorse', '--provisioning-key-file', keyFile, '--store', 's-1', '--terminal', 't-1']);
  expect(neither.code).toBe(2);
  expect(neither.stderr).toContain('--dir');
});

it('provision cli - --help documents init and endorse with every flag and its environment variable', async () => {
  const help = await tillgate(['provision', '--help']);
  expect(help.code).toBe(0);
  for (const text of ['init', 'endorse', '--provisioning-key-file', 'TILLGATE_PROVISIONING_KEY_FILE', '--dir', '--store', '--terminal', '--public-key', 'TILLGATE_PUBLIC_KEY']) {
    expect(help.stdout).toContain(text);
  }
  const top = await tillgate(['--help']);
  expect(top.stdout).toContain('provision');
});
