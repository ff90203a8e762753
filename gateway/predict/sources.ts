/**
 * Where training, evaluation and replay read records from: a §3.7 JSON-lines file, or the fleet
 * simulator (one or more seeds, one fleet after another). Both hand out batches of parsed records
 * and can be read again (training reads twice: failures first, then features with labels).
 * Per subject the records are in time order; subjects are independent, so fleets of different
 * seeds may follow one another.
 */
import { createReadStream } from 'node:fs';
import { TillgateError } from '../../protocol/errors.js';
import { terminalSubject, WAN_SUBJECT } from '../../protocol/prediction.js';
import { parseRecordLine, type ParsedRecord, type RecordCode } from './records.js';
import type { TruthEpisode } from './sim/events.js';
import { fleetSubjects, mergedRecords, type FleetOptions, type SimRecord } from './sim/fleet.js';

export type RecordBatches = AsyncIterable<readonly ParsedRecord[]>;

export interface RecordSource {
  /** For reports: what was read. */
  readonly describe: string;
  batches(): RecordBatches;
  /** Simulated sources: what really happened in the last complete read. */
  readonly truth?: readonly TruthEpisode[];
}

/** Records per batch: big enough that the async hand-off costs nothing, small in memory. */
export const RECORD_BATCH_SIZE = 4_096;

export interface LineProblems {
  readonly byCode: Partial<Record<RecordCode, number>>;
  /** The first few bad lines, for the operator. */
  readonly first: { readonly line: number; readonly code: RecordCode }[];
}

/** Most bad lines remembered by number (all are counted). */
const MAX_REPORTED_LINES = 10;

/** Records from a JSON-lines file, or from standard input when `path` is "-" (readable once). */
export function fileSource(path: string, problems?: { onProblem(line: number, code: RecordCode): void }): RecordSource {
  return {
    describe: path === '-' ? 'standard input' : path,
    async *batches() {
      let batch: ParsedRecord[] = [];
      let lineNo = 0;
      let rest = '';
      const stream = path === '-' ? process.stdin.setEncoding('utf8') : createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
      const take = (line: string) => {
        lineNo++;
        if (line.trim() === '') return;
        const r = parseRecordLine(line);
        if (r.ok) batch.push(r.record);
        else problems?.onProblem(lineNo, r.code);
      };
      for await (const chunk of stream as AsyncIterable<string>) {
        const text = rest + chunk;
        let start = 0;
        for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
          take(text.slice(start, nl));
          start = nl + 1;
        }
        rest = text.slice(start);
        // A line longer than any record: count it and drop what we have of it.
        if (rest.length > 64 * 1024) {
          problems?.onProblem(++lineNo, 'RECORD_TOO_LARGE');
          rest = '';
        }
        if (batch.length >= RECORD_BATCH_SIZE) {
          yield batch;
          batch = [];
        }
      }
      if (rest !== '') take(rest);
      if (batch.length > 0) yield batch;
    },
  };
}

/** Collects bad-line counts for a report. */
export function lineProblems(): LineProblems & { onProblem(line: number, code: RecordCode): void } {
  const byCode: Partial<Record<RecordCode, number>> = {};
  const first: { line: number; code: RecordCode }[] = [];
  return {
    byCode,
    first,
    onProblem(line, code) {
      byCode[code] = (byCode[code] ?? 0) + 1;
      if (first.length < MAX_REPORTED_LINES) first.push({ line, code });
    },
  };
}

export function simRecordToParsed(r: SimRecord): ParsedRecord {
  if (r.kind === 'health') return { kind: 'health', store: r.store, terminal: r.terminal, subject: terminalSubject(r.terminal), at: r.at, atMs: r.atMs, sample: r };
  return { kind: 'wan', store: r.store, subject: WAN_SUBJECT, at: r.at, atMs: r.atMs, ok: r.ok, rttMs: r.rttMs ?? null };
}

/**
 * Fleets of the given seeds, one after another (each in time order). `cache` keeps the records of
 * the first read in memory for the next ones (small fleets only: tests; a record is ~300 bytes).
 */
export function simSource(seeds: readonly number[], fleet: Omit<FleetOptions, 'seed'>, options: { readonly cache?: boolean } = {}): RecordSource {
  if (seeds.length === 0) throw new TillgateError('CONFIG_INVALID', 'no seeds');
  const truth: TruthEpisode[] = [];
  let cached: (readonly ParsedRecord[])[] | null = null;
  return {
    describe: `simulated fleet, seeds ${seeds.join(',')}: ${fleet.stores} stores × ${fleet.terminalsPerStore} terminals × ${fleet.days} days`,
    truth,
    async *batches() {
      if (cached !== null) {
        yield* cached;
        return;
      }
      const keep: (readonly ParsedRecord[])[] | null = options.cache === true ? [] : null;
      truth.length = 0;
      for (const seed of seeds) {
        let batch: ParsedRecord[] = [];
        for (const r of mergedRecords(fleetSubjects({ ...fleet, seed }), truth)) {
          batch.push(simRecordToParsed(r));
          if (batch.length >= RECORD_BATCH_SIZE) {
            keep?.push(batch);
            yield batch;
            batch = [];
          }
        }
        if (batch.length > 0) {
          keep?.push(batch);
          yield batch;
        }
      }
      if (keep !== null) cached = keep;
    },
  };
}
