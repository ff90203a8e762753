/**
 * This release's version, from the package's own package.json (`tillgate --version`, backups,
 * build info). Found by walking up from this file, so it works from the sources and from dist/.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Levels walked up from this file: lib/ (sources) or dist/lib/ (built). */
const MAX_LEVELS_UP = 4;

let cached: string | undefined;

export function tillgateVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i <= MAX_LEVELS_UP; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'tillgate' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // not here: one level up
    }
  }
  return (cached = 'unknown');
}
