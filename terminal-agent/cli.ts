/**
 * CLI entries of the terminal agent (DESIGN §3.5): `tillgate terminal init|run|set-aside`,
 * `tillgate enroll`, `tillgate simulate`. Long-running commands print one ready JSON line on stdout, log to stderr,
 * and shut down gracefully on SIGTERM/SIGINT (exit 0).
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_DATA_KEY_FILE_NAME, openKeyFile, resolveKeyFile } from '../lib/at-rest/key-provider.js';
import { serve } from '@hono/node-server';
import { listenFailure, namingOption, usageError } from '../lib/cli-failure.js';
import { helpText, loadConfig, type OptionSpecs } from '../lib/config.js';
import { loadKeyFile } from '../lib/ed25519-key-file.js';
import { ENDORSEMENT_ERROR_CODES } from '../protocol/endorsement.js';
import { TillgateError } from '../protocol/errors.js';
import { untilStopSignal } from '../lib/signals.js';
import { createLogger } from '../lib/logger.js';
import { startAgentFromDir } from './agent.js';
import {
  enrollSchema, enrollSpecs, initSchema, initSpecs, rotateKeySchema, rotateKeySpecs, runSchema, runSpecs, setAsideSchema, setAsideSpecs, simulateSchema, simulateSpecs,
} from './cli-options.js';
import { rotateDeviceKey } from './rotate-key.js';
import { createDeviceKey, readDevicePublicKey } from './device-key.js';
import { enrollTerminal } from './enroll.js';
import { AGENT_ERROR_CODES } from './errors.js';
import { LevelOutbox } from './outbox/level-outbox.js';
import { createRecordApp, MAX_SET_ASIDE_PAGE } from './record-api.js';
import { exportSetAside, type SetAsideExport } from './set-aside.js';
import { startSimulator } from './sim/simulator.js';
import { ENDORSEMENT_FILE, OUTBOX_DIR, PASSWORD_FILE, readEndorsement, readTerminalFile, writePassword, writeSecretFile, writeTerminalFile } from './terminal-dir.js';

const print = (value: unknown) => process.stdout.write(JSON.stringify(value) + '\n');
const wantsHelp = (argv: string[]) => argv.includes('--help') || argv.includes('-h');
const sources = (argv: string[]) => ({ argv, env: process.env });

function help(command: string, specs: OptionSpecs): number {
  process.stdout.write(helpText(command, specs));
  return 0;
}

/** `tillgate terminal init|run|set-aside`. */
export async function terminalMain(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'init') return wantsHelp(rest) ? help('terminal init', initSpecs) : namingOption(initSpecs, () => init(rest));
  if (sub === 'run') return wantsHelp(rest) ? help('terminal run', runSpecs) : namingOption(runSpecs, () => run(rest));
  if (sub === 'set-aside') return wantsHelp(rest) ? help('terminal set-aside', setAsideSpecs) : namingOption(setAsideSpecs, () => setAside(rest));
  if (sub === 'rotate-key') return wantsHelp(rest) ? help('terminal rotate-key', rotateKeySpecs) : namingOption(rotateKeySpecs, () => rotateKey(rest));
  throw usageError('give a subcommand: tillgate terminal init|run|set-aside|rotate-key [options] (--help for the options)');
}

/** `tillgate terminal rotate-key`: a new device key; the old one kept, and the seq to revoke it after. */
async function rotateKey(argv: string[]): Promise<number> {
  const o = loadConfig(rotateKeySchema, rotateKeySpecs, sources(argv));
  const { path } = resolveKeyFile(o.dataKeyFile, join(o.dir, DEFAULT_DATA_KEY_FILE_NAME));
  const rotated = await rotateDeviceKey(o.dir, openKeyFile(path, { create: false }));
  print({
    ...rotated,
    next: `endorse the new key (tillgate provision endorse --dir ${o.dir}), enroll it (tillgate enroll --dir ${o.dir}), start the agent; then revoke ${rotated.previousKid} at the cloud after seq ${rotated.previousKeyLastSeq}`,
  });
  return 0;
}

async function init(argv: string[]): Promise<number> {
  const o = loadConfig(initSchema, initSpecs, sources(argv));
  const { mkdir } = await import('node:fs/promises');
  await mkdir(o.dir, { recursive: true, mode: 0o700 });
  const signer = await createDeviceKey(o.dir);
  await writeTerminalFile(o.dir, { store: o.store, terminal: o.terminal, kid: signer.kid });
  print({ store: o.store, terminal: o.terminal, kid: signer.kid, publicKey: signer.publicKeyRaw.toString('base64url') });
  return 0;
}

