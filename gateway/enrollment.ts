/**
 * Enrollment (DESIGN §3.5 `POST /api/terminals`): registers a terminal's Ed25519 public key and
 * issues its MQTT password. A known terminal gets the new key added (rotation) and a fresh
 * password. The registry record and the forward-queue `enrollment` entry go to disk in the same
 * synced batch as the events around them (through the group committer), so the forwarder always
 * sends an enrollment before the events signed with its key (DESIGN §3.4).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isoNow, type Clock } from '../lib/clock.js';
import { TillgateError } from '../protocol/errors.js';
import { describeIssues } from '../protocol/event.js';
import { terminalIdSchema } from '../protocol/ids.js';
import { kidOf, parsePublicKey } from '../protocol/keys.js';
import { generatePassword, hashPassword } from './auth/password.js';
import type { GroupCommitter } from './ingest/group-commit.js';
import type { EventStore } from './store/event-store.js';
import type { TerminalRecord } from './store/records.js';

export const enrollRequestSchema = z.strictObject({
  terminal: terminalIdSchema,
  publicKey: z.string().max(64),
});
export type EnrollRequest = z.infer<typeof enrollRequestSchema>;

export interface EnrollResult {
  readonly terminal: string;
  readonly kid: string;
  /** Shown once; only its scrypt hash is stored. */
  readonly password: string;
}

export interface EnrollmentDeps {
  readonly store: Pick<EventStore, 'terminal' | 'stats'>;
  readonly committer: GroupCommitter;
  readonly clock: Clock;
  /** Drops cached credentials of a terminal whose password changed. */
  readonly forgetCredentials: (terminal: string) => void;
  readonly maxTerminals: number;
  readonly maxKeysPerTerminal: number;
  readonly random?: (n: number) => Buffer;
}

export class Enrollment {
  readonly #deps: EnrollmentDeps;
  /** One enrollment at a time: each is a read-modify-write of the terminal's record. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(deps: EnrollmentDeps) {
    this.#deps = deps;
  }

  /** Validates outside input; throws TillgateError BAD_REQUEST, BAD_PUBLIC_KEY, TERMINAL_LIMIT or KEY_LIMIT. */
  enroll(body: unknown): Promise<EnrollResult> {
    const parsed = enrollRequestSchema.safeParse(body);
    if (!parsed.success) return Promise.reject(new TillgateError('BAD_REQUEST', describeIssues(parsed.error)));
    const raw = parsePublicKey(parsed.data.publicKey);
    const run = this.#tail.then(() => this.#enroll(parsed.data.terminal, raw));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #enroll(terminal: string, raw: Buffer): Promise<EnrollResult> {
    const d = this.#deps;
    const kid = kidOf(raw);
    const publicKey = raw.toString('base64url');
    const existing = d.store.terminal(terminal);
    if (existing === undefined && d.store.stats().terminals >= d.maxTerminals) {
      throw new TillgateError('TERMINAL_LIMIT', `at most ${d.maxTerminals} terminals can be enrolled`);
    }
    const known = existing?.keys.some((k) => k.kid === kid) ?? false;
    if (!known && (existing?.keys.length ?? 0) >= d.maxKeysPerTerminal) {
      throw new TillgateError('KEY_LIMIT', `at most ${d.maxKeysPerTerminal} keys per terminal`);
    }
    const random = d.random ?? randomBytes;
    const password = generatePassword(random);
    const now = isoNow(d.clock);
    const newKey = known ? null : { kid, publicKey, at: now };
    const record: TerminalRecord = {
      terminal,
      keys: newKey === null ? existing?.keys ?? [] : [...(existing?.keys ?? []), newKey],
      password: await hashPassword(password, random),
      enrolledAt: existing?.enrolledAt ?? now,
      updatedAt: now,
    };
    await d.committer.submit([{ kind: 'enrollment', record, newKey }], 1024);
    d.forgetCredentials(terminal);
    return { terminal, kid, password };
  }
}
