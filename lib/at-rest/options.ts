/**
 * The encryption-at-rest options every program with a LevelDB store takes (gateway, cloud with its
 * embedded ledger, terminal agent): one shape and one set of docs, spread into each program's schema.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { OptionSpecs } from '../config.js';
import { DEFAULT_DATA_KEY_FILE_NAME, openKeyFile, resolveKeyFile, type KeyProvider } from './key-provider.js';
import { DEFAULT_REENCRYPT_CHUNK_ENTRIES, DEFAULT_REENCRYPT_PAUSE_MS, type AtRestOptions } from './reencrypt.js';

export const atRestOptionsShape = {
  dataKeyFile: z.string().min(1).optional(),
  reencryptChunkEntries: z.number().int().min(1).max(10_000).default(DEFAULT_REENCRYPT_CHUNK_ENTRIES),
  reencryptPauseMs: z.number().int().min(0).max(60_000).default(DEFAULT_REENCRYPT_PAUSE_MS),
};

export const AT_REST_OPTION_SPECS: OptionSpecs = {
  dataKeyFile: {
    type: 'string',
    doc: `data key file for encryption at rest (default: $CREDENTIALS_DIRECTORY/tillgate-data-key when systemd provides it, else ${DEFAULT_DATA_KEY_FILE_NAME} in the data directory, created on first start)`,
  },
  reencryptChunkEntries: { type: 'number', doc: `values re-sealed per step after a key rotation (default ${DEFAULT_REENCRYPT_CHUNK_ENTRIES})` },
  reencryptPauseMs: { type: 'number', doc: `pause between re-sealing steps (default ${DEFAULT_REENCRYPT_PAUSE_MS})` },
};

export interface AtRestConfig {
  readonly dataKeyFile?: string | undefined;
  readonly reencryptChunkEntries: number;
  readonly reencryptPauseMs: number;
}

/**
 * Opens the program's data keys: the explicit file, else the systemd credential, else a key file in
 * `dataDir` (created on first start, mode 0600). A systemd credential is never created.
 */
export function loadDataKeys(config: AtRestConfig, dataDir: string, env: Readonly<Record<string, string | undefined>> = process.env): { keys: KeyProvider; path: string; source: string } {
  const { path, source } = resolveKeyFile(config.dataKeyFile, join(dataDir, DEFAULT_DATA_KEY_FILE_NAME), env);
  return { keys: openKeyFile(path, { create: source !== 'systemd-credential' }), path, source };
}

/** The pace of the background re-encryption, from the program's options. */
export function reencryptPace(config: AtRestConfig): AtRestOptions {
  return { chunkEntries: config.reencryptChunkEntries, pauseMs: config.reencryptPauseMs };
}

/** The key file a program keeps in its data directory by default (tests and benches open stores with it). */
export function defaultDataKeys(dataDir: string): KeyProvider {
  return openKeyFile(join(dataDir, DEFAULT_DATA_KEY_FILE_NAME), { create: true });
}

/** The defaults, for programmatic callers that take no options (the simulator, tests). */
export const DEFAULT_AT_REST_CONFIG: AtRestConfig = Object.freeze({
  reencryptChunkEntries: DEFAULT_REENCRYPT_CHUNK_ENTRIES,
  reencryptPauseMs: DEFAULT_REENCRYPT_PAUSE_MS,
});
