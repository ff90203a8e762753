/**
 * The real `tillgate gateway` as a child process (compiled dist/, TESTING.md): started on
 * ephemeral ports, ready when it prints its JSON line, stopped with SIGTERM or killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { within } from '../support/wait.js';
import { ADMIN_TOKEN, STORE } from './support.js';

export const TILLGATE_BIN = join(process.cwd(), 'dist', 'bin', 'tillgate.js');

export function assertBuilt(): void {
  if (!existsSync(TILLGATE_BIN)) throw new Error(`${TILLGATE_BIN} is missing: run \`npm run build\` first`);
}

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly mqttPort: number;
  readonly httpUrl: string;
  readonly stderr: string[];
}

export async function spawnGateway(dataDir: string, extraArgs: string[] = []): Promise<GatewayProcess> {
  const child = spawn(
    process.execPath,
    [TILLGATE_BIN, 'gateway', '--data-dir', dataDir, '--store', STORE, '--gateway-id', 'g-1', '--admin-token', ADMIN_TOKEN,
      '--host', '127.0.0.1', '--mqtt-port', '0', '--http-port', '0', '--log-level', 'warn', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => {
    if (stderr.length < 200) stderr.push(l);
  });
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<{ mqttPort: number; httpUrl: string }>((resolve, reject) => {
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { ready?: string; mqttPort: number; httpUrl: string };
        if (msg.ready === 'gateway') resolve(msg);
      } catch {
        // not the ready line
      }
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code} before ready: ${stderr.join('\n')}`)));
  });
  const r = await within(ready, 15_000, 'gateway ready line');
  return { child, mqttPort: r.mqttPort, httpUrl: r.httpUrl, stderr };
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export async function kill9(p: GatewayProcess): Promise<void> {
  p.child.kill('SIGKILL');
  await within(exited(p.child), 10_000, 'gateway killed');
}

export async function stopGracefully(p: GatewayProcess): Promise<number | null> {
  p.child.kill('SIGTERM');
  return within(exited(p.child), 15_000, 'gateway SIGTERM exit');
}
