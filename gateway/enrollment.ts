/**
 * Enrollment (DESIGN §3.5 `POST /api/terminals`): registers a terminal's Ed25519 public key with
 * the operator's endorsement of it (DESIGN §3.1) and issues its MQTT password. A known terminal gets
 * the new key added (rotation) and a fresh password. The registry record and the forward-queue
 * `enrollment` entry go to disk in the same synced batch as the events around them (through the
 * group committer), so the forwarder always sends an enrollment before the events signed with its
 * key (DESIGN §3.4).
 *
 * The gateway is never the trust anchor: the cloud verifies every endorsement again. The gateway
 * checks that the endorsement names this store, the terminal and the key, so a technician learns of
 * a mix-up at once rather than from refused payments later; with `provisioningKeys` it also checks
 * the signature for the same reason.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isoNow, type Clock } from '../lib/clock.js';
import { checkEndorsementSubject, decodeEndorsement, verifyEndorsementSignature, type ProvisioningKeys } from '../protocol/endorsement.js';
import { TillgateError } from '../protocol/errors.js';
import { describeIssues } from '../protocol/event.js';
import { terminalIdSchema } from '../protocol/ids.js';
import { kidOf, parsePublicKey } from '../protocol/keys.js';
import { generatePassword, hashPassword } from './auth/password.js';
import type { GroupCommitter } from './ingest/group-commit.js';
import type { EventStore } from './store/event-store.js';
import type { TerminalKey, TerminalRecord } from './store/records.js';

export const enrollRequestSchema = z.strictObject({
  terminal: terminalIdSchema,
  publicKey: z.string().max(64),
  // Left to decodeEndorsement, which answers a coded ENDORSEMENT_* error for each way it can be
  // wrong (missing, not a string, over MAX_ENDORSEMENT_CHARS, …); the route's body limit bounds it.
  endorsement: z.unknown().optional(),
});
export type EnrollRequest = z.infer<typeof enrollRequestSchema>;

export interface EnrollResult {
  readonly terminal: string;
  readonly kid: string;
  /** Shown once; only its scrypt hash is stored. */
  readonly password: string;
}

export interface EnrollmentDeps {
  /** The store this gateway serves: an endorsement must name it. */
  readonly storeId: string;
  readonly store: Pick<EventStore, 'terminal' | 'stats'>;
  readonly committer: GroupCommitter;
  readonly clock: Clock;
  /** Drops cached credentials of a terminal whose password changed. */
  readonly forgetCredentials: (terminal: string) => void;
  readonly maxTerminals: number;
  readonly maxKeysPerTerminal: number;
  /** When set, endorsements must also be signed by one of these (an early, clearer refusal). */
  readonly provisioningKeys?: ProvisioningKeys;
  readonly random?: (n: number) => Buffer;
}

export class Enrollment {
  readonly #deps: EnrollmentDeps;
  /** One enrollment at a time: each is a read-modify-write of the terminal's record. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(deps: EnrollmentDeps) {
    this.#deps = deps;
  }

  /**
   * Validates outside input; throws TillgateError BAD_REQUEST, BAD_PUBLIC_KEY, one of the
   * ENDORSEMENT_* codes, TERMINAL_LIMIT or KEY_LIMIT.
   */
  enroll(body: unknown): Promise<EnrollResult> {
    const parsed = enrollRequestSchema.safeParse(body);
    if (!parsed.success) return Promise.reject(new TillgateError('BAD_REQUEST', describeIssues(parsed.error)));
    let raw: Buffer;
    let endorsement: string;
    try {
      raw = parsePublicKey(parsed.data.publicKey);
      endorsement = this.#checkEndorsement(parsed.data.terminal, raw, parsed.data.endorsement);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const run = this.#tail.then(() => this.#enroll(parsed.data.terminal, raw, endorsement));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Names first (no key needed), then the signature when provisioning keys are configured. */
  #checkEndorsement(terminal: string, raw: Buffer, endorsement: unknown): string {
    const decoded = decodeEndorsement(endorsement);
    checkEndorsementSubject(decoded, { store: this.#deps.storeId, terminal, kid: kidOf(raw), publicKey: raw.toString('base64url') });
    if (this.#deps.provisioningKeys !== undefined) verifyEndorsementSignature(decoded, this.#deps.provisioningKeys);
    return decoded.jws;
  }

  async #enroll(terminal: string, raw: Buffer, endorsement: string): Promise<EnrollResult> {
    const d = this.#deps;
    const kid = kidOf(raw);
    const publicKey = raw.toString('base64url');
    const existing = d.store.terminal(terminal);
    if (existing === undefined && d.store.stats().terminals >= d.maxTerminals) {
      throw new TillgateError('TERMINAL_LIMIT', `at most ${d.maxTerminals} terminals can be enrolled`);
    }
    const keys = existing?.keys ?? [];
    const known = keys.find((k) => k.kid === kid);
    if (known === undefined && keys.length >= d.maxKeysPerTerminal) {
      throw new TillgateError('KEY_LIMIT', `at most ${d.maxKeysPerTerminal} keys per terminal`);
    }
    const random = d.random ?? randomBytes;
    const password = generatePassword(random);
    const now = isoNow(d.clock);
    // A known key with the same endorsement is a password reset; with a new endorsement (a key of
    // the previous release being endorsed now, or a re-issued endorsement) it is sent to the cloud again.
    const newKey: TerminalKey | null =
      known === undefined ? { kid, publicKey, at: now, endorsement } : known.endorsement === endorsement ? null : { ...known, endorsement };
    const record: TerminalRecord = {
      terminal,
      keys: newKey === null ? keys : known === undefined ? [...keys, newKey] : keys.map((k) => (k.kid === kid ? newKey : k)),
      password: await hashPassword(password, random),
      enrolledAt: existing?.enrolledAt ?? now,
      updatedAt: now,
    };
    await d.committer.submit([{ kind: 'enrollment', record, newKey }], 2048);
    d.forgetCredentials(terminal);
    return { terminal, kid, password };
  }
}
