/**
 * MQTT over TLS (DESIGN §3.3: 8883 when a certificate is configured): with a throwaway
 * self-signed certificate made by openssl, a terminal connects with mqtts and its event is stored.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectAsync } from 'mqtt';
import { topics } from '../../protocol/topics.js';
import { signChain } from '../support/events.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { within } from '../support/wait.js';
import { endClient, enroll, startTestGateway, stopTestGateway, STORE, type TestGateway } from './support.js';

let t: TestGateway | undefined;
let certDir: string | undefined;
afterAll(async () => {
  await stopTestGateway(t);
  if (certDir !== undefined) await removeDir(certDir);
});

describe('gateway TLS', () => {
  it('gateway - accepts terminals over MQTT TLS when a certificate is configured', async () => {
    certDir = await makeTempDir('tillgate-cert-');
    const cert = join(certDir, 'cert.pem');
    const key = join(certDir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    t = await startTestGateway({ tlsCert: cert, tlsKey: key, mqttTlsPort: 0 });
    expect(t.gw.mqttTlsPort).toBeGreaterThan(0);
    const who = await enroll(t.gw, 't-tls');
    const client = await within(connectAsync(`mqtts://127.0.0.1:${t.gw.mqttTlsPort}`, {
      clientId: 't-tls', username: 't-tls', password: who.password, protocolVersion: 4, reconnectPeriod: 0, rejectUnauthorized: false,
    }), 10_000, 'mqtts connect');
    try {
      const [e] = await signChain(who.signer, STORE, 't-tls', 1);
      await within(client.publishAsync(topics.events(STORE, 't-tls'), e!.jws, { qos: 1 }), 10_000, 'publish');
      expect(t.gw.statusSources.eventStore.head('t-tls').seq).toBe(1);
    } finally {
      await endClient(client);
    }
  });
});
