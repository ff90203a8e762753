/**
 * A stand-in cloud-bridge for the status page's browser test: a real HTTP server on 127.0.0.1
 * port 0 speaking DESIGN §3.4 (`POST /v1/ingest`, `GET /healthz`), accepting every event, with one
 * injected fault: refuse the next event of a chosen terminal (to make a dead letter, which a
 * well-behaved gateway cannot provoke from the real cloud), and going unreachable (every connection
 * reset, as when the store's internet line is down) until brought back.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IngestResult } from '../../protocol/ingest-api.js';
import type { RejectCode } from '../../protocol/errors.js';

/** Biggest request body read: the forwarder's default batch bytes plus JSON overhead. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface FakeCloud {
  readonly url: string;
  readonly token: string;
  /** Events accepted so far. */
  readonly accepted: () => number;
  /** Refuses the next event of `terminal` with `code` (once). */
  refuseNext(terminal: string, code: RejectCode): void;
  /** While true every request's connection is reset: to the gateway the internet is down. */
  setUnreachable(unreachable: boolean): void;
  close(): Promise<void>;
}

function terminalAndSeq(jws: string): { terminal: string | null; seq: number | null } {
  try {
    const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { terminal?: unknown; seq?: unknown };
    return { terminal: typeof payload.terminal === 'string' ? payload.terminal : null, seq: typeof payload.seq === 'number' ? payload.seq : null };
  } catch {
    return { terminal: null, seq: null };
  }
}

export async function startFakeCloud(token = 'cloud-token-for-tests'): Promise<FakeCloud> {
  let accepted = 0;
  const refuse = new Map<string, RejectCode>();
  let unreachable = false;
  const server: Server = createServer((req, res) => {
    if (unreachable) {
      req.socket.destroy();
      return;
    }
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/ingest' || req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(req.url === '/v1/ingest' ? 401 : 404, { 'content-type': 'application/json' }).end('{"error":{"code":"NOPE","message":"no"}}');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: string[] };
      const results: IngestResult[] = body.events.map((jws) => {
        const { terminal, seq } = terminalAndSeq(jws);
        const code = terminal === null ? undefined : refuse.get(terminal);
        if (terminal !== null && code !== undefined) {
          refuse.delete(terminal);
          return { terminal, seq, status: 'rejected', code };
        }
        accepted++;
        return { terminal, seq, status: 'accepted' };
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    accepted: () => accepted,
    refuseNext: (terminal, code) => refuse.set(terminal, code),
    setUnreachable: (value) => {
      unreachable = value;
      if (value) server.closeAllConnections();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
