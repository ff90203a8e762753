/** Runs the real `tillgate cloud` as a child process (compiled dist/: `npm run build` first). */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { within } from '../support/wait.js';

export const TILLGATE_BIN = join(process.cwd(), 'dist', 'bin', 'tillgate.js');

export interface CloudProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly httpPort: number;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  readonly stderr: () => string;
}

export async function spawnCloud(args: string[], timeoutMs = 10_000): Promise<CloudProcess> {
  if (!existsSync(TILLGATE_BIN)) throw new Error(`${TILLGATE_BIN} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [TILLGATE_BIN, 'cloud', '--host', '127.0.0.1', '--http-port', '0', '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<{ httpPort: number; url: string }>((resolve, reject) => {
    lines.once('line', (line) => {
      try {
        const msg = JSON.parse(line) as { ready?: string; httpPort: number; url: string };
        if (msg.ready === 'cloud') resolve(msg);
        else reject(new Error(`unexpected first line: ${line}`));
      } catch (err) {
        reject(err as Error);
      }
    });
    void exited.then((code) => reject(new Error(`tillgate cloud exited (${code}) before it was ready: ${stderr}`)));
  });
  try {
    const { httpPort, url } = await within(ready, timeoutMs, 'tillgate cloud ready line');
    return { child, url, httpPort, exited, stderr: () => stderr };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
