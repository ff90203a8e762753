/**
 * One parse step for options (STYLE 8): defaults < config file < environment < flags, validated by
 * one schema, frozen. Every flag `--mqtt-port` has the env var `TILLGATE_MQTT_PORT` and the config
 * file key `mqttPort` (DESIGN §3.5). An invalid value is a startup error that names the key.
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

export interface ConfigSources {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Largest config file we read: a config is a few hundred bytes. */
const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

export function loadConfig<S extends z.ZodType>(
  schema: S,
  specs: OptionSpecs,
  sources: ConfigSources,
): Readonly<z.infer<S>> {
  const fromFlags = parseFlags(specs, sources.argv);
  const fileKeyValue = fromFlags.config ?? sources.env.TILLGATE_CONFIG;
  const merged: Record<string, unknown> = {};
  if (typeof fileKeyValue === 'string' && fileKeyValue !== '') Object.assign(merged, readConfigFile(fileKeyValue, specs));
  for (const [key, spec] of Object.entries(specs)) {
    const raw = sources.env[envName(key)];
    if (raw !== undefined && raw !== '') merged[key] = coerce(key, spec, raw, envName(key));
  }
  for (const [key, value] of Object.entries(fromFlags)) if (key !== 'config') merged[key] = value;
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? '');
    const where = key in specs ? `--${camelToKebab(key)} (${envName(key)}, config key "${key}")` : key || '(config)';
    throw new TillgateError('CONFIG_INVALID', `invalid option ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return Object.freeze(parsed.data);
}

function parseFlags(specs: OptionSpecs, argv: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const byFlag = new Map(Object.entries(specs).map(([k, s]) => [camelToKebab(k), [k, s] as const]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new TillgateError('CONFIG_INVALID', `unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq === -1 ? undefined : eq);
    if (flag === 'config') {
      out.config = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      continue;
    }
    const negated = flag.startsWith('no-') && byFlag.get(flag.slice(3))?.[1].type === 'boolean';
    const entry = byFlag.get(negated ? flag.slice(3) : flag);
    if (entry === undefined) throw new TillgateError('CONFIG_INVALID', `unknown option --${flag}`);
    const [key, spec] = entry;
    if (spec.type === 'boolean' && eq === -1) {
      out[key] = !negated;
      continue;
    }
    const raw = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (raw === undefined) throw new TillgateError('CONFIG_INVALID', `option --${flag} needs a value`);
    out[key] = coerce(key, spec, raw, `--${flag}`);
  }
  return out;
}

function coerce(key: string, spec: OptionSpec, raw: string, where: string): unknown {
  switch (spec.type) {
    case 'string':
      return raw;
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new TillgateError('CONFIG_INVALID', `invalid option ${where} (${key}): "${raw}" is not a number`);
      return n;
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new TillgateError('CONFIG_INVALID', `invalid option ${where} (${key}): "${raw}" is not a boolean`);
  }
}

function readConfigFile(path: string, specs: OptionSpecs): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new TillgateError('CONFIG_INVALID', `cannot read config file ${path}`, { cause });
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
  for (const key of Object.keys(data)) {
    if (!(key in specs)) throw new TillgateError('CONFIG_INVALID', `config file ${path}: unknown key "${key}"`);
  }
  return data as Record<string, unknown>;
}

/** `--help` text: one line an option with its env var and doc. */
export function helpText(command: string, specs: OptionSpecs): string {
  const lines = Object.entries(specs).map(([k, s]) => `  --${camelToKebab(k)} <${s.type}>  ${s.doc}  [${envName(k)}]`);
  return `usage: tillgate ${command} [options]\n  --config <file>  JSON config file with the keys below (camelCase)\n${lines.join('\n')}\n`;
}
