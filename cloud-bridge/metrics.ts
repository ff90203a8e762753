/**
 * Prometheus metrics of one cloud-bridge instance, on its own registry (never prom-client's global
 * one, so two instances in one process, as in tests and `npm start`, do not collide).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ENROLLMENT_REFUSAL_CODES } from './enrollment-trust.js';

export class CloudMetrics {
  readonly registry = new Registry();
  readonly ingestRequests = new Counter({
    name: 'tillgate_cloud_ingest_requests_total',
    help: 'Ingest requests by HTTP status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly ingestEvents = new Counter({
    name: 'tillgate_cloud_ingest_events_total',
    help: 'Ingested events by result (accepted, duplicate, rejected) and reject code',
    labelNames: ['result', 'code'] as const,
    registers: [this.registry],
  });
  readonly enrollments = new Counter({
    name: 'tillgate_cloud_enrollments_total',
    help: 'Enrollments received by outcome (added, exists, refused)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly enrollmentsRefused = new Counter({
    name: 'tillgate_cloud_enrollments_refused_total',
    help: 'Enrollments refused, by reason (ENDORSEMENT_* codes, BAD_PUBLIC_KEY, KID_MISMATCH, KID_CONFLICT)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** 1 when the cloud trusts gateway enrollments without endorsements (unsafe, DESIGN §3.1). */
  readonly trustGatewayEnrollments = new Gauge({
    name: 'tillgate_cloud_trust_gateway_enrollments',
    help: '1 when keys are accepted without an endorsement (--trust-gateway-enrollments): a gateway token can then forge payments',
    registers: [this.registry],
  });
  readonly provisioningKeys = new Gauge({
    name: 'tillgate_cloud_provisioning_keys',
    help: 'Provisioning public keys the cloud trusts for endorsements',
    registers: [this.registry],
  });
  constructor() {
    // Every reason from 0, so rate() and alerts work before the first refusal.
    for (const reason of Object.values(ENROLLMENT_REFUSAL_CODES)) this.enrollmentsRefused.inc({ reason }, 0);
  }
  readonly batchSize = new Histogram({
    name: 'tillgate_cloud_ingest_batch_events',
    help: 'Events per ingest request',
    buckets: [1, 10, 50, 100, 250, 500, 1000],
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: 'tillgate_cloud_ingest_request_duration_seconds',
    help: 'Ingest request latency, body read to answer',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly appendSeconds = new Histogram({
    name: 'tillgate_cloud_ledger_append_duration_seconds',
    help: 'Ledger append latency (lock, classify, one synced write)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly ledgerRetries = new Counter({
    name: 'tillgate_cloud_ledger_retries_total',
    help: 'Ledger transactions run again after losing a race, by SQLSTATE (40001 serialization, 40P01 deadlock, 23505 unique)',
    labelNames: ['sqlstate'] as const,
    registers: [this.registry],
  });
  readonly ledgerCorrupt = new Counter({
    name: 'tillgate_cloud_ledger_corrupt_total',
    help: 'Requests refused because a stored record failed its read-back check (LEDGER_CORRUPT): an alarm',
    registers: [this.registry],
  });
  readonly keyRevocations = new Counter({
    name: 'tillgate_cloud_key_revocations_total',
    help: 'Admin key revocations by result (revoked, unchanged, unknown)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
}
