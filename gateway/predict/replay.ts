/**
 * `tillgate predict replay` (DESIGN §3.7): the live scorer over recorded input. Every record goes
 * through the same FleetScorer the gateway runs; one JSON line per level change comes out, in
 * input order, keys in the order §3.7 lists them.
 */
import type { PredictionAlert } from '../../protocol/prediction.js';
import type { FleetScorer } from './scorer.js';
import type { RecordSource } from './sources.js';

export interface ReplaySummary {
  readonly records: number;
  readonly alerts: number;
  readonly outOfOrder: number;
  readonly subjectsRefused: number;
  readonly elapsedMs: number;
}

export function alertLine(a: PredictionAlert): string {
  return JSON.stringify({ at: a.at, store: a.store, subject: a.subject, level: a.level, risk: a.risk, reasons: a.reasons });
}

export async function replay(source: RecordSource, scorer: FleetScorer, write: (line: string) => void, now: () => number = () => performance.now()): Promise<ReplaySummary> {
  const started = now();
  let records = 0;
  let alerts = 0;
  for await (const batch of source.batches()) {
    for (const r of batch) {
      records++;
      const alert = scorer.ingest(r);
      if (alert !== null) {
        alerts++;
        write(alertLine(alert));
      }
    }
  }
  return { records, alerts, outOfOrder: scorer.stats.outOfOrder, subjectsRefused: scorer.stats.subjectsRefused, elapsedMs: now() - started };
}
