/**
 * A throwaway PostgreSQL server for tests and benchmarks: `initdb` into a temp
 * directory, `postgres` on 127.0.0.1 and a free port, stopped and deleted by `stop()`. This machine
 * runs as root and `postgres` refuses to run as root, so both run as the `postgres` user (via
 * `runuser`) in a directory it owns. Tests run with `fsync=off` for speed; the benchmark turns
 * durability on, as production has it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { freePort } from '../ports.js';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** What installs the server binaries on Debian (the image has them; a fresh machine may not). */
export const POSTGRES_INSTALL_HINT = 'apt-get install -y postgresql';
/** initdb plus the first start take ~1–1.5 s here; under heavy load much longer. */
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
/** Enough for several test files at once, each with a few pools, and the 3-replica tests. */
const MAX_CONNECTIONS = 300;

export interface PostgresServer {
  /** Superuser URL of the `postgres` database, e.g. postgres://postgres@127.0.0.1:5433/postgres. */
  readonly url: string;
  readonly port: number;
  /** The postmaster's pid (from postmaster.pid: the spawned child is `runuser` when we are root). */
  readonly pid: number;
  /** Data directory (for /proc CPU accounting of the whole server, see `serverPids`). */
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** false (tests): fsync and synchronous_commit off. true (benchmarks): both on, as in production. */
  readonly durable?: boolean;
  /** Extra `-c name=value` settings. */
  readonly settings?: Readonly<Record<string, string>>;
}

/** The directory holding `initdb` and `postgres`, or undefined when PostgreSQL is not installed. */
export function findPostgresBin(): string | undefined {
  const candidates = ['/usr/local/bin'];
  try {
    for (const v of readdirSync('/usr/lib/postgresql').sort().reverse()) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // not installed from Debian packages
  }
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')));
}

const isRoot = () => userInfo().uid === 0;

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. */
function asPostgres(bin: string, args: readonly string[]): { command: string; args: string[] } {
  return isRoot() ? { command: 'runuser', args: ['-u', 'postgres', '--', bin, ...args] } : { command: bin, args: [...args] };
}


/** Starts a fresh server; throws when the binaries are missing or it does not come up. */
export async function startPostgres(options: StartOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (bin === undefined) throw new Error(`PostgreSQL server binaries not found; install them with: ${POSTGRES_INSTALL_HINT}`);
  const root = mkdtempSync(join(tmpdir(), 'tillgate-pg-'));
  const dataDir = join(root, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  chmodSync(root, 0o755);
  if (isRoot()) {
    const pgUser = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const pgGroup = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (pgUser.status !== 0) throw new Error('running as root, but there is no `postgres` user to run PostgreSQL as');
    chownSync(root, Number(pgUser.stdout.trim()), Number(pgGroup.stdout.trim()));
    chownSync(dataDir, Number(pgUser.stdout.trim()), Number(pgGroup.stdout.trim()));
  }
  const init = asPostgres(join(bin, 'initdb'), ['-D', dataDir, '--locale=C', '--encoding=UTF8', '-U', 'postgres', '-A', 'trust', '--no-sync', '--no-instructions']);
  const initRun = spawnSync(init.command, init.args, { encoding: 'utf8' });
  if (initRun.status !== 0) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`initdb failed (${initRun.status}): ${initRun.stderr}`);
  }
  const durable = options.durable ?? false;
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: root,
    max_connections: String(MAX_CONNECTIONS),
    fsync: durable ? 'on' : 'off',
    synchronous_commit: durable ? 'on' : 'off',
    full_page_writes: durable ? 'on' : 'off',
    shared_buffers: '128MB',
    log_min_messages: 'fatal',
    ...options.settings,
  };
  let lastError: unknown;
  // A free port can be taken between the probe and the bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const run = asPostgres(join(bin, 'postgres'), args);
    const child = spawn(run.command, run.args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-5_000)));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    try {
      await waitReady(url, child, () => stderr);
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return { url, port, pid, dataDir, stop: () => stopServer(child, pid, exited, root) };
    } catch (err) {
      lastError = err;
      child.kill('SIGKILL');
      await exited;
    }
  }
  rmSync(root, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

async function waitReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`postgres exited during start: ${stderr()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline) throw new Error(`postgres did not accept connections within ${START_TIMEOUT_MS} ms: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopServer(child: ChildProcess, pid: number, exited: Promise<void>, root: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    // SIGINT to the postmaster itself (runuser does not pass it on) = "fast shutdown": open
    // sessions are ended, nothing is waited for.
    signal(pid, 'SIGINT');
    const timer = setTimeout(() => {
      signal(pid, 'SIGKILL');
      child.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
  rmSync(root, { recursive: true, force: true });
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Pids of the postmaster and its children (backends, WAL writer, checkpointer…), for CPU accounting. */
export function serverPids(server: PostgresServer): number[] {
  const root = server.pid;
  const out = [root];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === root) out.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}
