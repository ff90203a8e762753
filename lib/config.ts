/**
 * One parse step for options: defaults < config file < environment < flags, validated by
 * one schema, frozen. Every flag `--mqtt-port` has the env var `TILLGATE_MQTT_PORT` and the config
 * file key `mqttPort` (DESIGN §3.5). An invalid value is a startup error that names the key.
 *
 * Secrets (options marked `secret`) may also come from a file: `--admin-token-file F`,
 * `TILLGATE_ADMIN_TOKEN_FILE=F` or the config key `adminTokenFile` (the file's content, a trailing
 * newline ignored), so a token never has to be on a command line, where `ps` shows it, or in a
 * config file. systemd's `LoadCredential=` hands such files to a service.
 *
 * Every failure that concerns an option names it the same way (`optionError`): the flag, the
 * environment variable and the config key, e.g. `--admin-token (TILLGATE_ADMIN_TOKEN, config key
 * "adminToken")`, and `tillgate` prints it as `tillgate <command>: <CODE>: <message>`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TillgateError } from '../protocol/errors.js';

export type OptionType = 'string' | 'number' | 'boolean' | 'list';

export interface OptionSpec {
  readonly type: OptionType;
  /** One line for `--help` and the README's configuration reference. */
  readonly doc: string;
  /**
   * A secret (a token, a password, a URL with a password): it may also come from a file,
   * `--<flag>-file`, `TILLGATE_<FLAG>_FILE` or the config key `<key>File`, so it never has to be on
   * a command line or in the environment.
   */
  readonly secret?: boolean;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export const camelToKebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const envName = (key: string): string => `TILLGATE_${camelToKebab(key).replace(/-/g, '_').toUpperCase()}`;

/** The config key of the file variant of a secret option: `adminToken` → `adminTokenFile`. */
export const fileKey = (key: string): string => `${key}File`;

/** `--admin-token (TILLGATE_ADMIN_TOKEN, config key "adminToken")`: how every message names an option. */
export function describeOption(key: string): string {
  return `--${camelToKebab(key)} (${envName(key)}, config key "${key}")`;
}

/** A failure that concerns an option: its message starts with the option's three names. */
export class OptionError extends TillgateError {
  readonly option: string;
  constructor(code: string, key: string, reason: string, options?: { cause?: unknown }) {
    super(code, `${describeOption(key)}: ${reason}`, options);
    this.name = 'OptionError';
    this.option = key;
  }
}

export const optionError = (code: string, key: string, reason: string, cause?: unknown): OptionError =>
  new OptionError(code, key, reason, cause === undefined ? undefined : { cause });

/**
 * Every option of a command as it appears to a user: the specs, each secret followed by its file
 * variant (for `--help` and the README's configuration reference).
 */
export function expandedSpecs(specs: OptionSpecs): [string, OptionSpec][] {
  const out: [string, OptionSpec][] = [];
  for (const [key, spec] of Object.entries(specs)) {
    out.push([key, spec]);
    if (spec.secret === true) {
      out.push([fileKey(key), { type: 'string', doc: `a file holding --${camelToKebab(key)} (instead of it: keeps the secret off command lines; mode 0600, a trailing newline is ignored)` }]);
    }
  }
  return out;
}

export interface ConfigSources {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Largest config file we read: a config is a few hundred bytes. */
const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
/** Largest secret file: a token is a few dozen bytes, a list of gateways a few hundred each. */
const MAX_SECRET_FILE_BYTES = 1024 * 1024;

type Level = Record<string, unknown>;

export function loadConfig<S extends z.ZodType>(
  schema: S,
  specs: OptionSpecs,
  sources: ConfigSources,
): Readonly<z.infer<S>> {
  const fromFlags = parseFlags(specs, sources.argv);
  const fileKeyValue = fromFlags.config ?? sources.env.TILLGATE_CONFIG;
  delete fromFlags.config;
  const fromFile: Level = typeof fileKeyValue === 'string' && fileKeyValue !== '' ? readConfigFile(fileKeyValue, specs) : {};
  const fromEnv: Level = {};
  for (const [key, spec] of Object.entries(specs)) {
    const raw = sources.env[envName(key)];
    if (raw !== undefined && raw !== '') fromEnv[key] = coerce(key, spec, raw);
    const file = sources.env[envName(fileKey(key))];
    if (spec.secret === true && file !== undefined && file !== '') fromEnv[fileKey(key)] = file;
  }
  const merged: Level = {};
  for (const level of [fromFile, fromEnv, fromFlags]) Object.assign(merged, readSecretFiles(specs, level));
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? '');
    const reason = key in specs && merged[key] === undefined ? 'is required' : issue?.message ?? 'invalid';
    if (key in specs) throw optionError('CONFIG_INVALID', key, reason);
    throw new TillgateError('CONFIG_INVALID', `invalid option ${key || '(config)'}: ${reason}`);
  }
  return Object.freeze(parsed.data);
}

