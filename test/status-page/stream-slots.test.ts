/**
 * Live-stream slots of the status page on a real gateway's HTTP server: viewers without credentials
 * from several hosts (127.0.0.2–9) try to hold every stream; each host gets at most its per-address
 * share, all of them together never the share kept for viewers with credentials, and a viewer with
 * the admin token still gets a live stream. Every stream is closed at the end.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { within } from '../support/wait.js';
import { ADMIN_TOKEN, startTestGateway, stopTestGateway, type TestGateway } from '../gateway/support.js';

let t: TestGateway | undefined;
const open: ClientRequest[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) r.destroy();
  await stopTestGateway(t);
  t = undefined;
});

/** Opens `GET /api/status/stream` from `localAddress`; resolves with the status (the stream stays open). */
function openStream(port: number, localAddress: string, headers: Record<string, string> = {}): Promise<number> {
  return within(
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/status/stream', localAddress, headers }, (res: IncomingMessage) => {
        resolve(res.statusCode ?? 0);
        res.on('data', () => undefined);
        res.on('error', () => undefined);
      });
      req.on('error', reject);
      open.push(req);
      req.end();
    }),
    10_000,
    `stream from ${localAddress}`,
  );
}

describe('status page stream slots', () => {
  it('stream slots - hosts without credentials cannot take every live stream; a viewer with the token still gets one', async () => {
    t = await startTestGateway();
    const port = t.gw.httpPort;
    const max = t.gw.options.statusMaxStreams;
    const perAddress = t.gw.options.statusMaxStreamsPerAddress;
    const byHost = new Map<string, number>();
    for (let host = 2; host <= 9; host++) {
      const address = `127.0.0.${host}`;
      for (let i = 0; i < max; i++) {
        if ((await openStream(port, address)) === 200) byHost.set(address, (byHost.get(address) ?? 0) + 1);
      }
    }
    const anonymous = [...byHost.values()].reduce((a, b) => a + b, 0);
    expect(Math.max(...byHost.values())).toBeLessThanOrEqual(perAddress);
    expect(anonymous).toBeLessThan(max);
    // The technician with credentials gets a live stream, as many as are kept for them.
    const withToken = { authorization: `Bearer ${ADMIN_TOKEN}` };
    for (let i = anonymous; i < max; i++) expect(await openStream(port, '127.0.0.1', withToken)).toBe(200);
    expect(await openStream(port, '127.0.0.1', withToken)).toBe(503);
  });
});
