/**
 * The ingest pipeline of one `POST /v1/ingest` (DESIGN §3.4), as named steps:
 * enrollments → for each event: decode → store check → enrolled key, with the signatures of every
 * chunk of decoded events checked on the verify workers meanwhile → one ledger append for the batch.
 * The gateway is trusted for nothing: every event is verified again against a key that an
 * authenticated gateway of the same store enrolled with the operator's endorsement (DESIGN §3.1).
 */
import { RejectError } from '../protocol/errors.js';
import { decodeEvent, type DecodedEvent } from '../protocol/jws.js';
import type { Enrollment, IngestRequest, IngestResult } from '../protocol/ingest-api.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { AppendItem, KeyRecord, Ledger } from './ledger.js';
import type { CloudMetrics } from './metrics.js';
import type { GatewayCredential } from './options.js';
import type { Verifier } from '../lib/verify-pool.js';
import { ENROLLMENT_REFUSAL_CODES, judgeEnrollment, type EnrollmentRefusalCode, type EnrollmentTrust, type EnrollmentVerdict } from './enrollment-trust.js';

export interface IngestDeps {
  readonly ledger: Ledger;
  readonly verifier: Verifier;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: CloudMetrics;
  /** Which enrollments are recorded (DESIGN §3.1): endorsed by a provisioning key, or (unsafe) any. */
  readonly trust: EnrollmentTrust;
}

/** Per-request state: keys already looked up, so a batch of one terminal reads its key once. */
interface Context {
  readonly deps: IngestDeps;
  readonly store: string;
  readonly keys: Map<string, Buffer | undefined>;
}

type Checked = { readonly index: number; readonly event: DecodedEvent; readonly publicKeyRaw: Buffer };

/**
 * Decoded events handed to the verify workers at a time. Small enough that the workers start while
 * most of a 1,000-event batch is still being decoded, large enough that a post costs little
 * (the pool splits a chunk over its workers in parts of at least 64).
 */
const VERIFY_CHUNK_EVENTS = 128;

/** At most this many CONFLICT alarms are logged one by one per request; the rest are counted. */
const MAX_ALARMS_LOGGED = 10;

/** Runs the pipeline; ledger failures propagate (the route answers 503, the gateway retries). */
export async function ingestBatch(deps: IngestDeps, gateway: GatewayCredential, request: IngestRequest): Promise<IngestResult[]> {
  const ctx: Context = { deps, store: gateway.store, keys: new Map() };
  await recordEnrollments(ctx, request.enrollments);
  const results: Array<IngestResult | undefined> = [];
  const checked: Checked[] = [];
  // Step 5 overlaps steps 2–4: each chunk of decoded events goes to the verify workers while the
  // event loop decodes the next one, so the workers do not wait for the whole batch to be parsed.
  const verdicts: Array<Promise<boolean[]>> = [];
  let chunkStart = 0;
  const flush = () => {
    if (checked.length === chunkStart) return;
    const chunk = checked.slice(chunkStart).map((c) => ({ signingInput: c.event.signingInput, signature: c.event.signature, publicKeyRaw: c.publicKeyRaw }));
    verdicts.push(deps.verifier.verifyMany(chunk));
    chunkStart = checked.length;
  };
  try {
    for (const [index, jws] of request.events.entries()) {
      try {
        checked.push({ index, ...(await checkEvent(ctx, jws)) });
        results.push(undefined);
      } catch (err) {
        if (!(err instanceof RejectError)) throw err;
        results.push(rejected(err, tryIdentity(jws)));
      }
      if (checked.length - chunkStart >= VERIFY_CHUNK_EVENTS) flush();
    }
    flush();
  } catch (err) {
    // A ledger failure mid-decode: let the verifies in flight settle before answering 503.
    await Promise.allSettled(verdicts);
    throw err;
  }
  const valid = (await Promise.all(verdicts)).flat();
  const pending = checked.filter((c, i) => {
    if (valid[i] === true) return true;
    results[c.index] = { terminal: c.event.payload.terminal, seq: c.event.payload.seq, status: 'rejected', code: 'BAD_SIGNATURE' };
    return false;
  });
  const items: AppendItem[] = pending.map(({ event: e }) => ({ terminal: e.payload.terminal, seq: e.payload.seq, prev: e.payload.prev, jws: e.jws }));
  const started = deps.clock.monotonicMs();
  const outcomes = await deps.ledger.append(ctx.store, items);
  deps.metrics.appendSeconds.observe((deps.clock.monotonicMs() - started) / 1000);
  pending.forEach(({ index }, i) => {
    const item = items[i] as AppendItem;
    const outcome = outcomes[i];
    if (outcome === undefined) throw new TypeError('ledger returned fewer outcomes than items');
    const base = { terminal: item.terminal, seq: item.seq };
    results[index] = outcome.status === 'rejected'
      ? { ...base, status: 'rejected', code: outcome.code, ...(outcome.expected === undefined ? {} : { expected: outcome.expected }) }
      : { ...base, status: outcome.status };
  });
  const final = results as IngestResult[];
  report(ctx, gateway, final);
  return final;
}

/**
 * Step 1: record the keys the events of this batch may need (before the events, DESIGN §3.4), each
 * only when the trust configuration accepts it (cloud-bridge/enrollment-trust.ts: with provisioning
 * keys, only a key the operator endorsed for this gateway's store and that terminal).
 */
