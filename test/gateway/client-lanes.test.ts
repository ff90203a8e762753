/**
 * The per-client lanes of the ingest (gateway/ingest/client-lanes.ts): a later publish whose
 * durable write fails while an earlier one still waits for its fsync is answered in order, and its
 * failure is never an unhandled rejection (which ends the gateway process with exit code 1: seen
 * when a terminal published while the gateway shut down, COMMITTER_CLOSED).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ClientLanes, type Staged } from '../../gateway/ingest/client-lanes.js';
import { TillgateError } from '../../protocol/errors.js';
import { waitFor } from '../support/wait.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  unhandled.length = 0;
});

describe('client lanes', () => {
  it('lanes - a later publish failing while an earlier one waits for its write is answered in order, never an unhandled rejection', async () => {
    process.on('unhandledRejection', onUnhandled);
    const lanes = new ClientLanes(8);
    const answers: [string, unknown][] = [];
    let releaseFirst: (v: string) => void = () => undefined;
    const first = new Promise<string>((resolve) => (releaseFirst = resolve));
    lanes.run('t-1', () => Promise.resolve('a'), (): Promise<Staged<string>> => Promise.resolve({ durable: first }), (err, value) => answers.push(['first', err ?? value]));
    // The committer refuses the second at once (it closed): its durable promise rejects before the
    // first publish is answered.
    lanes.run('t-1', () => Promise.resolve('b'), (): Promise<Staged<string>> => Promise.resolve({ durable: Promise.reject(new TillgateError('COMMITTER_CLOSED', 'shutting down')) }), (err, value) => answers.push(['second', err ?? value]));
    // Let the rejection be noticed (Node reports unhandled rejections after the microtasks run).
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
    expect(answers).toEqual([]);
    releaseFirst('stored');
    await waitFor(() => answers.length === 2, { what: 'both publishes answered', timeoutMs: 2_000 });
    expect(answers[0]).toEqual(['first', 'stored']);
    expect(answers[1]![0]).toBe('second');
    expect((answers[1]![1] as TillgateError).code).toBe('COMMITTER_CLOSED');
    expect(unhandled).toEqual([]);
  });
});
