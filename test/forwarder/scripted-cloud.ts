/**
 * Injected faults for forwarder unit tests: a CloudClient whose answers a test scripts (503s,
 * 401s, 413s, malformed 200s, "commit then lose the answer") on top of a minimal model of the
 * cloud's per-terminal order rules (DESIGN §3.4). It does not verify signatures: the real
 * cloud-bridge does that in the e2e and chaos tests.
 */
import { decodeEvent } from '../../protocol/jws.js';
import type { IngestRequest, ReceivedIngestResult } from '../../protocol/ingest-api.js';
import type { CloudClient, IngestOutcome, ProbeOutcome } from '../../gateway/forwarder/cloud-client.js';

export type Fault =
  | Exclude<IngestOutcome, { kind: 'ok' }>
  /** The cloud commits the batch, then the answer is lost (a response dropped on the way back). */
  | { readonly kind: 'commit-then-lose' }
  /** A 200 with one result too few. */
  | { readonly kind: 'malformed' };

export const fault = {
  http503: { kind: 'retry', code: 'HTTP_503', status: 503, latencyMs: 1 },
  network: { kind: 'retry', code: 'NETWORK', status: null, latencyMs: 1 },
  http401: { kind: 'auth', code: 'HTTP_401', status: 401, latencyMs: 1 },
  http413: { kind: 'too-large', code: 'HTTP_413', latencyMs: 1 },
  http400: { kind: 'bad-request', code: 'HTTP_400', latencyMs: 1 },
  commitThenLose: { kind: 'commit-then-lose' },
  malformed: { kind: 'malformed' },
} as const satisfies Record<string, Fault>;

export class ScriptedCloud implements CloudClient {
  readonly heads = new Map<string, number>();
  /** (terminal, seq) in the order the cloud stored them. */
  readonly ledger: { terminal: string; seq: number }[] = [];
  readonly keys = new Set<string>();
  readonly requests: IngestRequest[] = [];
  readonly faults: Fault[] = [];
  /** Faults for a given request number (1-based, counted over the cloud's lifetime). */
  readonly faultAt = new Map<number, Fault>();
  /** When set, events whose key was never enrolled get UNKNOWN_KEY. */
  requireKeys = false;
  /**
   * Permanent refusals, e.g. `(t, s) => s === 3 ? 'BAD_SIGNATURE' : undefined`; any string, as a
   * newer cloud may send codes this gateway does not know (DESIGN §3.4).
   */
  rejectRule: (terminal: string, seq: number) => string | undefined = () => undefined;
  /** A status this gateway does not know, answered instead of storing (a newer cloud). */
  statusRule: (terminal: string, seq: number) => string | undefined = () => undefined;
  /** When set, every call fails with it (e.g. a token that stays wrong until fixed). */
  persistentFault: Fault | null = null;

  async ingest(request: IngestRequest): Promise<IngestOutcome> {
    this.requests.push(request);
    const f = this.persistentFault ?? this.faultAt.get(this.requests.length) ?? this.faults.shift();
    if (f !== undefined && f.kind !== 'commit-then-lose' && f.kind !== 'malformed') return f;
    const results = this.#apply(request);
    if (f?.kind === 'commit-then-lose') return { kind: 'retry', code: 'NETWORK', status: null, latencyMs: 1 };
    if (f?.kind === 'malformed') return { kind: 'ok', results: results.slice(1), latencyMs: 1 };
    return { kind: 'ok', results, latencyMs: 1 };
  }

  async probe(): Promise<ProbeOutcome> {
    return { ok: true, rttMs: 1 };
  }

  /** Forgets a terminal's events from `fromSeq` (a cloud restored from an old backup). */
  loseFrom(terminal: string, fromSeq: number): void {
    this.heads.set(terminal, fromSeq - 1);
    for (let i = this.ledger.length - 1; i >= 0; i--) {
      const e = this.ledger[i];
      if (e !== undefined && e.terminal === terminal && e.seq >= fromSeq) this.ledger.splice(i, 1);
    }
  }

  seqsOf(terminal: string): number[] {
    return this.ledger.filter((e) => e.terminal === terminal).map((e) => e.seq);
  }

  #apply(request: IngestRequest): ReceivedIngestResult[] {
    for (const e of request.enrollments) this.keys.add(`${e.terminal}:${e.kid}`);
    return request.events.map((jws) => {
      const ev = decodeEvent(jws);
      const { terminal, seq } = ev.payload;
      const head = this.heads.get(terminal) ?? 0;
      if (this.requireKeys && !this.keys.has(`${terminal}:${ev.header.kid}`)) return { terminal, seq, status: 'rejected', code: 'UNKNOWN_KEY' };
      const status = this.statusRule(terminal, seq);
      if (status !== undefined && seq > head) return { terminal, seq, status };
      const refusal = this.rejectRule(terminal, seq);
      if (refusal !== undefined && seq > head) return { terminal, seq, status: 'rejected', code: refusal };
      if (seq <= head) return { terminal, seq, status: 'duplicate' };
      if (seq > head + 1) return { terminal, seq, status: 'rejected', code: 'SEQ_GAP', expected: head + 1 };
      this.heads.set(terminal, seq);
      this.ledger.push({ terminal, seq });
      return { terminal, seq, status: 'accepted' };
    });
  }
}