async function recordEnrollments(ctx: Context, enrollments: readonly Enrollment[]): Promise<void> {
  const records: KeyRecord[] = [];
  const refusals = new Refusals(ctx);
  const pending: Extract<EnrollmentVerdict, { kind: 'verify' }>[] = [];
  for (const e of enrollments) {
    const verdict = judgeEnrollment(ctx.deps.trust, ctx.store, e);
    if (verdict.kind === 'refuse') refusals.add(e, verdict.code, verdict.message);
    else if (verdict.kind === 'verify') pending.push(verdict);
    else records.push(verdict.record);
  }
  // The endorsements' signatures go to the verify workers in one batch, like the events'.
  const valid = pending.length === 0 ? [] : await ctx.deps.verifier.verifyMany(pending.map((p) => p.check));
  pending.forEach((p, i) => {
    if (valid[i] === true) records.push(p.record);
    else refusals.add(p.record, ENROLLMENT_REFUSAL_CODES.badSignature, 'endorsement signature does not match the provisioning key');
  });
  if (records.length > 0) {
    const outcomes = await ctx.deps.ledger.enroll(ctx.store, records);
    outcomes.forEach((outcome, i) => {
      if (outcome === 'conflict') refusals.add(records[i] as KeyRecord, ENROLLMENT_REFUSAL_CODES.kidConflict, 'kid is already enrolled with another key');
      else ctx.deps.metrics.enrollments.inc({ result: outcome });
    });
  }
  refusals.summarize();
}

/**
 * Refused enrollments are not recorded; the events signed with their keys are answered UNKNOWN_KEY.
 * Each is counted by reason; the first few of a request are logged one by one (ids and codes only,
 * never the endorsement), the rest in one summary line, so a hostile batch cannot flood the log.
 */
class Refusals {
  readonly #ctx: Context;
  readonly #byReason: Record<string, number> = {};
  #count = 0;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  add(e: { terminal: string; kid: string }, reason: EnrollmentRefusalCode, message: string): void {
    const { metrics, logger } = this.#ctx.deps;
    metrics.enrollments.inc({ result: 'refused' });
    metrics.enrollmentsRefused.inc({ reason });
    this.#byReason[reason] = (this.#byReason[reason] ?? 0) + 1;
    if (this.#count++ < MAX_ALARMS_LOGGED) logger.warn('enrollment refused', { store: this.#ctx.store, terminal: e.terminal, kid: e.kid, reason, message });
  }

  summarize(): void {
    if (this.#count > MAX_ALARMS_LOGGED) this.#ctx.deps.logger.warn('enrollments refused', { store: this.#ctx.store, count: this.#count, byReason: this.#byReason });
  }
}

/** Steps 2–4 for one event; throws a RejectError with the wire code. */
async function checkEvent(ctx: Context, jws: string): Promise<{ event: DecodedEvent; publicKeyRaw: Buffer }> {
  const event = decodeEvent(jws); // SCHEMA, TOO_LARGE, PAN_DETECTED, BAD_SIGNATURE (form)
  checkStore(ctx, event); // IDENTITY_MISMATCH
  const publicKeyRaw = await enrolledKey(ctx, event); // UNKNOWN_KEY
  return { event, publicKeyRaw };
}

/** A gateway forwards only its own store's events (its token names the store). */
function checkStore(ctx: Context, event: DecodedEvent): void {
  if (event.payload.store !== ctx.store) {
    throw new RejectError('IDENTITY_MISMATCH', `event of store ${event.payload.store} from a gateway of store ${ctx.store}`);
  }
}

async function enrolledKey(ctx: Context, event: DecodedEvent): Promise<Buffer> {
  const id = `${event.payload.terminal}:${event.header.kid}`;
  if (!ctx.keys.has(id)) ctx.keys.set(id, await ctx.deps.ledger.getKey(ctx.store, event.payload.terminal, event.header.kid));
  const key = ctx.keys.get(id);
  if (key === undefined) throw new RejectError('UNKNOWN_KEY', `no key ${event.header.kid} enrolled for ${ctx.store}/${event.payload.terminal}`);
  return key;
}

function rejected(err: RejectError, who: { terminal: string | null; seq: number | null }): IngestResult {
  return { ...who, status: 'rejected', code: err.code, ...(err.expected === undefined ? {} : { expected: err.expected }) };
}

/** terminal and seq of an event that failed a check, when its payload still parses; else null. */
function tryIdentity(jws: string): { terminal: string | null; seq: number | null } {
  try {
    const e = decodeEvent(jws);
    return { terminal: e.payload.terminal, seq: e.payload.seq };
  } catch {
    return { terminal: null, seq: null };
  }
}

function report(ctx: Context, gateway: GatewayCredential, results: readonly IngestResult[]): void {
  const { metrics, logger } = ctx.deps;
  metrics.batchSize.observe(results.length);
  const rejects: Record<string, number> = {};
  let alarms = 0;
  for (const r of results) {
    metrics.ingestEvents.inc({ result: r.status, code: r.code ?? '' });
    if (r.code === undefined) continue;
    rejects[r.code] = (rejects[r.code] ?? 0) + 1;
    // DESIGN §3.3: different bytes for a stored seq is a security alarm.
    if (r.code === 'CONFLICT' && alarms++ < MAX_ALARMS_LOGGED) {
      logger.error('CONFLICT: different bytes for a stored event', { gateway: gateway.id, store: ctx.store, terminal: r.terminal, seq: r.seq });
    }
  }
  if (Object.keys(rejects).length > 0) logger.warn('events rejected', { gateway: gateway.id, store: ctx.store, rejects });
}
