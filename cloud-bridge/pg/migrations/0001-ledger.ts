import type { Migration } from '../migrate.js';

/**
 * The ledger (DESIGN §3.4, §5.4): keys, heads, events with their decoded fields, and the feed
 * counter. `position` orders the feed; it is taken from the one `ledger_feed` row as the last
 * statement of each append, so positions become visible in commit order (see pg-ledger.ts).
 */
export const ledgerMigration: Migration = {
  version: 1,
  name: 'ledger',
  sql: `
-- Ids are ASCII (DESIGN §3.1); the "C" collation makes their order byte order whatever the
-- database's locale, so pages by terminal are the same on every server and use the indexes.
CREATE TABLE ledger_keys (
  store text COLLATE "C" NOT NULL,
  terminal text COLLATE "C" NOT NULL,
  kid text COLLATE "C" NOT NULL,
  public_key bytea NOT NULL CHECK (octet_length(public_key) = 32),
  enrolled_at text NOT NULL,
  revoked_after_seq bigint CHECK (revoked_after_seq >= 0),
  revoked_at timestamptz,
  PRIMARY KEY (store, terminal, kid)
);

-- seq 0 with hash '' is a terminal whose first append is under way or was refused.
CREATE TABLE ledger_heads (
  store text COLLATE "C" NOT NULL,
  terminal text COLLATE "C" NOT NULL,
  seq bigint NOT NULL CHECK (seq >= 0),
  hash text NOT NULL,
  PRIMARY KEY (store, terminal)
);

CREATE TABLE ledger_events (
  store text COLLATE "C" NOT NULL,
  terminal text COLLATE "C" NOT NULL,
  seq bigint NOT NULL CHECK (seq >= 1),
  position bigint NOT NULL,
  event_id text NOT NULL,
  kid text NOT NULL,
  type text NOT NULL,
  at text NOT NULL,
  at_time timestamptz NOT NULL,
  amount bigint NOT NULL,
  currency text NOT NULL,
  outcome text NOT NULL,
  mode text NOT NULL,
  ref text,
  jws text NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (store, terminal, seq)
);
CREATE UNIQUE INDEX ledger_events_position ON ledger_events (position);
-- The event id is the idempotency key, unique per store (the partitioning unit), case-insensitive.
CREATE UNIQUE INDEX ledger_events_store_event_id ON ledger_events (store, lower(event_id));

CREATE TABLE ledger_feed (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  position bigint NOT NULL CHECK (position >= 0)
);
INSERT INTO ledger_feed (position) VALUES (0);
`,
};
