/**
 * The running gateway hands out a consistent copy of its store (snapshot.ts) two ways:
 * - on a Unix socket in its data directory (`admin.sock`, mode 0600): whoever may read the data
 *   directory may copy it, with no token; `tillgate gateway backup --data-dir D` uses it;
 * - `GET /api/backup` with the admin bearer token, for a backup taken from another machine
 *   (`tillgate gateway backup --gateway-url U --admin-token-file F`).
 * Either answers the snapshot stream; a copy cut short has no trailer and is refused when written.
 */
import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ClassicLevel } from 'classic-level';
import type { Hono } from 'hono';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { requireAdmin } from '../http/admin-auth.js';
import { snapshotLines } from './snapshot.js';

export const ADMIN_SOCKET_FILE = 'admin.sock';
/** Linux limits a socket path to 107 bytes (sun_path): longer data directories get no socket. */
const MAX_SOCKET_PATH_BYTES = 100;
export const BACKUP_CONTENT_TYPE = 'application/x-ndjson';

type Db = ClassicLevel<string, unknown>;

const takenAt = (clock: Clock) => new Date(clock.now()).toISOString();

/** `GET /api/backup` (admin): mount before the server answers its first request. */
export function mountBackupRoute(app: Hono, deps: { adminToken: string; db: Db; clock: Clock }): void {
  app.get('/api/backup', requireAdmin(deps.adminToken), () => {
    const body = Readable.toWeb(Readable.from(snapshotLines(deps.db, takenAt(deps.clock)))) as ReadableStream<Uint8Array>;
    return new Response(body, { status: 200, headers: { 'content-type': BACKUP_CONTENT_TYPE, 'cache-control': 'no-store' } });
  });
}

export interface AdminSocket {
  readonly path: string;
  close(): Promise<void>;
}

/** Serves `GET /backup` on DATA_DIR/admin.sock (0600); null when the path is too long for a socket. */
export async function startAdminSocket(dataDir: string, deps: { db: Db; clock: Clock; logger: Logger }): Promise<AdminSocket | null> {
  const path = join(dataDir, ADMIN_SOCKET_FILE);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    deps.logger.warn('the data directory path is too long for the admin socket: take backups with --gateway-url and the admin token', { path });
    return null;
  }
  // Only one gateway can hold the store's lock, so a socket file left here is a dead one's.
  await rm(path, { force: true });
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/backup') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NOT_FOUND","message":"GET /backup only"}}');
      return;
    }
    res.writeHead(200, { 'content-type': BACKUP_CONTENT_TYPE });
    const stream = Readable.from(snapshotLines(deps.db, takenAt(deps.clock)));
    stream.on('error', (err) => {
      deps.logger.warn('backup copy failed; the copy is cut short and will be refused', { err });
      res.destroy(err);
    });
    stream.pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
