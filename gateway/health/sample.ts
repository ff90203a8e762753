/** Parsing a terminal's health payload (DESIGN §5.3): bounded, schema-checked, unknown fields kept. */
import { healthSampleSchema, MAX_HEALTH_BYTES, type HealthSample } from '../../protocol/messages.js';

export function parseHealthPayload(payload: Buffer | string): HealthSample | undefined {
  const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (bytes > MAX_HEALTH_BYTES) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = healthSampleSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
