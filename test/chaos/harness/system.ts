/**
 * A whole system of real processes for e2e and chaos tests: `tillgate cloud` and `tillgate gateway`
 * as children, with the TCP proxy between them, on 127.0.0.1 and ephemeral ports.
 */
import { join } from 'node:path';
import { TEST_PROVISIONING_PUBLIC_KEY } from '../../support/provisioning.js';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { makeTempDir, removeDir } from '../../support/temp.js';
import { killAll, readyNumber, readyString, spawnTillgate, type TillgateProcess } from '../../support/tillgate-process.js';
import { ADMIN_TOKEN, CLOUD_TOKEN, GATEWAY_ID, STORE } from './terminals.js';

/** Fast retries and probes so faults heal in test time (production defaults are slower on purpose). */
export const FAST_DELIVERY_FLAGS = [
  '--retry-delay-ms-min', '50',
  '--retry-delay-ms-max', '500',
  '--wan-probe-interval-ms', '1000',
  '--wan-probe-interval-offline-ms', '200',
  '--wan-probe-timeout-ms', '1000',
  '--forward-timeout-ms', '5000',
];

export class TestSystem {
  cloud: TillgateProcess | null = null;
  gateway: TillgateProcess | null = null;
  proxy!: TcpProxy;
  dir!: string;

  static async create(): Promise<TestSystem> {
    const s = new TestSystem();
    s.dir = await makeTempDir('tillgate-e2e-');
    // Until a cloud runs, the proxy points at a port nothing listens on: the cloud is down.
    s.proxy = await TcpProxy.start(1);
    return s;
  }

  get cloudUrl(): string {
    if (this.cloud === null) throw new TypeError('no cloud running');
    return readyString(this.cloud, 'url');
  }

  get gatewayUrl(): string {
    if (this.gateway === null) throw new TypeError('no gateway running');
    return readyString(this.gateway, 'httpUrl');
  }

  get mqttPort(): number {
    if (this.gateway === null) throw new TypeError('no gateway running');
    return readyNumber(this.gateway, 'mqttPort');
  }

  async startCloud(): Promise<TillgateProcess> {
    this.cloud = await spawnTillgate(
      ['cloud', '--data-dir', join(this.dir, 'cloud'), '--host', '127.0.0.1', '--http-port', '0', '--admin-token', ADMIN_TOKEN, '--gateways', `${GATEWAY_ID}:${STORE}:${CLOUD_TOKEN}`,
        '--provisioning-keys', TEST_PROVISIONING_PUBLIC_KEY, '--log-level', 'warn'],
      { readyKind: 'cloud' },
    );
    this.proxy.setTarget(readyNumber(this.cloud, 'httpPort'));
    return this.cloud;
  }

  async startGateway(extra: readonly string[] = []): Promise<TillgateProcess> {
    this.gateway = await spawnTillgate(
      [
        'gateway', '--data-dir', join(this.dir, 'gateway'), '--host', '127.0.0.1', '--mqtt-port', '0', '--http-port', '0',
        '--store', STORE, '--gateway-id', GATEWAY_ID, '--admin-token', ADMIN_TOKEN,
        '--cloud-url', this.proxy.url, '--cloud-token', CLOUD_TOKEN, '--log-level', 'warn',
        ...FAST_DELIVERY_FLAGS, ...extra,
      ],
      { readyKind: 'gateway' },
    );
    return this.gateway;
  }

  /** The gateway's forwarder view (`GET /api/forwarder`). */
  async forwarder(): Promise<{ forwarder: { state: string; backlog: number; deadLetters: number; cursor: number; head: number }; wan: { state: string } }> {
    const res = await fetch(`${this.gatewayUrl}/api/forwarder`);
    return (await res.json()) as never;
  }

  async close(): Promise<void> {
    await killAll([this.gateway, this.cloud]);
    await this.proxy?.close();
    if (this.dir !== undefined) await removeDir(this.dir);
  }
}
