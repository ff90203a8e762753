import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { signEvent } from '../../protocol/jws.js';
import { chainHash } from '../../protocol/chain.js';
import { samplePayload } from '../support/events.js';
import { connectTerminal, endClient, enroll, publishEvent, startTestGateway, stopTestGateway, type TestGateway } from './support.js';

const AMOUNT = 987_654;
const TOKEN = 'tok_at_rest_5f1e2d';

/** What someone who took the disk reads: every file of the data directory but the key file. */
function rawFiles(dir: string): Buffer {
  return Buffer.concat(
    readdirSync(dir)
      .filter((f) => f !== 'data-key.json' && statSync(join(dir, f)).isFile())
      .map((f) => readFileSync(join(dir, f))),
  );
}

describe('gateway encryption at rest', () => {
  let t: TestGateway | undefined;
  afterEach(async () => {
    await stopTestGateway(t);
    t = undefined;
  });

  it('gateway at rest - events received over MQTT leave no JWS, amount or card token in the raw LevelDB files, and read back after a restart', async () => {
    t = await startTestGateway();
    const e = await enroll(t.gw, 't-1');
    const client = await connectTerminal(t.gw, 't-1', e.password);
    const jwss: string[] = [];
    let prev = '';
    for (let seq = 1; seq <= 40; seq++) {
      const jws = await signEvent(samplePayload('s-1', 't-1', seq, prev, { amount: AMOUNT, card: { brand: 'visa', last4: '4242', token: TOKEN } }), e.signer);
      await publishEvent(client, 't-1', jws);
      jwss.push(jws);
      prev = chainHash(jws);
    }
    await endClient(client);
    const dataDir = t.dataDir;
    await t.gw.close();

    const raw = rawFiles(dataDir);
    expect(raw.length).toBeGreaterThan(4_000);
    // The payload part of each JWS (base64url: the token and amount are inside it), the amount
    // copied beside it for the backlog figures, and the card token in clear.
    for (const jws of jwss) expect(raw.includes(Buffer.from((jws.split('.')[1] as string).slice(0, 32)))).toBe(false);
    expect(raw.includes(Buffer.from(String(AMOUNT)))).toBe(false);
    expect(raw.includes(Buffer.from(TOKEN))).toBe(false);
    expect(raw.includes(Buffer.from('"currency"'))).toBe(false);

    t = await startTestGateway({ dataDir });
    expect(t.gw.statusSources.eventStore.head('t-1').seq).toBe(40);
    expect((await t.gw.statusSources.eventStore.getEvent('t-1', 17))?.jws).toBe(jwss[16]);
  });
});
