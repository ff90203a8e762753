/**
 * The cloud-bridge's Hono app: ingest, read side, key administration, the feed, health and
 * metrics, behind security headers.
 * Built from handed-in parts (ledger, directory, metrics, clock, logger) so tests can call
 * `app.request()` without a socket.
 */
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { GatewayDirectory } from '../auth.js';
import type { Ledger } from '../ledger.js';
import { TRUST_GATEWAY_WARNING, type EnrollmentTrust } from '../enrollment-trust.js';
import type { CloudMetrics } from '../metrics.js';
import type { Verifier } from '../../lib/verify-pool.js';
import { TillgateError } from '../../protocol/errors.js';
import { errorResponse } from './answers.js';
import { mountIngestRoute, type IngestLimits } from './ingest-route.js';
import { mountReadRoutes, type ReadLimits } from './read-routes.js';
import { mountKeyRoutes } from './key-routes.js';
import { mountFeedRoute } from './feed-route.js';

export interface CloudAppParts {
  readonly ledger: Ledger;
  readonly directory: GatewayDirectory;
  readonly metrics: CloudMetrics;
  readonly verifier: Verifier;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly limits: IngestLimits & ReadLimits;
  /** Which enrollments are recorded; shown on /healthz and /readyz (the unsafe mode as a warning). */
  readonly trust: EnrollmentTrust;
  /** False while the service starts or shuts down: /readyz answers 503. */
  readonly isReady: () => boolean;
  /** The payment lifecycle's routes (webhooks, payments, updates, dashboard), when it runs. */
  readonly lifecycle?: { mount(app: Hono, directory: GatewayDirectory, limits: ReadLimits): void } | undefined;
}

/**
 * What the health bodies say about enrollment trust: the mode and the provisioning kids (public
 * values), and in the unsafe mode a warning a monitoring check can match on its code.
 */
function trustReport(trust: EnrollmentTrust) {
  return trust.mode === 'gateway'
    ? { enrollmentTrust: trust.mode, warnings: [TRUST_GATEWAY_WARNING] }
    : { enrollmentTrust: trust.mode, provisioningKeys: trust.keys.kids() };
}

export function createCloudApp(parts: CloudAppParts): Hono {
  const { ledger, directory, metrics, logger } = parts;
  const app = new Hono();
  app.use('*', secureHeaders());
  app.use('*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });

  const trust = trustReport(parts.trust);
  app.get('/healthz', (c) => c.json({ status: 'ok', ...trust }));
  app.get('/readyz', (c) =>
    parts.isReady() && ledger.state === 'open' ? c.json({ status: 'ready', ...trust }) : c.json({ status: 'not-ready', ledger: ledger.state, ...trust }, 503),
  );
  app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }));

  mountIngestRoute(app, { ledger, verifier: parts.verifier, clock: parts.clock, logger, metrics, trust: parts.trust }, directory, parts.limits);
  // Before the ledger's read routes: those guard /v1/stores/* with the admin token, and the
  // updates route there takes a gateway's token (each lifecycle route checks its own).
  parts.lifecycle?.mount(app, directory, parts.limits);
  mountReadRoutes(app, ledger, directory, parts.limits);
  mountKeyRoutes(app, ledger, metrics, logger);
  mountFeedRoute(app, ledger, directory, parts.limits);

  app.notFound((c) => errorResponse(c, 404, 'NOT_FOUND', 'no such route'));
  app.onError((err, c) => {
    if (err instanceof TillgateError && err.code === 'LEDGER_CORRUPT') {
      metrics.ledgerCorrupt.inc();
      logger.error('LEDGER_CORRUPT: a stored record failed its read-back check', { err, path: c.req.path });
      return errorResponse(c, 500, 'LEDGER_CORRUPT', 'a stored ledger record is corrupt; the operator has been alerted');
    }
    logger.error('unhandled error in a request', { err, path: c.req.path });
    return errorResponse(c, 500, 'INTERNAL', 'internal error');
  });
  return app;
}
