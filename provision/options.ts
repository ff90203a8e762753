/**
 * Options of `tillgate provision init|endorse` (DESIGN §3.5): one schema each for flags,
 * `TILLGATE_*` env vars and a config file.
 */
import { z } from 'zod';
import type { OptionSpecs } from '../lib/config.js';
import { idSchema, terminalIdSchema } from '../protocol/ids.js';

const keyFile = { type: 'string', doc: "the operator's provisioning key (PKCS#8 PEM, mode 0600); keep it offline" } as const;

export const provisionInitSpecs: OptionSpecs = {
  provisioningKeyFile: { type: 'string', doc: 'where to create the provisioning key (mode 0600; an existing file is never overwritten)' },
};
export const provisionInitSchema = z.object({ provisioningKeyFile: z.string().min(1).max(4096) });

export const provisionEndorseSpecs: OptionSpecs = {
  provisioningKeyFile: keyFile,
  dir: { type: 'string', doc: 'terminal directory: endorse its device key for its store and terminal, and write endorsement.jws there' },
  store: { type: 'string', doc: 'without --dir: the store id the key belongs to' },
  terminal: { type: 'string', doc: 'without --dir: the terminal id the key belongs to' },
  publicKey: { type: 'string', doc: "without --dir: the terminal's base64url raw Ed25519 public key (printed by `tillgate terminal init`)" },
};
export const provisionEndorseSchema = z
  .object({
    provisioningKeyFile: z.string().min(1).max(4096),
    dir: z.string().min(1).max(4096).optional(),
    store: idSchema.optional(),
    terminal: terminalIdSchema.optional(),
    publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be base64url of a raw 32-byte Ed25519 key').optional(),
  })
  .superRefine((o, ctx) => {
    const byFlags = o.store !== undefined || o.terminal !== undefined || o.publicKey !== undefined;
    if (o.dir !== undefined && byFlags) ctx.addIssue({ code: 'custom', path: ['dir'], message: 'give --dir, or --store, --terminal and --public-key, not both' });
    if (o.dir === undefined && (o.store === undefined || o.terminal === undefined || o.publicKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['dir'], message: 'give --dir, or --store, --terminal and --public-key' });
    }
  });
