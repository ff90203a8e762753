/**
 * Rotating a gateway's cloud token without a moment where the gateway is refused: the cloud lists
 * the gateway twice, with the old and the new token, and accepts both until the old entry goes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cloudOptionsSchema } from '../../cloud-bridge/options.js';
import { TEST_PROVISIONING_PUBLIC_KEY } from '../support/provisioning.js';
import { signChain, testSigner } from '../support/events.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { ADMIN, enrollmentOf, GW1, ingestBody, makeTestCloud, postIngest, type TestCloud } from './helpers.js';

const NEW_TOKEN = 'the-new-token-of-gateway-one-after-rotation';
const alice = testSigner('rotation-alice');

describe('cloud token rotation', () => {
  let dir: string;
  let cloud: TestCloud;
  beforeEach(async () => {
    dir = await makeTempDir('tillgate-cloud-');
  });
  afterEach(async () => {
    await cloud?.ledger.close();
    await removeDir(dir);
  });

  it('cloud - a gateway listed twice with two tokens is accepted with either while its token is rotated', async () => {
    cloud = await makeTestCloud(dir, { gateways: [GW1, { ...GW1, token: NEW_TOKEN }] });
    const chain = await signChain(alice, 's-1', 't-1', 2);
    const first = await postIngest(cloud.app, ingestBody(GW1, [chain[0]!.jws], [enrollmentOf('t-1', alice)]), GW1.token);
    expect(first.status).toBe(200);
    const second = await postIngest(cloud.app, ingestBody(GW1, [chain[1]!.jws]), NEW_TOKEN);
    expect(second.status).toBe(200);
    expect(((await second.json()) as { results: { status: string }[] }).results.map((r) => r.status)).toEqual(['accepted']);
    expect((await cloud.ledger.head('s-1', 't-1')).seq).toBe(2);
    // The old entry removed: the old token is refused, the new one works.
    await cloud.ledger.close();
    cloud = await makeTestCloud(dir, { gateways: [{ ...GW1, token: NEW_TOKEN }] });
    expect((await postIngest(cloud.app, ingestBody(GW1, [chain[1]!.jws]), GW1.token)).status).toBe(401);
    expect((await postIngest(cloud.app, ingestBody(GW1, [chain[1]!.jws]), NEW_TOKEN)).status).toBe(200);
  });

  it('cloud - refuses a gateway listed for two stores, or more than twice, or two entries sharing a token', () => {
    const parse = (gateways: unknown[]) => cloudOptionsSchema.safeParse({ gateways, adminToken: ADMIN, provisioningKeys: [TEST_PROVISIONING_PUBLIC_KEY] }).success;
    expect(parse([GW1, { ...GW1, token: NEW_TOKEN }])).toBe(true);
    expect(parse([GW1, { ...GW1, store: 's-2', token: NEW_TOKEN }])).toBe(false);
    expect(parse([GW1, { ...GW1, token: NEW_TOKEN }, { ...GW1, token: `${NEW_TOKEN}-3` }])).toBe(false);
    expect(parse([GW1, { ...GW1, id: 'g-9' }])).toBe(false);
  });
});
