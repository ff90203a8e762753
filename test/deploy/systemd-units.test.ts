/**
 * Proves the systemd units and example configs of deploy/ as the operator guide installs them,
 * without systemd as PID 1 (none runs here): every TILLGATE_* variable a unit sets is a real option
 * of its command, no secret is on a command line or in a config file (each comes from a credential
 * the unit loads, through its *_FILE variable), `systemd-analyze verify` accepts the units (when
 * the tool is installed), and the units' own ExecStart command lines, with their Environment= and
 * the credentials directory systemd would provide (%d), start a working cloud and gateway from the
 * example configs: a terminal enrolled with the admin token from its credential gets a payment into
 * the cloud.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cloudOptionSpecs } from '../../cloud-bridge/options.js';
import { GATEWAY_OPTION_SPECS } from '../../gateway/config.js';
import { envName, expandedSpecs, type OptionSpecs } from '../../lib/config.js';
import { cloudEvents } from '../chaos/harness/cloud-ledger.js';
import { freePort } from '../support/ports.js';
import { TEST_PROVISIONING_PUBLIC_KEY } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { assertBuilt, killAll, readyString, TILLGATE_BIN, type TillgateProcess } from '../support/tillgate-process.js';
import { createInterface } from 'node:readline';
import { waitFor, within } from '../support/wait.js';
import { ADMIN_TOKEN, initAndEnroll } from '../terminal-agent/support/real-gateway.js';
import { recordConfirmed, startTerminal, type TerminalProcess } from '../terminal-agent/support/terminal-process.js';

const SYSTEMD = join(process.cwd(), 'deploy', 'systemd');
const CONFIG = join(process.cwd(), 'deploy', 'config');

interface Unit {
  readonly execStart: string[];
  readonly environment: Record<string, string>;
  /** credential name → source file */
  readonly credentials: Record<string, string>;
}

function parseUnit(name: string): Unit {
  const lines = readFileSync(join(SYSTEMD, name), 'utf8').split('\n').filter((l) => !l.startsWith('#'));
  const environment: Record<string, string> = {};
  const credentials: Record<string, string> = {};
  let execStart: string[] = [];
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq === -1) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'ExecStart') execStart = value.split(/\s+/);
    if (key === 'Environment') for (const pair of value.split(/\s+/)) environment[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
    if (key === 'LoadCredential' || key === 'LoadCredentialEncrypted') credentials[value.slice(0, value.indexOf(':'))] = value.slice(value.indexOf(':') + 1);
  }
  return { execStart, environment, credentials };
}

const UNITS: readonly [string, string, OptionSpecs][] = [
  ['tillgate-gateway.service', 'gateway', GATEWAY_OPTION_SPECS],
  ['tillgate-cloud.service', 'cloud', cloudOptionSpecs],
];

const procs: (TillgateProcess | null)[] = [];
let terminal: TerminalProcess | null = null;
let dir = '';
beforeAll(() => assertBuilt());
afterEach(async () => {
  await killAll([terminal?.process, ...procs.splice(0)]);
  terminal = null;
  if (dir !== '') await removeDir(dir);
  dir = '';
}, 60_000);

/** Starts a unit's ExecStart as systemd would: its Environment=, CREDENTIALS_DIRECTORY, %d resolved. */
async function startAsUnit(unit: Unit, credentialsDir: string, replace: Record<string, string>, readyKind: string): Promise<TillgateProcess> {
  const [node, ...args] = unit.execStart.map((a) => replace[a] ?? a);
  expect(node).toBe('/usr/bin/node');
  const bin = args.findIndex((a) => a.endsWith('/dist/bin/tillgate.js'));
  const execArgv = args.slice(0, bin);
  const rest = args.slice(bin + 1);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', CREDENTIALS_DIRECTORY: credentialsDir };
  for (const [k, v] of Object.entries(unit.environment)) env[k] = v.replace(/%d/g, credentialsDir);
  const child = spawn(process.execPath, [...execArgv, TILLGATE_BIN, ...rest], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const first = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then((code) => reject(new Error(`${readyKind} exited ${code}: ${stderr}`)));
  });
  const ready = JSON.parse(await within(first, 20_000, `${readyKind} ready`)) as Record<string, unknown>;
  expect(ready.ready).toBe(readyKind);
  const p: TillgateProcess = {
    child, ready, exited, stdoutLines: [], stderr: () => stderr,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
  procs.push(p);
  return p;
}

