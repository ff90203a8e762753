/**
 * Prometheus metrics of the payment lifecycle, on the cloud-bridge's own registry. The histograms
 * are per instance (each replica counts what it applied), as Prometheus expects; the §3.6 JSON
 * percentiles are computed from the shared store instead (latency.ts).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { PaymentChange } from './payment-store.js';
import { samplesOf } from './payment-store.js';

/** Waiting times from seconds to the 20-minute tail of DESIGN §3.6 and beyond. */
export const WAIT_BUCKETS_S = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600];

export class LifecycleMetrics {
  readonly successToCharged: Histogram<'charged_by'>;
  readonly successToAuthorised: Histogram;
  readonly transitions: Counter<'state'>;
  readonly contradictions: Counter;
  readonly webhookItems: Counter<'result'>;
  readonly webhookRequests: Counter<'status'>;
  readonly reconciled: Counter<'verdict'>;
  readonly clockSkewClamped: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.successToCharged = new Histogram({
      name: 'tillgate_cloud_payment_success_to_charged_seconds',
      help: 'From the terminal showing success to the payment being charged, by how it was charged',
      labelNames: ['charged_by'] as const,
      buckets: WAIT_BUCKETS_S,
      registers,
    });
    this.successToAuthorised = new Histogram({
      name: 'tillgate_cloud_payment_success_to_authorised_seconds',
      help: 'From the terminal showing success to the PSP authorisation (the wait without optimism)',
      buckets: WAIT_BUCKETS_S,
      registers,
    });
    this.transitions = new Counter({ name: 'tillgate_cloud_payment_transitions_total', help: 'Payments entering each state', labelNames: ['state'] as const, registers });
    this.contradictions = new Counter({ name: 'tillgate_cloud_payment_contradictions_total', help: 'Optimistic charges later refused, cancelled or found inconsistent (alarm)', registers });
    this.webhookItems = new Counter({ name: 'tillgate_cloud_webhook_items_total', help: 'PSP notification items by result (stored, duplicate)', labelNames: ['result'] as const, registers });
    this.webhookRequests = new Counter({ name: 'tillgate_cloud_webhook_requests_total', help: 'PSP webhook requests by HTTP status', labelNames: ['status'] as const, registers });
    this.reconciled = new Counter({ name: 'tillgate_cloud_reconciled_total', help: 'Payments reconciled, by verdict', labelNames: ['verdict'] as const, registers });
    this.clockSkewClamped = new Counter({ name: 'tillgate_cloud_payment_clock_skew_clamped_total', help: 'Payments whose terminal time was after the cloud capture time (clamped for latency)', registers });
  }

  /** Observes what a batch of changes newly did: charges, authorisations, transitions, contradictions. */
  observe(changes: readonly PaymentChange[]): void {
    for (const { before, after } of changes) {
      if (before?.state !== after.state) this.transitions.inc({ state: after.state });
      if (!before?.contradicted && after.contradicted) this.contradictions.inc();
      const s = samplesOf(after);
      if (!before?.charged && s.charged !== null) {
        this.successToCharged.observe({ charged_by: after.chargedBy ?? 'unknown' }, s.charged.seconds);
        if (s.charged.clamped) this.clockSkewClamped.inc();
      }
      // An authorisation sample exists once both the event and an authorisation are in, in either order.
      const hadAuthorisedSample = before !== undefined && samplesOf(before).authorised !== null;
      if (!hadAuthorisedSample && s.authorised !== null) this.successToAuthorised.observe(s.authorised.seconds);
    }
  }
}
