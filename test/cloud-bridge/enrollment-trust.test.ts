/**
 * The cloud's trust anchor (DESIGN §3.1): which enrollments it records, by the pure decision in
 * cloud-bridge/enrollment-trust.ts and through the ingest route on a real ledger; the refusal to
 * start without provisioning keys, and the explicit, loudly reported `--trust-gateway-enrollments`.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { enrollmentTrustOf, judgeEnrollment, startCloud, TRUST_GATEWAY_WARNING } from '../../cloud-bridge/index.js';
import { createLogger } from '../../lib/logger.js';
import { ingestResponseSchema } from '../../protocol/ingest-api.js';
import { KeyCache } from '../../protocol/keys.js';
import { inlineVerifier } from '../../lib/verify-pool.js';
import { signChain, testSigner } from '../support/events.js';
import { endorse, ROGUE_PROVISIONING, TEST_PROVISIONING, TEST_PROVISIONING_PUBLIC_KEY } from '../support/provisioning.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { spawnTillgate } from '../support/tillgate-process.js';
import { ADMIN, enrollmentOf, GW1, ingestBody, makeTestCloud, postIngest, type TestCloud } from './helpers.js';

const alice = testSigner('trust-alice');
const strict = enrollmentTrustOf({ provisioningKeys: [TEST_PROVISIONING_PUBLIC_KEY], trustGatewayEnrollments: false });
const lax = enrollmentTrustOf({ provisioningKeys: [], trustGatewayEnrollments: true });

describe('enrollment trust decision', () => {
  const good = enrollmentOf('t-1', alice);
  const verdictCode = (v: ReturnType<typeof judgeEnrollment>) => (v.kind === 'refuse' ? v.code : v.kind.toUpperCase());

  it('trust - records an enrollment whose endorsement a provisioning key signed for this store, terminal and key, once its signature verifies', async () => {
    const v = judgeEnrollment(strict, 's-1', good);
    expect(v).toMatchObject({ kind: 'verify', record: { terminal: 't-1', kid: alice.kid, publicKey: alice.publicKeyRaw, at: good.at } });
    if (v.kind !== 'verify') throw new TypeError('expected a signature check');
    expect(v.check.publicKeyRaw).toEqual(TEST_PROVISIONING.publicKeyRaw);
    expect(await inlineVerifier(new KeyCache()).verifyMany([v.check])).toEqual([true]);
  });

  it('trust - an endorsement signed by another key under a provisioning kid fails its signature check', async () => {
    const input = endorse('s-1', 't-1', alice).split('.').slice(0, 2).join('.');
    const forged = `${input}.${ROGUE_PROVISIONING.signSync(Buffer.from(input, 'latin1')).toString('base64url')}`;
    const v = judgeEnrollment(strict, 's-1', { ...good, endorsement: forged });
    if (v.kind !== 'verify') throw new TypeError('expected a signature check');
    expect(await inlineVerifier(new KeyCache()).verifyMany([v.check])).toEqual([false]);
  });

  it.each([
    ['no endorsement', { ...good, endorsement: undefined }, 'ENDORSEMENT_MISSING'],
    ['an endorsement by a key that is not a provisioning key', { ...good, endorsement: endorse('s-1', 't-1', alice, ROGUE_PROVISIONING) }, 'ENDORSEMENT_UNKNOWN_ISSUER'],
    ['a genuine endorsement of another store', { ...good, endorsement: endorse('s-2', 't-1', alice) }, 'ENDORSEMENT_WRONG_STORE'],
    ['a genuine endorsement of another terminal', { ...good, endorsement: endorse('s-1', 't-2', alice) }, 'ENDORSEMENT_WRONG_TERMINAL'],
    ['a genuine endorsement of another key', { ...good, endorsement: endorse('s-1', 't-1', testSigner('trust-bob')) }, 'ENDORSEMENT_WRONG_KEY'],
    ['an endorsement longer than the bound', { ...good, endorsement: 'A'.repeat(2000) }, 'ENDORSEMENT_TOO_LARGE'],
    ['a kid that is not the key thumbprint', { ...good, kid: testSigner('trust-bob').kid }, 'KID_MISMATCH'],
    ['a public key that is not canonical base64url of 32 bytes', { ...good, publicKey: `${'A'.repeat(42)}B` }, 'BAD_PUBLIC_KEY'],
  ])('trust - refuses an enrollment with %s', (_name, enrollment, code) => {
    expect(verdictCode(judgeEnrollment(strict, 's-1', enrollment))).toBe(code);
  });

  it('trust - with --trust-gateway-enrollments a key without an endorsement is recorded (the unsafe mode)', () => {
    expect(verdictCode(judgeEnrollment(lax, 's-1', { ...good, endorsement: undefined }))).toBe('RECORD');
    expect(verdictCode(judgeEnrollment(lax, 's-1', { ...good, endorsement: endorse('s-1', 't-1', alice, ROGUE_PROVISIONING) }))).toBe('RECORD');
    expect(verdictCode(judgeEnrollment(lax, 's-1', { ...good, kid: testSigner('trust-bob').kid }))).toBe('KID_MISMATCH');
  });
});

describe('enrollment trust through the ingest route', () => {
  let dir: string;
  let cloud: TestCloud | undefined;
  afterEach(async () => {
    await cloud?.ledger.close();
    await removeDir(dir);
    cloud = undefined;
  });

  it('trust - a refused enrollment is counted by reason, logged without its endorsement, and its events are UNKNOWN_KEY', async () => {
    dir = await makeTempDir('tillgate-trust-');
    cloud = await makeTestCloud(dir);
    const chain = await signChain(alice, 's-1', 't-1', 2);
    const rogue = { ...enrollmentOf('t-1', alice), endorsement: endorse('s-1', 't-1', alice, ROGUE_PROVISIONING) };
    const res = await postIngest(cloud.app, ingestBody(GW1, chain.map((e) => e.jws), [rogue]));
    expect(ingestResponseSchema.parse(await res.json()).results.map((r) => r.code)).toEqual(['UNKNOWN_KEY', 'UNKNOWN_KEY']);
    expect(await cloud.ledger.getKey('s-1', 't-1', alice.kid)).toBeUndefined();
    const metrics = await (await cloud.app.request('/metrics')).text();
    expect(metrics).toContain('tillgate_cloud_enrollments_refused_total{reason="ENDORSEMENT_UNKNOWN_ISSUER"} 1');
    expect(metrics).toContain('tillgate_cloud_enrollments_refused_total{reason="ENDORSEMENT_MISSING"} 0');
    const logged = cloud.logs.filter((l) => l.includes('enrollment refused'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('ENDORSEMENT_UNKNOWN_ISSUER');
    expect(cloud.logs.join('\n')).not.toContain(rogue.endorsement.split('.')[2]!);
  });

  it('trust - a forged signature under the provisioning kid is refused as ENDORSEMENT_BAD_SIGNATURE and records nothing', async () => {
    dir = await makeTempDir('tillgate-trust-');
    cloud = await makeTestCloud(dir);
    const input = endorse('s-1', 't-1', alice).split('.').slice(0, 2).join('.');
    const forged = `${input}.${ROGUE_PROVISIONING.signSync(Buffer.from(input, 'latin1')).toString('base64url')}`;
    const genuineOther = enrollmentOf('t-2', alice);
    const res = await postIngest(cloud.app, ingestBody(GW1, [], [{ ...enrollmentOf('t-1', alice), endorsement: forged }, genuineOther]));
    expect(res.status).toBe(200);
    expect(await cloud.ledger.getKey('s-1', 't-1', alice.kid)).toBeUndefined();
    expect(await cloud.ledger.getKey('s-1', 't-2', alice.kid)).toEqual(alice.publicKeyRaw);
    expect(await (await cloud.app.request('/metrics')).text()).toContain('tillgate_cloud_enrollments_refused_total{reason="ENDORSEMENT_BAD_SIGNATURE"} 1');
  });

  it('trust - a request with hundreds of refused enrollments logs a bounded number of lines', async () => {
    dir = await makeTempDir('tillgate-trust-');
    cloud = await makeTestCloud(dir);
    const many = Array.from({ length: 300 }, (_, i) => ({ ...enrollmentOf(`t-${i}`, alice), endorsement: undefined }));
    expect((await postIngest(cloud.app, ingestBody(GW1, [], many))).status).toBe(200);
    expect(cloud.logs.filter((l) => l.includes('enrollment')).length).toBeLessThanOrEqual(11);
    expect(await (await cloud.app.request('/metrics')).text()).toContain('tillgate_cloud_enrollments_refused_total{reason="ENDORSEMENT_MISSING"} 300');
  });
});

describe('cloud trust configuration', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await removeDir(dir);
    dir = undefined;
  });

  it('trust - startCloud refuses to start without provisioning keys, and with both trust options, with CONFIG_INVALID', async () => {
    dir = await makeTempDir('tillgate-trust-');
    const base = { dataDir: join(dir, 'c'), host: '127.0.0.1', httpPort: 0 };
    await expect(startCloud(base)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('provisioningKeys') as unknown });
    await expect(startCloud({ ...base, provisioningKeys: [TEST_PROVISIONING_PUBLIC_KEY], trustGatewayEnrollments: true })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(startCloud({ ...base, provisioningKeys: ['not-a-key'] })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('trust - tillgate cloud without provisioning keys exits 2 and names the option', async () => {
    dir = await makeTempDir('tillgate-trust-');
    const err = await spawnTillgate(['cloud', '--data-dir', dir, '--host', '127.0.0.1', '--http-port', '0', '--gateways', `g-1:s-1:${GW1.token}`], { readyKind: 'cloud' }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/exited \(2\)/);
    expect(err?.message).toContain('--provisioning-keys');
  });

  it('trust - --trust-gateway-enrollments starts, but warns at start, on /healthz and /readyz, and in a metric', async () => {
    dir = await makeTempDir('tillgate-trust-');
    const logs: string[] = [];
    const cloud = await startCloud(
      { dataDir: join(dir, 'c'), host: '127.0.0.1', httpPort: 0, adminToken: ADMIN, trustGatewayEnrollments: true },
      { logger: createLogger({ level: 'info', write: (l) => logs.push(l) }) },
    );
    try {
      expect(logs.some((l) => l.includes('"level":"warn"') && l.includes(TRUST_GATEWAY_WARNING.code))).toBe(true);
      for (const path of ['/healthz', '/readyz']) {
        const res = await fetch(`${cloud.url}${path}`);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ enrollmentTrust: 'gateway', warnings: [{ code: 'TRUST_GATEWAY_ENROLLMENTS' }] });
      }
      expect(await (await fetch(`${cloud.url}/metrics`)).text()).toContain('tillgate_cloud_trust_gateway_enrollments 1');
    } finally {
      await cloud.close();
    }
  });

  it('trust - with provisioning keys the health output names their kids and carries no warning', async () => {
    dir = await makeTempDir('tillgate-trust-');
    const cloud = await startCloud({ dataDir: join(dir, 'c'), host: '127.0.0.1', httpPort: 0, provisioningKeys: [TEST_PROVISIONING_PUBLIC_KEY], logLevel: 'silent' });
    try {
      const body = (await (await fetch(`${cloud.url}/healthz`)).json()) as Record<string, unknown>;
      expect(body).toEqual({ status: 'ok', enrollmentTrust: 'provisioning-keys', provisioningKeys: [TEST_PROVISIONING.kid] });
      const metrics = await (await fetch(`${cloud.url}/metrics`)).text();
      expect(metrics).toContain('tillgate_cloud_trust_gateway_enrollments 0');
      expect(metrics).toContain('tillgate_cloud_provisioning_keys 1');
    } finally {
      await cloud.close();
    }
  });
});
