/** What the forwarder's helpers (gap repair, dead-letter retry) need from it: one way to send. */
import type { Logger } from '../../lib/logger.js';
import type { Enrollment } from '../../protocol/ingest-api.js';
import type { ForwardEntry, ForwardQueue } from '../forward-queue.js';
import type { IngestOutcome } from './cloud-client.js';
import type { EnrollmentSource } from './request-builder.js';
import type { ForwarderStats } from './stats.js';

export interface SendContext {
  readonly queue: ForwardQueue;
  readonly enrollments: EnrollmentSource | undefined;
  readonly logger: Logger;
  readonly stats: ForwarderStats;
  /** Entries per request right now (may be below the option after a 413). */
  readonly maxEntries: number;
  /** Sends entries (plus extra enrollments) as one request; the one batch in flight. */
  send(entries: readonly ForwardEntry[], extra: readonly Enrollment[]): Promise<IngestOutcome>;
}
