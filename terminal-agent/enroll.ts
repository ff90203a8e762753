/**
 * Enrollment at the gateway (DESIGN §3.5): `POST {gateway}/api/terminals` with the admin token,
 * body `{"terminal","publicKey","endorsement"}`.
 */
import { z } from 'zod';
import { TillgateError } from '../protocol/errors.js';
import { terminalIdSchema } from '../protocol/ids.js';
import { AGENT_ERROR_CODES } from './errors.js';

export const enrollmentResponseSchema = z.object({
  terminal: terminalIdSchema,
  kid: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  password: z.string().min(8).max(256),
});
export type EnrollmentResponse = z.infer<typeof enrollmentResponseSchema>;

/** An enrollment answer is ~150 bytes; a gateway that takes longer than this is not answering. */
export const DEFAULT_ENROLL_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 16 * 1024;

export interface EnrollRequest {
  readonly gatewayUrl: string;
  readonly adminToken: string;
  readonly terminal: string;
  /** base64url of the raw 32-byte Ed25519 public key. */
  readonly publicKey: string;
  /** The operator's endorsement of that key (DESIGN §3.1): the gateway refuses an enrollment without one. */
  readonly endorsement: string;
  readonly timeoutMs?: number;
}

export async function enrollTerminal(req: EnrollRequest, fetchImpl: typeof fetch = fetch): Promise<EnrollmentResponse> {
  const url = new URL('/api/terminals', req.gatewayUrl);
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${req.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ terminal: req.terminal, publicKey: req.publicKey, endorsement: req.endorsement }),
      signal: AbortSignal.timeout(req.timeoutMs ?? DEFAULT_ENROLL_TIMEOUT_MS),
    });
  } catch (cause) {
    throw new TillgateError(AGENT_ERROR_CODES.ENROLL_FAILED, `cannot reach ${url.origin}`, { cause });
  }
  const text = (await res.text()).slice(0, MAX_RESPONSE_BYTES);
  if (res.status !== 201 && res.status !== 200) {
    let code = `HTTP_${res.status}`;
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? code;
    } catch {
      // not JSON: keep the status
    }
    throw new TillgateError(AGENT_ERROR_CODES.ENROLL_FAILED, `gateway refused the enrollment: ${code} (HTTP ${res.status})`, { cause: { code, status: res.status } });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new TillgateError(AGENT_ERROR_CODES.ENROLL_FAILED, 'enrollment answer is not JSON', { cause });
  }
  const parsed = enrollmentResponseSchema.safeParse(json);
  if (!parsed.success) throw new TillgateError(AGENT_ERROR_CODES.ENROLL_FAILED, 'enrollment answer does not match {terminal,kid,password}');
  return parsed.data;
}
