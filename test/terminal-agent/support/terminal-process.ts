/**
 * The real `tillgate terminal run` as a child process (compiled dist/) and its local
 * record API, as the payment app uses it: POST /record with an Idempotency-Key, GET /status,
 * GET /set-aside.
 */
import { cp, rm } from 'node:fs/promises';
import type { ChainState } from '../../../terminal-agent/chain-state.js';
import type { SetAsideExport } from '../../../terminal-agent/set-aside.js';
import { killAll, readyString, spawnTillgate, type TillgateProcess } from '../../support/tillgate-process.js';
import { waitFor } from '../../support/wait.js';
import { sampleTx } from './real-gateway.js';

export interface TerminalProcess {
  readonly process: TillgateProcess;
  readonly api: string;
}

export async function startTerminal(dir: string, mqttPort: number, extra: readonly string[] = []): Promise<TerminalProcess> {
  const p = await spawnTillgate(
    ['terminal', 'run', '--dir', dir, '--gateway', `mqtt://127.0.0.1:${mqttPort}`, '--api-port', '0', '--health-interval-s', '0', '--log-level', 'warn', ...extra],
    { readyKind: 'terminal' },
  );
  return { process: p, api: readyString(p, 'apiUrl') };
}

export interface RecordAnswer {
  readonly status: number;
  readonly id?: string;
  readonly seq?: number;
  readonly offline?: boolean;
  readonly code?: string;
}

export async function record(api: string, amount: number, key: string, extra: Record<string, unknown> = {}): Promise<RecordAnswer> {
  const res = await fetch(`${api}/record`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ ...sampleTx(amount), ...extra }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { id?: string; seq?: number; offline?: boolean; error?: { code: string } };
  return { status: res.status, ...body, ...(body.error === undefined ? {} : { code: body.error.code }) };
}

/** Like a payment app: retries while the terminal answers "not now" (503), until it is recorded. */
export async function recordConfirmed(api: string, amount: number, key: string): Promise<RecordAnswer & { id: string; seq: number }> {
  const notNow = new Set(['NOT_SYNCED', 'RESYNCING']);
  return waitFor(async () => {
    const r = await record(api, amount, key);
    if (r.status === 201 && r.id !== undefined && r.seq !== undefined) return r as RecordAnswer & { id: string; seq: number };
    if (r.status === 503 && r.code !== undefined && notNow.has(r.code)) return undefined;
    throw new Error(`record ${key}: HTTP ${r.status} ${r.code ?? ''}`);
  }, { what: `payment ${key} recorded`, timeoutMs: 15_000 });
}

export interface TerminalStatus {
  readonly headSeq: number;
  readonly ackedSeq: number;
  readonly depth: number;
  readonly rejected: number;
  /** Absent on agents older than the chain state. */
  readonly chain?: ChainState;
}

export async function terminalStatus(api: string): Promise<TerminalStatus> {
  return (await (await fetch(`${api}/status`, { signal: AbortSignal.timeout(5_000) })).json()) as TerminalStatus;
}

/** Until everything recorded is acknowledged and the chain is in step with the gateway's. */
export function drained(api: string, timeoutMs = 20_000): Promise<TerminalStatus> {
  return waitFor(async () => {
    const s = await terminalStatus(api);
    return s.depth === 0 && s.ackedSeq === s.headSeq && (s.chain === undefined || s.chain.kind === 'in-step') ? s : undefined;
  }, { what: 'terminal outbox drained', timeoutMs });
}

export async function setAsideList(api: string): Promise<SetAsideExport[]> {
  const res = await fetch(`${api}/set-aside`, { signal: AbortSignal.timeout(5_000) });
  return ((await res.json()) as { events: SetAsideExport[] }).events;
}

/** Replaces `dir` with a copy of `backup` (a restore from backup). */
export async function restore(backup: string, dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await cp(backup, dir, { recursive: true });
}

/** After a test: every terminal process killed, then the system (gateway, cloud) closed. */
export async function stopTerminalsThenSystem(terminals: readonly TerminalProcess[], system: { close(): Promise<void> } | null): Promise<void> {
  await killAll(terminals.map((t) => t.process));
  await system?.close();
}
