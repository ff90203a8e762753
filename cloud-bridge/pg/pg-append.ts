/**
 * One append on PostgreSQL, inside its READ COMMITTED transaction (DESIGN §5.4):
 * 1. make sure every touched terminal has a head row (`INSERT … ON CONFLICT DO NOTHING`: the very
 *    first event of a terminal has none to lock; two replicas racing to create it both end up
 *    locking the one row), then lock the heads `FOR UPDATE` in terminal order, so two appends never
 *    wait on each other in a cycle;
 * 2. one round trip reads what the rules need: stored events at or below the heads (byte
 *    comparison), rows already holding the items' event ids, revocation points of their keys;
 * 3. `planAppend` (pure, shared with LevelDB) decides every outcome;
 * 4. the heads move; LAST, one statement takes the feed positions from the single `ledger_feed`
 *    row and inserts the accepted events. That row's lock is held from this statement through
 *    COMMIT only, so appends take positions in the order they commit: a feed reader that has seen
 *    position P can never later find a new entry ≤ P. The price is that commits of appends that
 *    store something are serialized (measured in the benchmark; see docs/cloud-postgres.md).
 * `receivedAt` is `clock_timestamp()` of the database, so replicas' clocks do not matter.
 * Lost races (40001, 40P01, 23505 on the event-id index) rerun the transaction (`--db-retry-max`).
 */
import type pg from 'pg';
import { EMPTY_HEAD, type ChainHead } from '../../protocol/chain.js';
import { TillgateError } from '../../protocol/errors.js';
import { eventKey, idKey, keyKey, planAppend } from '../append-rules.js';
import { LEDGER_ERROR_CODES as E, type AppendItem, type AppendOutcome } from '../ledger.js';
import { headOf, int, type HeadRow } from './rows.js';

/** Creates missing head rows, then locks the heads of `terminals` in sorted order (step 1). */
export async function lockHeads(c: pg.PoolClient, store: string, terminals: readonly string[]): Promise<Map<string, ChainHead>> {
  const sorted = [...new Set(terminals)].sort();
  await c.query(
    `INSERT INTO ledger_heads (store, terminal, seq, hash) SELECT $1, t, 0, '' FROM unnest($2::text[]) AS t ORDER BY t COLLATE "C" ON CONFLICT DO NOTHING`,
    [store, sorted],
  );
  const { rows } = await c.query<HeadRow>(
    `SELECT terminal, seq, hash FROM ledger_heads WHERE store = $1 AND terminal = ANY($2::text[]) ORDER BY terminal FOR UPDATE`,
    [store, sorted],
  );
  const heads = new Map(rows.map((r) => [r.terminal, headOf(r, `${store}/${r.terminal}`)]));
  for (const t of sorted) if (!heads.has(t)) throw new TillgateError(E.corrupt, `head row of ${store}/${t} vanished`);
  return heads;
}

interface LookupRow { kind: 'p' | 'i' | 'k'; terminal: string; n: string | null; s: string }

/** Steps 1–5 of an append inside its transaction (see the file comment). */
export async function appendIn(c: pg.PoolClient, store: string, items: readonly AppendItem[]): Promise<AppendOutcome[]> {
  const heads = await lockHeads(c, store, items.map((i) => i.terminal));
  const past = items.filter((i) => i.seq <= (heads.get(i.terminal) ?? EMPTY_HEAD).seq);
  const keys = [...new Map(items.map((i) => [keyKey(i.terminal, i.kid), i])).values()];
  // Step 2 in one round trip: stored bytes ('p'), holders of the ids ('i'), revocations ('k').
  const { rows } = await c.query<LookupRow>(
    `SELECT 'p' AS kind, e.terminal, e.seq::text AS n, e.jws AS s
       FROM ledger_events e JOIN unnest($2::text[], $3::bigint[]) AS p(terminal, seq) ON e.terminal = p.terminal AND e.seq = p.seq
       WHERE e.store = $1
     UNION ALL
     SELECT 'i', e.terminal, e.seq::text, lower(e.event_id)
       FROM ledger_events e WHERE e.store = $1 AND lower(e.event_id) = ANY($4::text[])
     UNION ALL
     SELECT 'k', k.terminal, k.revoked_after_seq::text, k.kid
       FROM ledger_keys k JOIN unnest($5::text[], $6::text[]) AS u(terminal, kid) ON k.terminal = u.terminal AND k.kid = u.kid
       WHERE k.store = $1 AND k.revoked_after_seq IS NOT NULL`,
    [store, past.map((i) => i.terminal), past.map((i) => i.seq), [...new Set(items.map((i) => idKey(i.event.id)))], keys.map((i) => i.terminal), keys.map((i) => i.kid)],
  );
  const stored = new Map<string, string>();
  const ids = new Map<string, string>();
  const revokedAfter = new Map<string, number>();
  for (const r of rows) {
    if (r.kind === 'p') stored.set(eventKey(r.terminal, int(r.n, `seq of ${store}/${r.terminal}`, 1)), r.s);
    else if (r.kind === 'i') ids.set(r.s, eventKey(r.terminal, int(r.n, `seq of ${store}/${r.terminal}`, 1)));
    else revokedAfter.set(keyKey(r.terminal, r.s), int(r.n, `revocation point of ${store}/${r.terminal}`));
  }
  const plan = planAppend(items, heads, { stored, ids, revokedAfter });
  if (plan.accepted.length === 0) return plan.outcomes;
  const moved = [...plan.moved.entries()];
  await c.query(
    `UPDATE ledger_heads h SET seq = u.seq, hash = u.hash FROM unnest($2::text[], $3::bigint[], $4::text[]) AS u(terminal, seq, hash)
     WHERE h.store = $1 AND h.terminal = u.terminal`,
    [store, moved.map(([t]) => t), moved.map(([, h]) => h.seq), moved.map(([, h]) => h.hash)],
  );
  const a = plan.accepted;
  // LAST statement: positions from the one feed row, held only through COMMIT (see the file comment).
  await c.query(
    `WITH f AS (UPDATE ledger_feed SET position = position + $2 RETURNING position - $2 AS base),
          t AS (SELECT clock_timestamp() AS now)
     INSERT INTO ledger_events (store, terminal, seq, position, event_id, kid, type, at, at_time, amount, currency, outcome, mode, ref, jws, received_at)
     SELECT $1, u.terminal, u.seq, f.base + u.ord, u.event_id, u.kid, u.type, u.at, to_timestamp(u.at_ms / 1000), u.amount, u.currency, u.outcome, u.mode, u.ref, u.jws, t.now
     FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::float8[])
          WITH ORDINALITY AS u(terminal, seq, event_id, kid, type, at, amount, currency, outcome, mode, ref, jws, at_ms, ord),
          f, t`,
    [
      store, a.length,
      a.map((i) => i.terminal), a.map((i) => i.seq), a.map((i) => i.event.id), a.map((i) => i.kid), a.map((i) => i.event.type),
      a.map((i) => i.event.at), a.map((i) => i.event.amount), a.map((i) => i.event.currency), a.map((i) => i.event.outcome),
      a.map((i) => i.event.mode), a.map((i) => i.event.ref ?? null), a.map((i) => i.jws),
      // The terminal's time as epoch ms, parsed here: a cast of the text would refuse what
      // PostgreSQL cannot spell (year 0000) and turn one valid event into a batch that never lands.
      a.map((i) => Date.parse(i.event.at)),
    ],
  );
  return plan.outcomes;
}
