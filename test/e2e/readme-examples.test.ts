/**
 * Proves that the README's walkthrough works when pasted: the marked shell block runs as it is in
 * bash (`-e`, `pipefail`), in an empty directory, with `tillgate` on the PATH — cloud, gateway and
 * terminal from secret files, a payment through the local API into the cloud ledger, and an online
 * backup — only its well-known ports replaced by free ones (tests never use the default ports).
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { assertBuilt, TILLGATE_BIN } from '../support/tillgate-process.js';
import { within } from '../support/wait.js';

const MARKER = '<!-- readme-example:';
const DEFAULT_PORTS = [8090, 8080, 1883, 8470];

/** Every shell block the README marks as an example to run. */
export function readmeExamples(readme: string): string[] {
  const out: string[] = [];
  for (let at = readme.indexOf(MARKER); at !== -1; at = readme.indexOf(MARKER, at + 1)) {
    const open = readme.indexOf('```sh\n', at);
    const close = readme.indexOf('\n```', open + 6);
    if (open === -1 || close === -1) throw new Error('a readme-example marker without a ```sh block after it');
    out.push(readme.slice(open + 6, close + 1));
  }
  return out;
}

let dir = '';
let pgid: number | undefined;
beforeAll(() => assertBuilt());
afterEach(async () => {
  if (pgid !== undefined) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  pgid = undefined;
  if (dir !== '') await removeDir(dir);
  dir = '';
});

describe('README examples', () => {
  it('readme - the walkthrough block runs as pasted: a payment reaches the cloud ledger and an online backup is taken, secrets only in files', async () => {
    const blocks = readmeExamples(await readFile('README.md', 'utf8'));
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    dir = await makeTempDir('tillgate-readme-');
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'tillgate'), `#!/bin/sh\nexec "${process.execPath}" "${TILLGATE_BIN}" "$@"\n`);
    await chmod(join(bin, 'tillgate'), 0o755);
    let script = blocks[0]!;
    for (const port of DEFAULT_PORTS) script = script.replace(new RegExp(`\\b${port}\\b`, 'g'), String(await freePort()));
    const work = join(dir, 'work');
    await mkdir(work);
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd: work, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`, HOME: dir },
    });
    pgid = child.pid;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await within(new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c))), 120_000, 'the README walkthrough');
    expect(code, `stdout: ${stdout}\nstderr: ${stderr}`).toBe(0);
    // The payment (201), then the ledger holding it.
    expect(stdout).toMatch(/\{"id":"[0-9a-f-]{36}","seq":1,"offline":false\}/);
    expect(stdout).toMatch(/\{"head":1,"events":\[\{"seq":1,"jws":"[A-Za-z0-9_.-]+","receivedAt":"[^"]+"\}\]\}/);
    const demo = join(work, 'tillgate-demo');
    const manifest = JSON.parse(await readFile(join(demo, 'backups', 'gateway-1', 'manifest.json'), 'utf8')) as { source: string; entries: number };
    expect(manifest.source).toBe('online');
    const status = JSON.parse(await readFile(join(demo, 'status.json'), 'utf8')) as { forwarding: string; eventsStored: number };
    expect(status).toMatchObject({ forwarding: 'cloud', eventsStored: 1 });
    // The secrets went through files: nothing on a command line, nothing in a log.
    const token = (await readFile(join(demo, 'secrets', 'admin-token'), 'utf8')).trim();
    expect(script).not.toContain(token);
    for (const log of ['cloud.log', 'gateway.log', 't-01.log']) expect(await readFile(join(demo, log), 'utf8')).not.toContain(token);
  }, 150_000);
});
