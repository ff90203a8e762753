/**
 * An artificial WAN cut for demos and drills (`POST /api/wan/outage`, `tillgate start --wan-outage`):
 * while the gate is cut, the forwarder's requests and the WAN probes fail fast as if the cable were
 * pulled, so a new user can watch the backlog build and drain. Nothing else changes.
 */
import type { Clock } from '../../lib/clock.js';
import { CLOUD_FAILURE_CODES, type CloudClient, type IngestOutcome, type ProbeOutcome } from './cloud-client.js';
import type { IngestRequest } from '../../protocol/ingest-api.js';

/** Longest artificial outage: a day, so a typo cannot cut a store off for a year. */
export const MAX_OUTAGE_S = 86_400;

export class LinkGate {
  readonly #clock: Clock;
  #cutUntilMs = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Cuts the link for `seconds` from now (0 restores it). */
  cutFor(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_OUTAGE_S) throw new RangeError(`outage must be 0–${MAX_OUTAGE_S} s`);
    this.#cutUntilMs = seconds === 0 ? 0 : this.#clock.now() + seconds * 1000;
  }

  isCut(): boolean {
    return this.#clock.now() < this.#cutUntilMs;
  }

  /** When the current cut ends (ms since epoch), or null when the link is not cut. */
  cutUntilMs(): number | null {
    return this.isCut() ? this.#cutUntilMs : null;
  }
}

/** A CloudClient that fails fast while the gate is cut and otherwise delegates. */
export function gatedCloudClient(inner: CloudClient, gate: LinkGate): CloudClient {
  return {
    ingest(request: IngestRequest, signal?: AbortSignal): Promise<IngestOutcome> {
      if (gate.isCut()) return Promise.resolve({ kind: 'retry', code: CLOUD_FAILURE_CODES.linkCut, status: null, latencyMs: 0 });
      return inner.ingest(request, signal);
    },
    probe(timeoutMs: number): Promise<ProbeOutcome> {
      if (gate.isCut()) return Promise.resolve({ ok: false, code: CLOUD_FAILURE_CODES.linkCut, rttMs: null });
      return inner.probe(timeoutMs);
    },
  };
}
