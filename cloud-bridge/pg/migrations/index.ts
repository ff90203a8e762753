/**
 * Every schema migration of the cloud, in order. To change the schema, add a file
 * `NNNN-name.ts` exporting a `Migration` with the next version and append it here; never edit or
 * reorder a migration that has shipped (replicas refuse to start on a changed checksum).
 */
import type { Migration } from '../migrate.js';
import { ledgerMigration } from './0001-ledger.js';
import { lifecycleMigration } from './0002-lifecycle.js';

export const CLOUD_MIGRATIONS: readonly Migration[] = [ledgerMigration, lifecycleMigration];
