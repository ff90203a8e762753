/**
 * The real `tillgate cloud` as a child process (compiled dist/: `npm run build` first) on 127.0.0.1
 * and an ephemeral port. A thin wrapper over test/support/tillgate-process.ts that only adds the
 * listen flags and the typed ready fields.
 */
import { TEST_PROVISIONING_PUBLIC_KEY } from '../support/provisioning.js';
import { readyNumber, readyString, spawnTillgate, type TillgateProcess } from '../support/tillgate-process.js';

/** The cloud starts faster than a gateway (no broker): a slow start is worth failing early. */
const CLOUD_READY_TIMEOUT_MS = 10_000;

export interface CloudProcess extends TillgateProcess {
  readonly url: string;
  readonly httpPort: number;
}

/**
 * Starts `tillgate cloud ...args`; `args` come last, so they override the defaults. It trusts the
 * test provisioning key unless `args` configure trust themselves.
 */
export async function spawnCloud(args: readonly string[], timeoutMs = CLOUD_READY_TIMEOUT_MS): Promise<CloudProcess> {
  const trust = args.includes('--provisioning-keys') || args.includes('--trust-gateway-enrollments') ? [] : ['--provisioning-keys', TEST_PROVISIONING_PUBLIC_KEY];
  const p = await spawnTillgate(
    ['cloud', '--host', '127.0.0.1', '--http-port', '0', '--log-level', 'warn', ...trust, ...args],
    { readyKind: 'cloud', timeoutMs },
  );
  return { ...p, url: readyString(p, 'url'), httpPort: readyNumber(p, 'httpPort') };
}