async function run(argv: string[]): Promise<number> {
  const o = loadConfig(runSchema, runSpecs, sources(argv));
  const logger = createLogger({ level: o.logLevel, bindings: { program: 'terminal' } });
  const agent = await startAgentFromDir(o.dir, o.gateway, {
    logger,
    healthIntervalS: o.healthIntervalS,
    maxOutboxEvents: o.maxOutboxEvents,
    idempotency: { idempotencyKeyTtlS: o.idempotencyKeyTtlS, maxIdempotencyKeys: o.maxIdempotencyKeys },
    publisherLimits: { maxConsecutiveSetAside: o.maxConsecutiveSetAside, heldRetryMs: o.heldRetryS * 1000, maxRetainedAckedEvents: o.maxRetainedAckedEvents },
    limits: {
      maxOfflineTxAmountMinor: o.maxOfflineTxAmountMinor,
      maxUnackedAmountMinor: o.maxUnackedAmountMinor,
      maxUnackedCount: o.maxUnackedCount,
      maxUnackedAgeS: o.maxUnackedAgeS,
    },
  }, o);
  const app = createRecordApp(agent);
  // 127.0.0.1 only: the payment app runs on the same device; nothing else may record payments.
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: o.apiPort }, () => resolve(s));
    s.once('error', reject);
  }).catch(async (err: unknown) => {
    await agent.stop();
    throw listenFailure(err, 'apiPort', '127.0.0.1', o.apiPort);
  });
  const apiPort = (server.address() as AddressInfo).port;
  print({ ready: 'terminal', terminal: agent.terminal, apiPort, apiUrl: `http://127.0.0.1:${apiPort}` });
  const sig = await untilStopSignal();
  logger.info('shutting down', { signal: sig });
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    if ('closeAllConnections' in server) server.closeAllConnections();
  });
  await agent.stop();
  return 0;
}

/**
 * `tillgate terminal set-aside`: exports the events the gateway refused for good, one JSON line
 * each (set-aside.ts), from the running agent's local API or, when it is stopped, from its outbox.
 */
async function setAside(argv: string[]): Promise<number> {
  const o = loadConfig(setAsideSchema, setAsideSpecs, sources(argv));
  const pages = o.apiUrl !== undefined ? pagesFromApi(o.apiUrl) : pagesFromOutbox(o.dir!, o.dataKeyFile);
  for await (const page of pages) for (const e of page) print(e);
  return 0;
}

async function* pagesFromApi(apiUrl: string): AsyncGenerator<SetAsideExport[]> {
  let after: string | undefined;
  do {
    const url = new URL('/set-aside', apiUrl);
    url.searchParams.set('limit', String(MAX_SET_ASIDE_PAGE));
    if (after !== undefined) url.searchParams.set('after', after);
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (res.status !== 200) throw new TillgateError(AGENT_ERROR_CODES.TERMINAL_DIR, `the agent's API answered ${res.status} to GET /set-aside`);
    const body = (await res.json()) as { events: SetAsideExport[]; next?: string };
    yield body.events;
    after = body.next;
  } while (after !== undefined);
}

async function* pagesFromOutbox(dir: string, dataKeyFile: string | undefined): AsyncGenerator<SetAsideExport[]> {
  await readTerminalFile(dir); // a terminal directory, not any folder
  // The key `terminal run` seals the outbox with; an export never creates one.
  const { path } = resolveKeyFile(dataKeyFile, join(dir, DEFAULT_DATA_KEY_FILE_NAME));
  const outbox = new LevelOutbox(join(dir, OUTBOX_DIR), openKeyFile(path, { create: false }));
  try {
    await outbox.open();
  } catch (cause) {
    throw new TillgateError(AGENT_ERROR_CODES.TERMINAL_DIR, `cannot open the outbox in ${dir} (is the agent running? then use --api-url)`, { cause });
  }
  try {
    let after: string | undefined;
    do {
      const page = await outbox.listSetAside(MAX_SET_ASIDE_PAGE, after);
      yield page.records.map(exportSetAside);
      after = page.next;
    } while (after !== undefined);
  } finally {
    await outbox.close();
  }
}

