/**
 * The ingest pipeline of one `POST /v1/ingest` (DESIGN §3.4), as named steps:
 * 1 enrollments → 2 decode and 3 store check of every event → 4 the batch's keys in one ledger read
 * → 5 signatures on the verify workers, in chunks → 6 one ledger append for the batch (which also
 * refuses revoked keys and reused event ids, under its locks).
 * The gateway is trusted for nothing: every event is verified again against a key that an
 * authenticated gateway of the same store enrolled with the operator's endorsement (DESIGN §3.1).
 */
import { RejectError } from '../protocol/errors.js';
import { decodeEvent, type DecodedEvent } from '../protocol/jws.js';
import type { Enrollment, IngestRequest, IngestResult } from '../protocol/ingest-api.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { AppendItem, KeyRecord, KeyRef, KeyState, Ledger } from './ledger.js';
import { storableText } from './ledger-args.js';
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

/** Per-request state: the keys of the batch, read in one lookup (`getKeys`). */
interface Context {
  readonly deps: IngestDeps;
  readonly store: string;
  readonly keys: Map<string, KeyState | undefined>;
}

type Checked = { readonly index: number; readonly event: DecodedEvent; readonly publicKeyRaw: Buffer };

/**
 * Decoded events handed to the verify workers at a time: large enough that a post costs little
 * (the pool splits a chunk over its workers in parts of at least 64), small enough that the
 * workers share a batch evenly.
 */
const VERIFY_CHUNK_EVENTS = 128;

/** At most this many CONFLICT alarms are logged one by one per request; the rest are counted. */
const MAX_ALARMS_LOGGED = 10;

/** Runs the pipeline; ledger failures propagate (the route answers 503, the gateway retries). */
export async function ingestBatch(deps: IngestDeps, gateway: GatewayCredential, request: IngestRequest): Promise<IngestResult[]> {
  const ctx: Context = { deps, store: gateway.store, keys: new Map() };
  await recordEnrollments(ctx, request.enrollments);
  const results: Array<IngestResult | undefined> = [];
  const decoded: Array<{ index: number; event: DecodedEvent }> = [];
  for (const [index, jws] of request.events.entries()) {
    try {
      decoded.push({ index, event: decodeChecked(ctx, jws) });
      results.push(undefined);
    } catch (err) {
      if (!(err instanceof RejectError)) throw err;
      results.push(rejected(err, tryIdentity(jws)));
    }
  }
  await lookUpKeys(ctx, decoded.map((d) => d.event));
  const checked: Checked[] = [];
  for (const { index, event } of decoded) {
    const key = ctx.keys.get(keyId(event));
    if (key === undefined) results[index] = { terminal: event.payload.terminal, seq: event.payload.seq, status: 'rejected', code: 'UNKNOWN_KEY' };
    else checked.push({ index, event, publicKeyRaw: key.publicKey });
  }
  const verdicts: Array<Promise<boolean[]>> = [];
  for (let i = 0; i < checked.length; i += VERIFY_CHUNK_EVENTS) {
    const chunk = checked.slice(i, i + VERIFY_CHUNK_EVENTS);
    verdicts.push(deps.verifier.verifyMany(chunk.map((c) => ({ signingInput: c.event.signingInput, signature: c.event.signature, publicKeyRaw: c.publicKeyRaw }))));
  }
  const valid = (await Promise.all(verdicts)).flat();
  const pending = checked.filter((c, i) => {
    if (valid[i] === true) return true;
    results[c.index] = { terminal: c.event.payload.terminal, seq: c.event.payload.seq, status: 'rejected', code: 'BAD_SIGNATURE' };
    return false;
  });
  const items: AppendItem[] = pending.map(({ event: e }) => appendItemOf(e));
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
 * The ledger's item: the JWS as received plus its decoded fields (stored beside it, the feed). The
 * decoded copy of free text carries U+FFFD for U+0000 (`storableText`); the JWS keeps the bytes.
 */
function appendItemOf(e: DecodedEvent): AppendItem {
  const p = e.payload;
  return {
    terminal: p.terminal,
    seq: p.seq,
    prev: p.prev,
    jws: e.jws,
    kid: e.header.kid,
    event: {
      id: p.id, type: storableText(p.type), at: p.at, amount: p.amount, currency: p.currency, outcome: p.outcome, mode: p.mode,
      ...(p.ref === undefined ? {} : { ref: storableText(p.ref) }),
    },
  };
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

/** Steps 2–3 for one event: decode and store check; throws a RejectError with the wire code. */
function decodeChecked(ctx: Context, jws: string): DecodedEvent {
  const event = decodeEvent(jws); // SCHEMA, TOO_LARGE, PAN_DETECTED, BAD_SIGNATURE (form)
  checkStore(ctx, event); // IDENTITY_MISMATCH
  return event;
}

/** A gateway forwards only its own store's events (its token names the store). */
function checkStore(ctx: Context, event: DecodedEvent): void {
  if (event.payload.store !== ctx.store) {
    throw new RejectError('IDENTITY_MISMATCH', `event of store ${event.payload.store} from a gateway of store ${ctx.store}`);
  }
}

const keyId = (event: DecodedEvent) => `${event.payload.terminal}:${event.header.kid}`;

/** Step 4: every `(terminal, kid)` of the batch in one ledger read (UNKNOWN_KEY where missing). */
async function lookUpKeys(ctx: Context, events: readonly DecodedEvent[]): Promise<void> {
  const refs = new Map<string, KeyRef>();
  for (const e of events) refs.set(keyId(e), { terminal: e.payload.terminal, kid: e.header.kid });
  const wanted = [...refs.entries()];
  if (wanted.length === 0) return;
  const states = await ctx.deps.ledger.getKeys(ctx.store, wanted.map(([, r]) => r));
  wanted.forEach(([id], i) => ctx.keys.set(id, states[i]));
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
