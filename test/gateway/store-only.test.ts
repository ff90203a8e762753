/**
 * A gateway told to keep payments locally only (`--store-only`) starts with a cloud URL and no
 * token, never forwards, says so on /api/status and in the page's words, and sends no `cloud` in its
 * acks; without `--store-only` the same options are refused at start with the option named.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hasCode } from '../../protocol/errors.js';
import { startTestGateway, stopTestGateway, type TestGateway } from './support.js';

let t: TestGateway | undefined;
afterEach(async () => {
  await stopTestGateway(t);
  t = undefined;
});

describe('store only', () => {
  it('store only - a cloud URL without a token is refused at start unless --store-only, which keeps payments here and says so', async () => {
    const refused = await startTestGateway({ cloudUrl: 'http://127.0.0.1:9' }).then(() => undefined, (e: unknown) => e);
    expect(hasCode(refused, 'CONFIG_INVALID')).toBe(true);
    expect(String((refused as Error).message)).toContain('cloudToken');
    t = await startTestGateway({ cloudUrl: 'http://127.0.0.1:9', storeOnly: true });
    const status = (await (await t.gw.app.request('/api/status')).json()) as { forwarding: string; restore: unknown };
    expect(status).toMatchObject({ forwarding: 'store-only', restore: null });
    const page = await (await t.gw.app.request('/')).text();
    expect(page).toContain('store only: nothing is sent to a cloud');
    expect((await t.gw.app.request('/api/forwarder')).status).toBe(404);
  });
});
