/**
 * The real `tillgate gateway` as a child process (compiled dist/): started on
 * 127.0.0.1 and ephemeral ports in the given data dir, with the test store, gateway id and admin
 * token of test/gateway/support.ts. A thin wrapper over test/support/tillgate-process.ts that only
 * adds those flags and the typed ready fields; stop with `stop()` (SIGTERM) or `kill9()`.
 */
import { readyNumber, readyString, spawnTillgate, type TillgateProcess } from '../support/tillgate-process.js';
import { ADMIN_TOKEN, STORE } from './support.js';

export interface GatewayProcess extends TillgateProcess {
  readonly mqttPort: number;
  readonly httpUrl: string;
}

/** Starts `tillgate gateway` on `dataDir`; `extraArgs` come last, so they override the defaults. */
export async function spawnGateway(dataDir: string, extraArgs: readonly string[] = []): Promise<GatewayProcess> {
  const p = await spawnTillgate(
    ['gateway', '--data-dir', dataDir, '--store', STORE, '--gateway-id', 'g-1', '--admin-token', ADMIN_TOKEN,
      '--host', '127.0.0.1', '--mqtt-port', '0', '--http-port', '0', '--log-level', 'warn', ...extraArgs],
    { readyKind: 'gateway' },
  );
  return { ...p, mqttPort: readyNumber(p, 'mqttPort'), httpUrl: readyString(p, 'httpUrl') };
}