/** Replaces each `<key>File` of one level by the file's content as `<key>` (both at once: an error). */
function readSecretFiles(specs: OptionSpecs, level: Level): Level {
  const out: Level = { ...level };
  for (const [key, spec] of Object.entries(specs)) {
    const path = out[fileKey(key)];
    if (spec.secret !== true || path === undefined) continue;
    delete out[fileKey(key)];
    if (out[key] !== undefined) throw optionError('CONFIG_INVALID', key, `give it or --${camelToKebab(fileKey(key))}, not both`);
    if (typeof path !== 'string' || path === '') throw optionError('CONFIG_INVALID', fileKey(key), 'must be a file path');
    let text: string;
    try {
      const bytes = readFileSync(path);
      if (bytes.length > MAX_SECRET_FILE_BYTES) throw new RangeError(`larger than ${MAX_SECRET_FILE_BYTES} bytes`);
      text = bytes.toString('utf8').replace(/\s+$/, '');
    } catch (cause) {
      throw optionError('SECRET_FILE_UNREADABLE', fileKey(key), `cannot read ${path}: ${(cause as Error).message}`, cause);
    }
    if (text === '') throw optionError('CONFIG_INVALID', fileKey(key), `${path} is empty`);
    // A list (GATEWAY:STORE:TOKEN entries) may be written one per line.
    out[key] = coerce(key, spec, spec.type === 'list' ? text.split(/[\n,]/).join(',') : text, 'file');
  }
  return out;
}

function parseFlags(specs: OptionSpecs, argv: readonly string[]): Level {
  const out: Level = {};
  const byFlag = new Map(expandedSpecs(specs).map(([k, s]) => [camelToKebab(k), [k, s] as const]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new TillgateError('CONFIG_INVALID', `unexpected argument "${arg}" (options are --name value)`);
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq === -1 ? undefined : eq);
    if (flag === 'config') {
      out.config = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      continue;
    }
    const negated = flag.startsWith('no-') && byFlag.get(flag.slice(3))?.[1].type === 'boolean';
    const entry = byFlag.get(negated ? flag.slice(3) : flag);
    if (entry === undefined) throw new TillgateError('CONFIG_INVALID', `unknown option --${flag} (--help lists them)`);
    const [key, spec] = entry;
    if (spec.type === 'boolean' && eq === -1) {
      out[key] = !negated;
      continue;
    }
    const raw = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (raw === undefined) throw optionError('CONFIG_INVALID', key, 'needs a value');
    out[key] = specs[key] === undefined ? raw : coerce(key, spec, raw);
  }
  return out;
}

function coerce(key: string, spec: OptionSpec, raw: string, from = 'value'): unknown {
  switch (spec.type) {
    case 'string':
      return raw;
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw optionError('CONFIG_INVALID', key, `the ${from} "${raw}" is not a number`);
      return n;
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw optionError('CONFIG_INVALID', key, `the ${from} "${raw}" is not a boolean (true or false)`);
  }
}

function readConfigFile(path: string, specs: OptionSpecs): Level {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new TillgateError('CONFIG_INVALID', `cannot read config file ${path} (--config, TILLGATE_CONFIG)`, { cause });
  }
  if (text.length > MAX_CONFIG_FILE_BYTES) throw new TillgateError('CONFIG_INVALID', `config file ${path} is too large`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new TillgateError('CONFIG_INVALID', `config file ${path} is not JSON`, { cause });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new TillgateError('CONFIG_INVALID', `config file ${path} must hold a JSON object`);
  }
  const known = new Set(expandedSpecs(specs).map(([k]) => k));
  for (const key of Object.keys(data)) {
    if (!known.has(key)) throw new TillgateError('CONFIG_INVALID', `config file ${path}: unknown key "${key}"`);
  }
  return data as Level;
}

/** `--help` text: one line an option with its env var and doc. */
export function helpText(command: string, specs: OptionSpecs): string {
  const lines = expandedSpecs(specs).map(([k, s]) => `  --${camelToKebab(k)} <${s.type}>  ${s.doc}  [${envName(k)}]`);
  return `usage: tillgate ${command} [options]\n  --config <file>  JSON config file with the keys below (camelCase)\n${lines.join('\n')}\n`;
}
