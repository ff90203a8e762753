import type { Migration } from '../migrate.js';

/**
 * The payment lifecycle (DESIGN §3.6, cloud-bridge/lifecycle/pg-lifecycle-store.ts): payments with
 * their facts and derived state (the record, jsonb) and the columns the queries need; latency
 * samples; the cursors of the two logs the lifecycle follows; per-store update sequences, counters
 * and the updates feed; the webhook inbox, a log whose positions are taken from one row as the last
 * statement of each accept, so they become visible in commit order (as the ledger's feed does).
 */
export const lifecycleMigration: Migration = {
  version: 2,
  name: 'lifecycle',
  sql: `
CREATE TABLE lifecycle_payments (
  id text COLLATE "C" PRIMARY KEY,
  store text COLLATE "C",
  state text NOT NULL,
  captured_at_ms bigint,
  record jsonb NOT NULL
);
CREATE INDEX lifecycle_payments_by_store ON lifecycle_payments (store, id) WHERE store IS NOT NULL;
CREATE INDEX lifecycle_payments_by_store_state ON lifecycle_payments (store, state, id) WHERE store IS NOT NULL;
CREATE INDEX lifecycle_payments_pending ON lifecycle_payments (id) WHERE store IS NULL;
CREATE INDEX lifecycle_payments_captured ON lifecycle_payments (captured_at_ms, id) WHERE state = 'captured';

CREATE TABLE lifecycle_latency (
  id text COLLATE "C" NOT NULL,
  segment text NOT NULL CHECK (segment IN ('charged', 'authorised')),
  completed_at_ms bigint NOT NULL,
  sample jsonb NOT NULL,
  PRIMARY KEY (id, segment)
);
CREATE INDEX lifecycle_latency_recent ON lifecycle_latency (segment, completed_at_ms DESC, id DESC);

CREATE TABLE lifecycle_cursors (
  name text PRIMARY KEY,
  position bigint NOT NULL CHECK (position >= 0)
);
INSERT INTO lifecycle_cursors (name, position) VALUES ('feed', 0), ('inbox', 0);

CREATE TABLE lifecycle_stores (
  store text COLLATE "C" PRIMARY KEY,
  update_seq bigint NOT NULL CHECK (update_seq >= 0),
  counters jsonb NOT NULL
);

CREATE TABLE lifecycle_updates (
  store text COLLATE "C" NOT NULL,
  seq bigint NOT NULL CHECK (seq >= 1),
  record jsonb NOT NULL,
  PRIMARY KEY (store, seq)
);

CREATE TABLE lifecycle_inbox (
  position bigint PRIMARY KEY CHECK (position >= 1),
  key text COLLATE "C" NOT NULL UNIQUE,
  received_at_ms bigint NOT NULL,
  live boolean NOT NULL,
  item jsonb NOT NULL
);
CREATE TABLE lifecycle_inbox_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  position bigint NOT NULL CHECK (position >= 0)
);
INSERT INTO lifecycle_inbox_head (position) VALUES (0);
`,
};
