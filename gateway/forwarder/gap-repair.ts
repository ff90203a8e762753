/**
 * SEQ_GAP repair (DESIGN §3.4): the cloud says it holds a terminal's events only up to
 * `expected - 1`, yet the gateway's cursor is past them (the cloud lost them, or they were
 * dead-lettered). Resend that terminal's stored events from `expected` up to the gapped one, with
 * its enrollments, before going on. When the gateway no longer has them (retention) or the cloud
 * refuses them, the terminal is blocked for that gap and the forwarder dead-letters the gapped
 * events instead of looping.
 */
import type { SendContext } from './send-context.js';
import type { IngestOutcome } from './cloud-client.js';
import { enrollmentsFor } from './request-builder.js';

export type RepairResult =
  | { readonly kind: 'repaired'; readonly resent: number }
  | { readonly kind: 'blocked'; readonly reason: string }
  | { readonly kind: 'failed'; readonly outcome: Exclude<IngestOutcome, { kind: 'ok' }> };

export async function repairGap(ctx: SendContext, terminal: string, expected: number, gapSeq: number): Promise<RepairResult> {
  let from = expected;
  let resent = 0;
  while (from < gapSeq) {
    const want = Math.min(ctx.maxEntries, gapSeq - from);
    const events = (await ctx.queue.readTerminalEvents(terminal, from, want)).filter((e) => e.seq < gapSeq);
    if (events.length === 0 || events.some((e, i) => e.seq !== from + i)) {
      return { kind: 'blocked', reason: `gateway no longer holds ${terminal} seq ${from}` };
    }
    const extra = await enrollmentsFor(ctx.enrollments, [terminal]);
    const outcome = await ctx.send(events, extra);
    if (outcome.kind !== 'ok') return { kind: 'failed', outcome };
    if (outcome.results.length !== events.length) return { kind: 'blocked', reason: 'result count mismatch' };
    for (const [i, r] of outcome.results.entries()) {
      // Anything but "the cloud holds it" (a rejection, or a status this gateway does not know) blocks.
      if (r.status !== 'accepted' && r.status !== 'duplicate') {
        return { kind: 'blocked', reason: `cloud answered ${terminal} seq ${events[i]?.seq} with ${r.status}: ${r.code ?? 'no code'}` };
      }
    }
    resent += events.length;
    from += events.length;
  }
  return { kind: 'repaired', resent };
}