describe('systemd units', () => {
  it('units - every variable a unit sets is an option of its command, and every secret comes from a credential file, never the command line or a config file', () => {
    for (const [name, command, specs] of UNITS) {
      const unit = parseUnit(name);
      expect(unit.execStart.slice(-3, -2)).toEqual([command]);
      const known = new Set(expandedSpecs(specs).map(([k]) => envName(k)));
      const tillgateVars = Object.keys(unit.environment).filter((k) => k.startsWith('TILLGATE_'));
      expect(tillgateVars.filter((v) => !known.has(v)), name).toEqual([]);
      const secrets = Object.entries(specs).filter(([, s]) => s.secret === true).map(([k]) => k);
      for (const key of secrets) {
        expect(unit.environment[envName(key)], `${name}: ${key} inline`).toBeUndefined();
        expect(unit.execStart.join(' '), name).not.toMatch(new RegExp(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}(\\s|=|$)`));
      }
      for (const [k, v] of Object.entries(unit.environment).filter(([k]) => k.endsWith('_FILE'))) {
        const credential = /^%d\/(.+)$/.exec(v)?.[1];
        expect(credential, `${name}: ${k} must point into the credentials directory`).toBeDefined();
        expect(unit.credentials[credential!], `${name}: ${k} names a credential the unit does not load`).toBeDefined();
      }
      const config = JSON.parse(readFileSync(join(CONFIG, `${command}.example.json`), 'utf8')) as Record<string, unknown>;
      for (const key of secrets) expect(config[key], `${command}.example.json holds ${key}`).toBeUndefined();
    }
  });

  it('units - systemd-analyze verify accepts both units', () => {
    const which = spawnSync('sh', ['-c', 'command -v systemd-analyze']);
    if (which.status !== 0) {
      console.warn('systemd-analyze is not installed here: the units were not verified (apt-get install systemd)');
      return;
    }
    const out = execFileSync('systemd-analyze', ['verify', ...UNITS.map(([n]) => join(SYSTEMD, n))], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toBe('');
  });

  it('units - the units\' own command lines start a cloud and a gateway from the example configs and the credentials, and a payment reaches the cloud', async () => {
    dir = await makeTempDir('tillgate-units-');
    const credentials = join(dir, 'credentials');
    await mkdir(credentials, { mode: 0o700 });
    const cred = (name: string, value: string) => writeFile(join(credentials, name), `${value}\n`, { mode: 0o600 });
    const adminToken = ADMIN_TOKEN; // the one initAndEnroll enrolls with
    const cloudToken = 'the-cloud-token-of-gateway-g-1-0123456789';
    await cred('tillgate-admin-token', adminToken);
    await cred('tillgate-cloud-token', cloudToken);
    await cred('tillgate-gateways', `g-1:s-1:${cloudToken}`);
    // The data key, as systemd decrypts the TPM-sealed credential for the service.
    execFileSync(process.execPath, [TILLGATE_BIN, 'data-key', 'init', '--key-file', join(credentials, 'tillgate-data-key')]);

    const cloudConfig = JSON.parse(await readFile(join(CONFIG, 'cloud.example.json'), 'utf8')) as Record<string, unknown>;
    Object.assign(cloudConfig, { dataDir: join(dir, 'var-lib-tillgate-cloud'), host: '127.0.0.1', httpPort: await freePort(), provisioningKeys: [TEST_PROVISIONING_PUBLIC_KEY], logLevel: 'warn' });
    await writeFile(join(dir, 'cloud.json'), JSON.stringify(cloudConfig));
    const cloud = await startAsUnit(parseUnit('tillgate-cloud.service'), credentials, { '/etc/tillgate/cloud.json': join(dir, 'cloud.json') }, 'cloud');
    const cloudUrl = readyString(cloud, 'url');

    const gatewayConfig = JSON.parse(await readFile(join(CONFIG, 'gateway.example.json'), 'utf8')) as Record<string, unknown>;
    Object.assign(gatewayConfig, { dataDir: join(dir, 'var-lib-tillgate'), host: '127.0.0.1', mqttPort: await freePort(), httpPort: await freePort(), cloudUrl, logLevel: 'warn' });
    await writeFile(join(dir, 'gateway.json'), JSON.stringify(gatewayConfig));
    const gateway = await startAsUnit(parseUnit('tillgate-gateway.service'), credentials, { '/etc/tillgate/gateway.json': join(dir, 'gateway.json') }, 'gateway');
    const gatewayUrl = readyString(gateway, 'httpUrl');
    const status = (await (await fetch(`${gatewayUrl}/api/status`)).json()) as { atRest: { currentKey: string }; forwarding: string };
    expect(status.forwarding).toBe('cloud');
    // The store is sealed with the key from the credential, not a key file in the data directory.
    const dataKey = JSON.parse(await readFile(join(credentials, 'tillgate-data-key'), 'utf8')) as { current: string };
    expect(status.atRest.currentKey).toBe(dataKey.current);

    const tdir = join(dir, 't-01');
    await mkdir(tdir);
    await initAndEnroll(tdir, 't-01', gatewayUrl);
    terminal = await startTerminal(tdir, gatewayConfig.mqttPort as number);
    const paid = await recordConfirmed(terminal.api, 1250, 'order-1');
    const events = await waitFor(async () => {
      const e = await cloudEvents(cloudUrl, 't-01').catch(() => []);
      return e.length === 1 ? e : undefined;
    }, { what: 'the payment in the cloud', timeoutMs: 20_000 });
    expect(events[0]!.seq).toBe(paid.seq);
    expect(await gateway.stop()).toBe(0);
    expect(await cloud.stop()).toBe(0);
  }, 120_000);
});
