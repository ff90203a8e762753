/**
 * `npm start` = `tillgate start` (DESIGN §3.5): the whole system on one machine — an embedded
 * cloud-bridge, a store gateway forwarding to it, a simulated PSP, and a handful of simulated
 * terminals that authorise their online payments with it — with data under `./.tillgate/`.
 * Optimistic charging is on; the cloud's dashboard shows the lifecycle. bin/ is the one place
 * allowed to import all the programs. It plays the operator too: a provisioning key in the data
 * dir (0600, created once) whose public key is the one the cloud trusts, and which endorses every
 * simulated terminal (DESIGN §3.1).
 *
 * STDOUT gets exactly one ready JSON line; the human guide and the periodic summary go to STDERR.
 * SIGINT/SIGTERM stops the terminals, then the gateway, then the cloud, and exits 0.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startCloud, type CloudHandle } from '../cloud-bridge/index.js';
import { startGateway, type GatewayHandle } from '../gateway/index.js';
import { namingOption } from '../lib/cli-failure.js';
import { helpText, loadConfig, OptionError, optionError } from '../lib/config.js';
import { createKeyFile, loadKeyFile } from '../lib/ed25519-key-file.js';
import type { KeyObjectSigner } from '../protocol/signer.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { untilStopSignal } from '../lib/signals.js';
import { startSimulator, type SimulatorHandle } from '../terminal-agent/sim/simulator.js';
import { startPspSim, type PspSimHandle } from '../psp-sim/index.js';
import { ADYEN_WEBHOOK_PATH } from '../cloud-bridge/http/webhook-route.js';
import { DEFAULT_RECONCILE_AFTER_S } from '../cloud-bridge/lifecycle/options.js';
import { START_DRAIN_TIMEOUT_S, START_OPTION_SPECS, startOptionsSchema, type StartOptions } from './start-options.js';

const STORE = 'store-1';
const GATEWAY_ID = 'gw-1';
const PROVISIONING_KEY_FILE = 'provisioning-key.pem';

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText('start', START_OPTION_SPECS));
    return 0;
  }
  const o = loadConfig(startOptionsSchema, START_OPTION_SPECS, { argv, env: process.env });
  return namingOption(START_OPTION_SPECS, () => start(o));
}

async function start(o: StartOptions): Promise<number> {
  const logger = createLogger({ level: o.logLevel, bindings: { program: 'start' } });
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const adminToken = o.adminToken ?? demoToken(join(dataDir, 'admin-token'));
  // The operator's provisioning key (DESIGN §3.1), kept in the data dir like the demo token: the
  // cloud trusts only its public key, and the simulated terminals are endorsed with it.
  const provisioning = await demoProvisioningKey(join(dataDir, PROVISIONING_KEY_FILE));
  const provisioningKeys = [provisioning.publicKeyRaw.toString('base64url')];
  // The gateway's cloud token is a per-run secret between two programs of this one process.
  const cloudToken = randomBytes(24).toString('base64url');
  // So is the PSP's webhook HMAC key (hex, as Adyen's Customer Area shows it).
  const pspHmacKey = randomBytes(32).toString('hex').toUpperCase();

  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.error('error while stopping', { err });
      }
    }
  };
  try {
    // The simulated PSP first: the cloud needs its status API, and it learns the cloud's webhook URL after.
    const psp = await startPspSim(
      { host: o.host, httpPort: o.pspPort, hmacKey: pspHmacKey, timeScale: o.pspTimeScale, logLevel: o.logLevel },
      { logger: logger.child({ program: 'psp-sim' }) },
    );
    stops.push(() => psp.close());
    const cloud = await startCloud(
      {
        dataDir: join(dataDir, 'cloud'), host: o.host, httpPort: o.cloudPort, adminToken, gateways: [{ id: GATEWAY_ID, store: STORE, token: cloudToken }], provisioningKeys, logLevel: o.logLevel,
        pspHmacKey, pspUrl: psp.url, optimisticCharge: o.optimisticCharge,
        // Reconciliation on the PSP's scaled clock, checked every 10 s.
        reconcileAfterS: Math.max(1, Math.round(DEFAULT_RECONCILE_AFTER_S / o.pspTimeScale)), reconcileCron: '*/10 * * * * *',
      },
      { logger: logger.child({ program: 'cloud' }) },
    ).catch((err: unknown) => {
      // The embedded cloud's port is `--cloud-port` here.
      throw err instanceof OptionError && err.option === 'httpPort' ? optionError(err.code, 'cloudPort', err.message.replace(/^.*?\): /, ''), err) : err;
    });
    stops.push(() => cloud.close());
    psp.simulator.setWebhookUrls([`${cloud.url}${ADYEN_WEBHOOK_PATH}`]);
    const gateway = await startGateway(
      { dataDir: join(dataDir, 'gateway'), host: o.host, mqttPort: o.mqttPort, httpPort: o.httpPort, store: STORE, gatewayId: GATEWAY_ID, adminToken, cloudUrl: cloud.url, cloudToken, provisioningKeys, logLevel: o.logLevel },
      { logger: logger.child({ program: 'gateway' }) },
    );
    stops.push(() => gateway.close());
    let sim: SimulatorHandle | null = null;
    if (o.terminals > 0) {
      sim = await startSimulator({
        gatewayUrl: gateway.httpUrl, mqttUrl: `mqtt://${urlHost(o.host)}:${gateway.mqttPort}`, adminToken, store: STORE,
        dir: join(dataDir, 'terminals'), terminals: o.terminals, ratePerS: o.ratePerS, drainTimeoutS: START_DRAIN_TIMEOUT_S, provisioning, logger: logger.child({ program: 'terminals' }),
        degrading: Math.min(o.degrading, o.terminals),
        pspUrl: psp.url,
      });
      const s = sim;
      stops.push(() => s.stop());
    }
    const timers: NodeJS.Timeout[] = [];
    stops.push(async () => timers.forEach((t) => clearTimeout(t)));
    if (o.wanOutage !== undefined) timers.push(scheduleOutage(gateway, adminToken, o.wanOutage, logger));
    if (o.reportIntervalS > 0) timers.push(setInterval(() => void summary(gateway, cloud, sim).then((line) => process.stderr.write(`${line}\n`)), o.reportIntervalS * 1000));

    process.stdout.write(`${JSON.stringify({ ready: 'start', statusUrl: `${gateway.httpUrl}/`, httpPort: gateway.httpPort, mqttPort: gateway.mqttPort, cloudUrl: cloud.url, dashboardUrl: `${cloud.url}/`, pspUrl: psp.url, store: STORE, terminals: o.terminals })}\n`);
    process.stderr.write(guide(o, gateway, cloud, psp, dataDir));

    const signal = await untilStopSignal();
    process.stderr.write(`tillgate start: ${signal}, stopping terminals, gateway and cloud…\n`);
  } finally {
    await stopAll();
  }
  return 0;
}

