/**
 * Keeps docs/wire-contract.md true: its reject codes, topics, commands and routes are checked
 * against the code and the running programs, so the document cannot drift from what is on the wire.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloud, type CloudHandle } from '../../cloud-bridge/index.js';
import { silentLogger } from '../../lib/logger.js';
import { REJECT_CODES, WIRE_CODE_PATTERN } from '../../protocol/errors.js';
import { TERMINAL_TOPIC_KINDS, topics } from '../../protocol/topics.js';
import { startTestGateway, stopTestGateway, type TestGateway } from '../gateway/support.js';
import { TEST_PROVISIONING_PUBLIC_KEY } from '../support/provisioning.js';
import { assertBuilt, TILLGATE_BIN } from '../support/tillgate-process.js';
import { makeTempDir, removeDir } from '../support/temp.js';

const DOC = readFileSync(join(process.cwd(), 'docs', 'wire-contract.md'), 'utf8');

/** The text of one `## 3.x` (or `## 4.`) section. */
function section(heading: string): string {
  const start = DOC.indexOf(`\n## ${heading}`);
  if (start === -1) throw new Error(`docs/wire-contract.md has no section ${heading}`);
  const next = DOC.indexOf('\n## ', start + 1);
  return DOC.slice(start, next === -1 ? undefined : next);
}

/** `GET /v1/x/{id}` mentions in a text, as [method, path without query]. */
function routesIn(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const m of text.matchAll(/`(GET|POST|PUT|DELETE) ((?:\{cloud\})?\/[^`?\s]*)/g)) out.push([m[1] as string, (m[2] as string).replace('{cloud}', '')]);
  return out;
}

/** `/a/:b/c` and `/a/{x}/c` both become `/a/:/c`. */
const shape = (path: string) => path.replace(/\{[^}]+\}|:[A-Za-z_]+/g, ':');

function registered(routes: readonly { method: string; path: string }[]): Set<string> {
  return new Set(routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${shape(r.path)}`));
}

describe('docs/wire-contract.md', () => {
  let gateway: TestGateway | undefined;
  let cloud: CloudHandle | undefined;
  let cloudDir = '';
  beforeAll(async () => {
    // Configured as a real store box is: with a cloud to forward to (its routes need one).
    gateway = await startTestGateway({ cloudUrl: 'http://127.0.0.1:9', cloudToken: 'contract-cloud-token-0123456789' });
    cloudDir = await makeTempDir('tillgate-contract-cloud-');
    cloud = await startCloud(
      { dataDir: cloudDir, host: '127.0.0.1', httpPort: 0, adminToken: 'contract-admin-token', provisioningKeys: [TEST_PROVISIONING_PUBLIC_KEY], pspHmacKey: '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056', logLevel: 'silent' },
      { logger: silentLogger },
    );
  });
  afterAll(async () => {
    await cloud?.close();
    await stopTestGateway(gateway);
    await removeDir(cloudDir);
  });

  it('wire contract - lists exactly the reject codes this version sends, each of the open-set form', () => {
    const line = /Reject codes: ([^\n]*(?:\n {2}[^\n]*)*)/.exec(section('3.3'))?.[1] ?? '';
    const listed = [...line.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]);
    expect(listed).toEqual([...REJECT_CODES]);
    for (const code of REJECT_CODES) expect(code).toMatch(WIRE_CODE_PATTERN);
  });

  it('wire contract - its MQTT topic table is the set of topics the protocol module builds', () => {
    const documented = [...section('3.3').matchAll(/^\| `P\/([^`]+)` \|/gm)].map((m) => `tillgate/v1/s-1/${(m[1] as string).replace('{terminal}', 't-1')}`);
    const built = [...TERMINAL_TOPIC_KINDS.map((k) => topics[k]('s-1', 't-1')), topics.gatewayStatus('s-1')];
    expect(new Set(documented)).toEqual(new Set(built));
  });

  it('wire contract - every command it lists is a command of the tillgate executable, and none is missing', () => {
    assertBuilt();
    const help = execFileSync(process.execPath, [TILLGATE_BIN, '--help'], { encoding: 'utf8' });
    const actual = new Set([...help.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1]));
    const documented = new Set([...section('3.5').matchAll(/`tillgate ([a-z][a-z-]*)/g)].map((m) => m[1]));
    expect(documented).toEqual(actual);
  });

  it('wire contract - every gateway route it documents is served by the gateway', () => {
    const served = registered(gateway!.gw.app.routes);
    const documented = routesIn(section('3.5')).filter(([, p]) => !p.startsWith('/v1/'));
    expect(documented.length).toBeGreaterThan(10);
    for (const [method, path] of documented) expect(served, `${method} ${path}`).toContain(`${method} ${shape(path)}`);
  });

  it('wire contract - every cloud route it documents is served by the cloud-bridge', () => {
    const served = registered(cloud!.app.routes);
    const documented = [...routesIn(section('3.4')), ...routesIn(section('3.6'))].filter(([, p]) => p.startsWith('/v1/') || p === '/');
    expect(documented.length).toBeGreaterThan(10);
    for (const [method, path] of documented) expect(served, `${method} ${path}`).toContain(`${method} ${shape(path)}`);
  });
});
