/** Identifier rules of DESIGN §3.1: store, terminal and gateway ids. */
import { z } from 'zod';

export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * `gateway` is reserved as a terminal id: `tillgate/v1/{store}/gateway/status` is the gateway's own
 * topic, so a terminal named `gateway` could publish into it.
 */
export const RESERVED_TERMINAL_IDS = ['gateway'] as const;

export const idSchema = z.string().regex(ID_PATTERN, 'must match ^[a-z0-9][a-z0-9_-]{0,63}$');

export const terminalIdSchema = idSchema.refine(
  (id) => !(RESERVED_TERMINAL_IDS as readonly string[]).includes(id),
  'is a reserved name',
);

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

export function isTerminalId(value: unknown): value is string {
  return isId(value) && !(RESERVED_TERMINAL_IDS as readonly string[]).includes(value);
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
