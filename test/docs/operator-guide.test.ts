/**
 * Keeps docs/operator-guide.md true: it lists every code the status page headline, the storage
 * check and the gateway's and forwarder's log alarms can raise (read from the code itself), and
 * every test it names as the proof of a procedure exists. The README links the guide.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROBLEM_CODES } from '../../gateway/status-page/headline.js';
import { INTEGRITY_CODES } from '../../gateway/integrity.js';

const guide = readFileSync('docs/operator-guide.md', 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** `alarm: 'CODE'` and `#alarm('CODE'` in the gateway's and cloud's sources. */
function alarmCodesInCode(): string[] {
  const codes = new Set<string>();
  for (const file of [...sources('gateway'), ...sources('cloud-bridge')]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/alarm: '([A-Z][A-Z0-9_]+)'|#alarm\('([A-Z][A-Z0-9_]+)'/g)) codes.add((m[1] ?? m[2])!);
  }
  return [...codes].sort();
}

describe('operator guide', () => {
  it('guide - names every status page problem, storage integrity code and log alarm the gateway raises, with what to do', () => {
    const codes = [...Object.values(PROBLEM_CODES), ...Object.values(INTEGRITY_CODES), ...alarmCodesInCode(), 'UNKNOWN_STATUS', 'LEDGER_CORRUPT'];
    expect(alarmCodesInCode().length).toBeGreaterThanOrEqual(4);
    expect(codes.filter((c) => !guide.includes(`\`${c}\``))).toEqual([]);
  });

  it('guide - every test it names as a proof exists, and the README links it', () => {
    const named = [...new Set([...guide.matchAll(/`(test\/[\w./-]+\.ts)`/g)].map((m) => m[1]!))];
    expect(named.length).toBeGreaterThanOrEqual(10);
    expect(named.filter((p) => !existsSync(p))).toEqual([]);
    expect(readFileSync('README.md', 'utf8')).toContain('(docs/operator-guide.md)');
  });
});
