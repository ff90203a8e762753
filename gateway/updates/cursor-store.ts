/**
 * Where the gateway keeps its place in the cloud's updates feed (a storage edge is an
 * interface). The file implementation writes a temp file, fsyncs it and renames it over the old one,
 * so a crash leaves either cursor whole. Losing a cursor only re-publishes updates the terminals
 * already have (they keep the latest state per payment): at least once, never a gap.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { updatesCursorSchema } from '../../protocol/payments.js';

export interface UpdatesCursorStore {
  /** The saved cursor, "0" when there is none. */
  load(): Promise<string>;
  save(cursor: string): Promise<void>;
}

export class FileCursorStore implements UpdatesCursorStore {
  constructor(private readonly path: string) {}

  async load(): Promise<string> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return '0';
      throw err;
    }
    const cursor = (JSON.parse(text) as { cursor?: unknown }).cursor;
    // Read-back check: a damaged file restarts from the beginning (at least once).
    return updatesCursorSchema.safeParse(cursor).success ? (cursor as string) : '0';
  }

  async save(cursor: string): Promise<void> {
    if (!updatesCursorSchema.safeParse(cursor).success) throw new TypeError('not an updates cursor');
    const tmp = `${this.path}.tmp`;
    const file = await open(tmp, 'w', 0o600);
    try {
      await file.writeFile(JSON.stringify({ cursor }));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.path);
    const dir = await open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
