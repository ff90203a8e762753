/**
 * Runs the real `tillgate` executable as a child process (compiled dist/: `npm run build` first,
 * plain Node 20 cannot run .ts), waits for its one ready JSON line on stdout, keeps the
 * tail of its stderr for failure messages. The one process helper for every test that spawns
 * `tillgate`; per-command wrappers (test/gateway/gateway-process.ts, test/cloud-bridge/cloud-process.ts)
 * only add their default flags and typed ready fields.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { within } from './wait.js';

export const TILLGATE_BIN = join(process.cwd(), 'dist', 'bin', 'tillgate.js');
/** Enough stderr to explain a failed start without holding a chatty process's whole log. */
const STDERR_TAIL_CHARS = 20_000;
/** How long a started process may take to print its ready line (LevelDB open, two listeners). */
export const DEFAULT_READY_TIMEOUT_MS = 15_000;
/** How long a graceful shutdown (SIGTERM) may take: drains the store and closes the sockets. */
export const DEFAULT_STOP_TIMEOUT_MS = 15_000;
/** SIGKILL cannot be caught: a process still there after this is a test-machine problem. */
export const DEFAULT_KILL_TIMEOUT_MS = 10_000;

export interface TillgateProcess {
  readonly child: ChildProcess;
  /** The parsed ready line. */
  readonly ready: Record<string, unknown>;
  /** Resolves with the exit code (or signal name) once the process ended. */
  readonly exited: Promise<number | string>;
  stderr(): string;
  /** Every stdout line after the ready line. */
  readonly stdoutLines: string[];
  /** kill -9 and wait (bounded) for the exit. */
  kill9(timeoutMs?: number): Promise<void>;
  /** SIGTERM and wait (bounded) for the exit; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | string>;
}

/** Fails early with the fix when dist/ was not built (call in beforeAll). */
export function assertBuilt(): void {
  if (!existsSync(TILLGATE_BIN)) throw new Error(`${TILLGATE_BIN} is missing: run \`npm run build\` first`);
}

/**
 * Spawns `node dist/bin/tillgate.js ...args` and resolves once its first stdout line is the ready
 * JSON line of `readyKind` (`{"ready":"gateway",...}`). Rejects, after killing the child, when the
 * first line is anything else, the process exits first, or no line comes within `timeoutMs`.
 */
export async function spawnTillgate(
  args: readonly string[],
  { timeoutMs = DEFAULT_READY_TIMEOUT_MS, readyKind, env }: { timeoutMs?: number; readyKind: string; env?: Readonly<Record<string, string>> },
): Promise<TillgateProcess> {
  assertBuilt();
  // `env`: variables added to this process's environment (e.g. TILLGATE_*_FILE, as a systemd unit sets them).
  const child = spawn(process.execPath, [TILLGATE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(env === undefined ? {} : { env: { ...process.env, ...env } }) });
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
    async kill9(killTimeoutMs = DEFAULT_KILL_TIMEOUT_MS) {
      child.kill('SIGKILL');
      await within(exited, killTimeoutMs, `tillgate ${args[0]} exit after SIGKILL`);
    },
    async stop(stopTimeoutMs = DEFAULT_STOP_TIMEOUT_MS) {
      child.kill('SIGTERM');
      return within(exited, stopTimeoutMs, `tillgate ${args[0]} exit after SIGTERM`);
    },
  };
}

/** A field of the ready line that must be a number (a port): a wrong ready line fails loudly. */
export function readyNumber(p: TillgateProcess, field: string): number {
  const value = p.ready[field];
  if (typeof value !== 'number') throw new TypeError(`ready line field ${field} is not a number: ${JSON.stringify(p.ready)}`);
  return value;
}

/** A field of the ready line that must be a string (a URL). */
export function readyString(p: TillgateProcess, field: string): string {
  const value = p.ready[field];
  if (typeof value !== 'string') throw new TypeError(`ready line field ${field} is not a string: ${JSON.stringify(p.ready)}`);
  return value;
}

/** Kills what is still running (afterEach): never leaves a child behind. */
export async function killAll(processes: readonly (TillgateProcess | null | undefined)[]): Promise<void> {
  await Promise.all(processes.map(async (p) => {
    if (p !== null && p !== undefined && p.child.exitCode === null && p.child.signalCode === null) await p.kill9();
  }));
}
