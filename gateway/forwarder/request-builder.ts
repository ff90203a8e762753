/**
 * Builds one ingest request (DESIGN §3.4) from queue entries: the enrollments of the batch first,
 * then extra enrollments the cloud may lack (after a restart, on UNKNOWN_KEY, for a repair), then
 * the events in queue order. Bounded by the protocol limits.
 */
import { MAX_INGEST_ENROLLMENTS, type Enrollment, type IngestRequest } from '../../protocol/ingest-api.js';
import type { ForwardEntry } from '../forward-queue.js';

/**
 * Where the forwarder finds a terminal's enrolled keys when the queue entries that carried them
 * are behind the cursor (a restart, a repair). Backed by the gateway's terminal registry.
 */
export interface EnrollmentSource {
  enrollmentsOf(terminal: string): Promise<readonly Enrollment[]>;
}

export interface RequestIdentity {
  readonly gateway: string;
  readonly store: string;
}

export type EventEntry = Extract<ForwardEntry, { kind: 'event' }>;

/**
 * @param entries queue entries in pos order (enrollments and events)
 * @param extra enrollments to add (duplicates of the batch's own are dropped)
 */
export function buildRequest(identity: RequestIdentity, batchId: string, entries: readonly ForwardEntry[], extra: readonly Enrollment[]): IngestRequest {
  const enrollments: Enrollment[] = [];
  const seen = new Set<string>();
  const add = (e: Enrollment) => {
    // The endorsement is part of the key: a re-endorsed key must not be dropped as a duplicate of
    // its older, unendorsed entry (the cloud records the one that verifies).
    const key = `${e.terminal} ${e.kid} ${e.endorsement ?? ''}`;
    if (seen.has(key) || enrollments.length >= MAX_INGEST_ENROLLMENTS) return;
    seen.add(key);
    // An entry of the previous release has no endorsement: send it as is (a strict cloud refuses it).
    enrollments.push({ terminal: e.terminal, kid: e.kid, publicKey: e.publicKey, at: e.at, ...(e.endorsement === undefined ? {} : { endorsement: e.endorsement }) });
  };
  const events: string[] = [];
  for (const entry of entries) {
    if (entry.kind === 'enrollment') add(entry);
    else events.push(entry.jws);
  }
  for (const e of extra) add(e);
  return { gateway: identity.gateway, store: identity.store, batch: batchId, enrollments, events };
}

/** The enrollments of `terminals`, from the source; an absent source yields none. */
export async function enrollmentsFor(source: EnrollmentSource | undefined, terminals: Iterable<string>): Promise<Enrollment[]> {
  if (source === undefined) return [];
  const out: Enrollment[] = [];
  for (const t of terminals) {
    for (const e of await source.enrollmentsOf(t)) {
      if (out.length >= MAX_INGEST_ENROLLMENTS) return out;
      out.push(e);
    }
  }
  return out;
}
