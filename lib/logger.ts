/**
 * A small JSON-lines logger. Secrets and card data never reach a log (house rule): fields whose
 * names look secret are replaced, and anything shaped like a card number is masked in every string.
 */
import { UUID_PATTERN } from '../protocol/ids.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|private|seed|pan$|cardnumber/i;
const CARDISH = /\d(?:[ -]?\d){12,18}/g;
const MAX_STRING_CHARS = 2048;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  bindings?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const bindings = options.bindings ?? {};
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const record = redact({ time: new Date().toISOString(), level, ...bindings, msg, ...fields }, 0);
    write(JSON.stringify(record));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (f) => createLogger({ ...options, bindings: { ...bindings, ...f } }),
  };
}

export const silentLogger: Logger = createLogger({ level: 'silent' });

/** Redacts a value for logging: secret-named keys, card-number-like digit runs, long strings. */
export function redact(value: unknown, depth: number): unknown {
  if (depth > 8) return '[deep]';
  if (typeof value === 'string') return redactString(value);
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown };
    return { name: e.name, code: e.code, message: redactString(e.message) };
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
    return out;
  }
  return value;
}

function redactString(s: string): string {
  // An id (a UUID: dash-joined hex groups of at most 12 digits) is never a card number, by the
  // same rule the ingest's card-number check uses; masking its digit groups made ids in alarms
  // unreadable.
  if (UUID_PATTERN.test(s)) return s;
  const clipped = s.length > MAX_STRING_CHARS ? `${s.slice(0, MAX_STRING_CHARS)}…` : s;
  // Any 13–19 digit run (with or without separators) is masked, Luhn-valid or not: a log line
  // is no place to find out whether a number was a card.
  return /\d{4}/.test(clipped) ? clipped.replace(CARDISH, '[card-number?]') : clipped;
}
