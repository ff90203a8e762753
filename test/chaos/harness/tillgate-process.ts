/**
 * Runs the real `tillgate` executable as a child process (compiled dist/: `npm run build` first),
 * waits for its one ready JSON line on stdout, keeps the tail of its stderr for failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { within } from '../../support/wait.js';

export const TILLGATE_BIN = join(process.cwd(), 'dist', 'bin', 'tillgate.js');
const STDERR_TAIL_CHARS = 20_000;

export interface TillgateProcess {
  readonly child: ChildProcess;
  /** The parsed ready line. */
  readonly ready: Record<string, unknown>;
  /** Resolves with the exit code (or signal name) once the process ended. */
  readonly exited: Promise<number | string>;
  stderr(): string;
  /** Every stdout line after the ready line. */
  readonly stdoutLines: string[];
  /** kill -9 and wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | string>;
}

export async function spawnTillgate(args: readonly string[], { timeoutMs = 15_000, readyKind }: { timeoutMs?: number; readyKind: string }): Promise<TillgateProcess> {
  if (!existsSync(TILLGATE_BIN)) throw new Error(`${TILLGATE_BIN} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [TILLGATE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-STDERR_TAIL_CHARS);
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const stdoutLines: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    let first = true;
    lines.on('line', (line) => {
      if (!first) {
        stdoutLines.push(line);
        return;
      }
      first = false;
      try {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.ready === readyKind) resolve(msg);
        else reject(new Error(`unexpected first line: ${line}`));
      } catch (err) {
        reject(err as Error);
      }
    });
    void exited.then((code) => reject(new Error(`tillgate ${args[0]} exited (${code}) before it was ready: ${stderr}`)));
  });
  let msg: Record<string, unknown>;
  try {
    msg = await within(ready, timeoutMs, `tillgate ${args[0]} ready line`);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  return {
    child,
    ready: msg,
    exited,
    stdoutLines,
    stderr: () => stderr,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop(stopTimeoutMs = 15_000) {
      child.kill('SIGTERM');
      return within(exited, stopTimeoutMs, `tillgate ${args[0]} exit after SIGTERM`);
    },
  };
}

/** Kills what is still running (afterEach): never leaves a child behind. */
export async function killAll(processes: readonly (TillgateProcess | null | undefined)[]): Promise<void> {
  await Promise.all(processes.map(async (p) => {
    if (p !== null && p !== undefined && p.child.exitCode === null && p.child.signalCode === null) await p.kill9();
  }));
}
