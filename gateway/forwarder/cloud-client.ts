/**
 * The network edge of the forwarder: one ingest call and one health probe, each answered
 * with an outcome the forwarder can act on without knowing HTTP. Production: http-cloud-client.ts;
 * the admin WAN toggle wraps it (link-gate.ts); tests hand in faults.
 */
import type { IngestRequest, ReceivedIngestResult } from '../../protocol/ingest-api.js';

/**
 * What became of one request (DESIGN §3.4):
 * - `ok`: a 200 whose body passed the schema and has one result per event;
 * - `retry`: network error, timeout, 429, 5xx, a malformed answer, or an artificial link cut;
 * - `too-large`: 413, send less;
 * - `bad-request`: 400, not retryable as is;
 * - `auth`: 401/403, alarm, retry slowly.
 */
export type IngestOutcome =
  | { readonly kind: 'ok'; readonly results: readonly ReceivedIngestResult[]; readonly latencyMs: number }
  | { readonly kind: 'retry'; readonly code: string; readonly status: number | null; readonly latencyMs: number }
  | { readonly kind: 'too-large'; readonly code: 'HTTP_413'; readonly latencyMs: number }
  | { readonly kind: 'bad-request'; readonly code: string; readonly latencyMs: number }
  | { readonly kind: 'auth'; readonly code: string; readonly status: 401 | 403; readonly latencyMs: number };

export type ProbeOutcome =
  | { readonly ok: true; readonly rttMs: number }
  | { readonly ok: false; readonly code: string; readonly rttMs: number | null };

export interface CloudClient {
  /** Sends one batch. Never throws for network or HTTP failures: they are outcomes. */
  ingest(request: IngestRequest, signal?: AbortSignal): Promise<IngestOutcome>;
  /** `GET /healthz` with a timeout. */
  probe(timeoutMs: number): Promise<ProbeOutcome>;
}

/** Stable failure codes of outcomes (alarms and the status page show them). */
export const CLOUD_FAILURE_CODES = {
  network: 'NETWORK',
  timeout: 'TIMEOUT',
  aborted: 'ABORTED',
  malformed: 'MALFORMED_RESPONSE',
  linkCut: 'LINK_CUT',
} as const;

export const httpCode = (status: number): string => `HTTP_${status}`;
