/**
 * One error style for every command (`tillgate <command>`): a failure is one line on stderr,
 *   tillgate <command>: <CODE>: <message>
 * where a failure that concerns an option names it as every config error does — flag, environment
 * variable and config key (lib/config.ts `describeOption`) — and the exit code says which kind:
 * 2 for a usage or configuration error (fix the command line, the environment or the config
 * file), 1 for anything else. Nothing else is printed, so a supervisor's log shows the one line.
 */
import { OptionError, describeOption, type OptionSpecs } from './config.js';

/**
 * Codes of runtime failures that are about an option, and which option: a port taken, a data
 * directory another process holds, a key file that lacks a key. Used by `namingOption`.
 */
const OPTION_OF_CODE: Readonly<Record<string, readonly string[]>> = {
  AT_REST_KEY_MISSING: ['dataKeyFile'],
  DATA_KEY_FILE_INVALID: ['dataKeyFile'],
  DATA_KEY_FILE_MISSING: ['dataKeyFile'],
  DATA_DIR_LOCKED: ['dataDir'],
  LEDGER_LOCKED: ['dataDir'],
  DISK_FULL: ['dataDir'],
  STORE_CORRUPT: ['dataDir'],
  TERMINAL_DIR: ['dir'],
  OUTBOX_IO: ['dir'],
  ENROLL_FAILED: ['gatewayUrl'],
};
/** Codes that mean "the command line or configuration is wrong": exit code 2. */
const USAGE_CODES: ReadonlySet<string> = new Set(['CONFIG_INVALID', 'USAGE', 'SECRET_FILE_UNREADABLE']);
/** Longest message printed (a cause's text can be long). */
const MAX_MESSAGE_CHARS = 2_000;

export function usageError(message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code: 'USAGE' });
}

/**
 * Runs a command's body; a failure the body did not tie to an option, but whose code is about one
 * the command has (OPTION_OF_CODE), is re-thrown naming that option.
 */
export async function namingOption<T>(specs: OptionSpecs, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw withOption(err, specs);
  }
}

export function withOption(err: unknown, specs: OptionSpecs): unknown {
  if (err instanceof OptionError) return err;
  const code = codeOf(err);
  const key = (OPTION_OF_CODE[code] ?? []).find((k) => k in specs);
  if (key === undefined) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes(describeOption(key))) return err;
  return new OptionError(code, key, message, { cause: err });
}

/** The line and exit code of a failed command. */
export function describeFailure(command: string, err: unknown): { readonly line: string; readonly exitCode: number } {
  const code = codeOf(err);
  const raw = err instanceof Error ? err.message : String(err);
  const message = raw.split('\n')[0]!.slice(0, MAX_MESSAGE_CHARS);
  return { line: `tillgate${command === '' ? '' : ` ${command}`}: ${code}: ${message}\n`, exitCode: USAGE_CODES.has(code) ? 2 : 1 };
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'INTERNAL';
}

/** A listen that failed, as a failure that names the option: the port in use, or not allowed, or the host. */
export function listenFailure(err: unknown, portKey: string, host: string, port: number): unknown {
  switch ((err as { code?: unknown } | null)?.code) {
    case 'EADDRINUSE':
      return new OptionError('PORT_IN_USE', portKey, `${host}:${port} is already in use by another program`, { cause: err });
    case 'EACCES':
      return new OptionError('PORT_FORBIDDEN', portKey, `not allowed to listen on ${host}:${port} (ports below 1024 need privileges)`, { cause: err });
    case 'EADDRNOTAVAIL':
      return new OptionError('HOST_UNAVAILABLE', 'host', `${host} is not an address of this machine`, { cause: err });
    default:
      return err;
  }
}
