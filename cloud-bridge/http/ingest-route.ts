/**
 * `POST /v1/ingest` (DESIGN §3.4), as named steps: admit (bounded concurrency) → authenticate →
 * read the bounded body → parse → check counts → validate → authorize the gateway for its store →
 * run the pipeline → answer one result per event, in order, after the ledger's synced write.
 */
import type { Hono } from 'hono';
import { TillgateError } from '../../protocol/errors.js';
import { describeIssues } from '../../protocol/event.js';
import { ingestRequestSchema, type IngestRequest, type IngestResponse } from '../../protocol/ingest-api.js';
import type { GatewayDirectory } from '../auth.js';
import { ingestBatch, type IngestDeps } from '../ingest.js';
import type { GatewayCredential } from '../options.js';
import { errorResponse, HttpError } from './answers.js';
import { parseJsonBody, readBoundedBody } from './body.js';

export interface IngestLimits {
  readonly maxBodyBytes: number;
  readonly maxEventsPerRequest: number;
  readonly maxEnrollmentsPerRequest: number;
  readonly maxInflightIngests: number;
}

export function mountIngestRoute(app: Hono, deps: IngestDeps, directory: GatewayDirectory, limits: IngestLimits): void {
  let inflight = 0;
  app.post('/v1/ingest', async (c) => {
    const started = deps.clock.monotonicMs();
    const answer = (status: number) => {
      deps.metrics.ingestRequests.inc({ status: String(status) });
      deps.metrics.requestSeconds.observe((deps.clock.monotonicMs() - started) / 1000);
    };
    if (inflight >= limits.maxInflightIngests) {
      answer(429);
      return errorResponse(c, 429, 'BUSY', 'too many ingest requests at once; retry');
    }
    inflight++;
    let gateway: GatewayCredential | undefined;
    try {
      gateway = authenticate(directory, c.req.header('authorization'));
      const body = parseJsonBody(await readBoundedBody(c.req.raw, limits.maxBodyBytes));
      checkCounts(body, limits);
      const request = authorize(gateway, validate(body));
      const results = await ingestBatch(deps, gateway, request);
      answer(200);
      const response: IngestResponse = { results };
      return c.json(response, 200);
    } catch (err) {
      if (err instanceof HttpError) {
        answer(err.status);
        return errorResponse(c, err.status, err.code, err.message);
      }
      if (err instanceof TillgateError && err.code === 'LEDGER_CORRUPT') {
        // An alarm, not a hiccup: a retry reads the same bad record. 500 without Retry-After; the
        // gateway keeps the batch and retries on its capped backoff, so nothing is lost meanwhile.
        deps.metrics.ledgerCorrupt.inc();
        deps.logger.error('LEDGER_CORRUPT: a stored record failed its read-back check', { err, gateway: gateway?.id });
        answer(500);
        return errorResponse(c, 500, 'LEDGER_CORRUPT', 'a stored ledger record is corrupt; the operator has been alerted');
      }
      if (err instanceof TillgateError && (err.code.startsWith('LEDGER_') || err.code === 'VERIFY_UNAVAILABLE')) {
        // Nothing of this request is acknowledged: the gateway retries (DESIGN §3.4: 5xx means retry).
        deps.logger.error('ingest unavailable', { err });
        answer(503);
        return errorResponse(c, 503, 'LEDGER_UNAVAILABLE', 'the ledger is unavailable; retry');
      }
      throw err;
    } finally {
      inflight--;
    }
  });
}

function authenticate(directory: GatewayDirectory, authorization: string | undefined): GatewayCredential {
  const gateway = directory.gatewayFor(authorization);
  if (gateway === undefined) throw new HttpError(401, 'UNAUTHORIZED', 'missing or unknown gateway bearer token');
  return gateway;
}

/** Counts are checked before the schema so an oversized batch costs no validation, and is a 413. */
function checkCounts(body: unknown, limits: IngestLimits): void {
  if (typeof body !== 'object' || body === null) return;
  const { events, enrollments } = body as { events?: unknown; enrollments?: unknown };
  if (Array.isArray(events) && events.length > limits.maxEventsPerRequest) {
    throw new HttpError(413, 'TOO_MANY_EVENTS', `more than ${limits.maxEventsPerRequest} events in one request`);
  }
  if (Array.isArray(enrollments) && enrollments.length > limits.maxEnrollmentsPerRequest) {
    throw new HttpError(413, 'TOO_MANY_ENROLLMENTS', `more than ${limits.maxEnrollmentsPerRequest} enrollments in one request`);
  }
}

function validate(body: unknown): IngestRequest {
  const parsed = ingestRequestSchema.safeParse(body);
  if (!parsed.success) throw new HttpError(400, 'MALFORMED', `request ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The token decides who is speaking; the body must agree with it (403 otherwise). */
function authorize(gateway: GatewayCredential, request: IngestRequest): IngestRequest {
  if (request.gateway !== gateway.id || request.store !== gateway.store) {
    throw new HttpError(403, 'FORBIDDEN', 'the request names another gateway or store than its token');
  }
  return request;
}
