/**
 * Options of the status page and its HTTP access, spread into the gateway's one config schema
 * (gateway/config.ts), each with a flag, a `TILLGATE_*` env var and a config-file key.
 */
import { z } from 'zod';
import type { OptionSpecs } from '../../lib/config.js';
import { DEFAULT_MAX_STATUS_STREAMS, DEFAULT_MAX_STATUS_STREAMS_PER_ADDRESS, DEFAULT_STATUS_PUSH_INTERVAL_MS, RESERVED_STREAM_SHARE } from './broadcaster.js';
import { DEFAULT_SILENT_TERMINAL_AFTER_MS } from './headline.js';
import { isTimeZone } from './time-words.js';
import { DEFAULT_ADMIN_SESSION_TTL_S } from '../http/admin-sessions.js';

export const DEFAULT_TERMINAL_SILENT_AFTER_S = DEFAULT_SILENT_TERMINAL_AFTER_MS / 1000;

/** A store's name on the page: a line on a phone, not a paragraph. */
export const MAX_STORE_NAME_CHARS = 80;

export const statusPageOptionsShape = {
  statusUser: z.string().min(1).max(128).regex(/^[^:]+$/, 'must not contain ":" (RFC 7617)').optional(),
  statusPassword: z.string().min(8, 'must be at least 8 characters').max(256).optional(),
  terminalSilentAfterS: z.number().min(1).max(7 * 86_400).default(DEFAULT_TERMINAL_SILENT_AFTER_S),
  statusMaxStreams: z.number().int().min(1).max(1_000).default(DEFAULT_MAX_STATUS_STREAMS),
  statusMaxStreamsPerAddress: z.number().int().min(1).max(1_000).default(DEFAULT_MAX_STATUS_STREAMS_PER_ADDRESS),
  statusPushIntervalMs: z.number().int().min(100).max(60_000).default(DEFAULT_STATUS_PUSH_INTERVAL_MS),
  storeName: z.string().trim().min(1).max(MAX_STORE_NAME_CHARS).optional(),
  adminSessionTtlS: z.number().int().min(60).max(7 * 86_400).default(DEFAULT_ADMIN_SESSION_TTL_S),
  timeZone: z.string().max(64).refine(isTimeZone, 'must be an IANA time zone name, e.g. Europe/Berlin').optional(),
} as const;

export const STATUS_PAGE_OPTION_SPECS: OptionSpecs = {
  statusUser: { type: 'string', doc: 'user for HTTP basic auth on the status page and read API (unset: open on the LAN)' },
  statusPassword: { type: 'string', secret: true, doc: 'password for --status-user (at least 8 characters)' },
  terminalSilentAfterS: { type: 'number', doc: `a terminal unseen this long is called out on the status page (default ${DEFAULT_TERMINAL_SILENT_AFTER_S})` },
  statusMaxStreams: { type: 'number', doc: `concurrent live status page streams; ${RESERVED_STREAM_SHARE * 100} % of them kept for viewers with credentials (default ${DEFAULT_MAX_STATUS_STREAMS})` },
  statusMaxStreamsPerAddress: { type: 'number', doc: `live streams one address may hold without credentials (default ${DEFAULT_MAX_STATUS_STREAMS_PER_ADDRESS})` },
  statusPushIntervalMs: { type: 'number', doc: `how often an open status page is updated (default ${DEFAULT_STATUS_PUSH_INTERVAL_MS})` },
  storeName: { type: 'string', doc: `the store's name at the top of the status page (display only, at most ${MAX_STORE_NAME_CHARS} characters; default: the store id)` },
  adminSessionTtlS: { type: 'number', doc: `how long an admin stays logged in on the status page after entering the admin token (default ${DEFAULT_ADMIN_SESSION_TTL_S})` },
  timeZone: { type: 'string', doc: "IANA time zone the status page shows times in, e.g. Europe/Berlin (default: the system's; UTC is shown on hover)" },
};