/** The demo's provisioning key: created (mode 0600) on the first run, reused after, never overwritten. */
async function demoProvisioningKey(file: string): Promise<KeyObjectSigner> {
  return existsSync(file) ? loadKeyFile(file) : createKeyFile(file);
}

/** A demo admin token kept in the data dir (mode 0600), so curl examples keep working across runs. */
function demoToken(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

function scheduleOutage(gateway: GatewayHandle, adminToken: string, outage: NonNullable<StartOptions['wanOutage']>, logger: Logger): NodeJS.Timeout {
  return setTimeout(() => {
    process.stderr.write(`tillgate start: cutting the gateway's link to the cloud for ${outage.seconds} s (watch the backlog grow, then drain)\n`);
    void fetch(`${gateway.httpUrl}/api/wan/outage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ seconds: outage.seconds }),
    }).then(
      (res) => (res.ok ? undefined : logger.warn('WAN outage request refused', { status: res.status })),
      (err: unknown) => logger.warn('WAN outage request failed', { err }),
    );
  }, outage.afterS * 1000);
}

async function summary(gateway: GatewayHandle, cloud: CloudHandle, sim: SimulatorHandle | null): Promise<string> {
  const backlog = gateway.queue.backlog();
  let inCloud = 0;
  try {
    for (const h of await cloud.ledger.listHeads(STORE, '', 1000)) inCloud += h.seq;
  } catch {
    inCloud = -1;
  }
  const recorded = sim === null ? 0 : sim.stats().recorded;
  return `tillgate start: WAN ${gateway.statusTopic.wan}, terminals recorded ${recorded}, gateway backlog ${backlog.events}${backlog.oldestStoredAtMs === null ? '' : ` (oldest ${Math.round((Date.now() - backlog.oldestStoredAtMs) / 1000)} s)`}, in the cloud ledger ${inCloud}`;
}

function guide(o: StartOptions, gateway: GatewayHandle, cloud: CloudHandle, psp: PspSimHandle, dataDir: string): string {
  const tokenFile = join(dataDir, 'admin-token');
  const auth = o.adminToken === undefined ? `"Authorization: Bearer $(cat ${tokenFile})"` : '"Authorization: Bearer <your --admin-token>"';
  return `
tillgate is running: a cloud-bridge, a store gateway and ${o.terminals} simulated terminals (data in ${dataDir})

  status page      ${gateway.httpUrl}/          what a field technician sees: WAN, backlog, terminals
  status JSON      ${gateway.httpUrl}/api/status
  forwarder        ${gateway.httpUrl}/api/forwarder   backlog, rate, latency, dead letters
  MQTT broker      mqtt://${urlHost(o.host)}:${gateway.mqttPort}   (topic tillgate/v1/${STORE}/#)
  cloud-bridge     ${cloud.url}/healthz
  cloud ledger     curl -H ${auth} ${cloud.url}/v1/stores/${STORE}/terminals
  payments         ${cloud.url}/   the payments dashboard (user: admin, password: the admin token${o.adminToken === undefined ? ` in ${tokenFile}` : ''})
  latency JSON     curl -H ${auth} ${cloud.url}/v1/payments/latency
  simulated PSP    ${psp.url}/v1/stats   optimistic charging ${o.optimisticCharge ? 'on' : 'off'}, PSP delays divided by ${o.pspTimeScale}
  provisioning key ${join(dataDir, PROVISIONING_KEY_FILE)}   the cloud accepts only terminal keys it endorsed

${o.degrading > 0 ? `Failure prediction: ${Math.min(o.degrading, o.terminals)} terminal(s) degrade (a dying battery first, then fading WiFi) and fail
after about 15 and 20 minutes; watch the page warn about them first, then see the prediction come true.

` : ''}Try a WAN outage and watch the backlog build and drain on the status page:
  curl -X POST -H ${auth} -H 'content-type: application/json' -d '{"seconds":60}' ${gateway.httpUrl}/api/wan/outage
(or start with --wan-outage 60@10). Ctrl-C stops everything.

`;
}

function urlHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
