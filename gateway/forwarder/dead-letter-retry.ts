/**
 * Admin retry of dead letters (`POST /api/forwarder/dead-letters/retry`): resend the stored events
 * in queue order, with their terminals' enrollments. A dead letter is removed only after the cloud
 * took its event (accepted or duplicate), so a crash in between loses nothing; one the cloud refuses
 * again stays where it is.
 */
import type { DeadLetter } from '../forward-queue.js';
import type { IngestOutcome } from './cloud-client.js';
import { enrollmentsFor, type EventEntry } from './request-builder.js';
import type { SendContext } from './send-context.js';

export type RetryResult =
  | { readonly kind: 'done'; readonly recovered: number; readonly refused: number; readonly missing: number }
  | { readonly kind: 'failed'; readonly outcome: Exclude<IngestOutcome, { kind: 'ok' }> };

/** Resends `letters` (sorted by pos, at most ctx.maxEntries of them) as one request. */
export async function resendDeadLetters(ctx: SendContext, letters: readonly DeadLetter[]): Promise<RetryResult> {
  const events: EventEntry[] = [];
  const positions: number[] = [];
  let missing = 0;
  for (const letter of letters) {
    const [event] = await ctx.queue.readTerminalEvents(letter.terminal, letter.seq, 1);
    if (event === undefined || event.seq !== letter.seq) {
      missing++;
      ctx.logger.warn('dead letter has no stored event any more', { terminal: letter.terminal, seq: letter.seq });
      continue;
    }
    events.push(event);
    positions.push(letter.pos);
  }
  if (events.length === 0) return { kind: 'done', recovered: 0, refused: 0, missing };
  const extra = await enrollmentsFor(ctx.enrollments, new Set(events.map((e) => e.terminal)));
  const outcome = await ctx.send(events, extra);
  if (outcome.kind !== 'ok') return { kind: 'failed', outcome };
  const recovered: number[] = [];
  let refused = 0;
  for (const [i, r] of outcome.results.entries()) {
    // Only a status that says the cloud holds it settles a dead letter; any other (rejected, or a
    // status this gateway does not know) leaves it where it is.
    if (r.status === 'accepted' || r.status === 'duplicate') {
      recovered.push(positions[i] as number);
    } else {
      refused++;
      ctx.logger.warn('dead letter refused again', { terminal: events[i]?.terminal, seq: events[i]?.seq, status: r.status, code: r.code });
    }
  }
  if (recovered.length > 0) await ctx.queue.takeDeadLetters(recovered);
  ctx.stats.delivered(recovered.length);
  return { kind: 'done', recovered: recovered.length, refused, missing };
}