/** `tillgate enroll`: enrolls a key at the gateway and prints (and with --dir stores) the password. */
export async function enrollMain(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return help('enroll', enrollSpecs);
  return namingOption(enrollSpecs, () => enroll(argv));
}

async function enroll(argv: string[]): Promise<number> {
  const o = loadConfig(enrollSchema, enrollSpecs, sources(argv));
  if (o.dir === undefined) {
    const res = await enrollTerminal({ gatewayUrl: o.gatewayUrl, adminToken: o.adminToken, terminal: o.terminal!, publicKey: o.publicKey!, endorsement: o.endorsement! });
    if (o.passwordFile === undefined) {
      // DESIGN §3.5: without a place to keep it, the password is printed, once; say where it belongs.
      process.stderr.write('tillgate enroll: the MQTT password is printed below and nowhere else: give --password-file (mode 0600) or --dir to keep it off the screen\n');
      print(res);
    } else {
      await writeSecretFile(o.passwordFile, res.password);
      print({ terminal: res.terminal, kid: res.kid, passwordFile: o.passwordFile });
    }
    return 0;
  }
  const file = await readTerminalFile(o.dir);
  const publicKey = (await readDevicePublicKey(o.dir)).toString('base64url');
  const endorsement = o.endorsement ?? (await readEndorsement(o.dir));
  if (endorsement === undefined) {
    throw new TillgateError(ENDORSEMENT_ERROR_CODES.missing, `${o.dir} has no ${ENDORSEMENT_FILE}: endorse the key first with \`tillgate provision endorse --dir ${o.dir}\` and the operator's provisioning key`);
  }
  const res = await enrollTerminal({ gatewayUrl: o.gatewayUrl, adminToken: o.adminToken, terminal: file.terminal, publicKey, endorsement });
  // The password goes into a 0600 file, never on the screen (the agent reads DIR/mqtt-password).
  await writePassword(o.dir, res.password);
  if (o.passwordFile !== undefined) await writeSecretFile(o.passwordFile, res.password);
  await writeTerminalFile(o.dir, { ...file, gatewayUrl: o.gatewayUrl });
  print({ terminal: res.terminal, kid: res.kid, passwordFile: o.passwordFile ?? join(o.dir, PASSWORD_FILE) });
  return 0;
}

/** `tillgate simulate`: prints a ready line, then the summary JSON when the run ends. */
export async function simulateMain(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return help('simulate', simulateSpecs);
  return namingOption(simulateSpecs, () => simulate(argv));
}

async function simulate(argv: string[]): Promise<number> {
  const o = loadConfig(simulateSchema, simulateSpecs, sources(argv));
  const logger = createLogger({ level: o.logLevel, bindings: { program: 'simulate' } });
  const store = o.store ?? (await storeOf(o.gatewayUrl));
  const sim = await startSimulator({
    gatewayUrl: o.gatewayUrl, mqttUrl: o.mqttUrl, adminToken: o.adminToken, store, dir: o.dir,
    terminals: o.terminals, ratePerS: o.rate, wifiDropMeanS: o.wifiDropMeanS, wifiUpMeanS: o.wifiUpMeanS,
    restartEveryS: o.restartEveryS, clockSkewS: o.clockSkewS, drainTimeoutS: o.drainTimeoutS,
    healthIntervalS: o.healthIntervalS, logger,
    degrading: o.degrading, degradeFailAfterS: o.degradeFailAfterS, degradeDeadForS: o.degradeDeadForS,
    ...(o.provisioningKeyFile === undefined ? {} : { provisioning: await loadKeyFile(o.provisioningKeyFile) }),
    ...(o.duration === undefined ? {} : { durationS: o.duration }),
    ...(o.seed === undefined ? {} : { seed: o.seed }),
  });
  print({ ready: 'simulate', terminals: o.terminals, store });
  const summary = await Promise.race([sim.done, untilStopSignal().then(() => sim.stop())]);
  const { perTerminal: _per, ...totals } = summary;
  print({ summary: totals });
  return summary.drained && summary.rejected === 0 ? 0 : 1;
}

/** The gateway serves one store; read it from /api/status so `--store` is optional. */
async function storeOf(gatewayUrl: string): Promise<string> {
  const res = await fetch(new URL('/api/status', gatewayUrl), { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { store?: unknown };
  if (typeof body.store !== 'string') throw new TypeError('gateway /api/status has no store: pass --store');
  return body.store;
}
