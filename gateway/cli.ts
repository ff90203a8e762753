/**
 * `tillgate gateway` (DESIGN §3.5), and `tillgate gateway backup|restore`: options from flags, `TILLGATE_*` env vars and a config file
 * (one parse step, lib/config.ts), one ready JSON line on stdout, logs on stderr, graceful shutdown
 * on SIGTERM/SIGINT (exit 0).
 */
import { namingOption } from '../lib/cli-failure.js';
import { helpText, loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { untilStopSignal } from '../lib/signals.js';
import { GATEWAY_OPTION_SPECS, gatewayOptionsSchema } from './config.js';
import { startGateway } from './index.js';

export async function main(argv: string[]): Promise<number> {
  // `tillgate gateway backup|restore` (gateway/backup/cli.ts).
  if (argv[0] === 'backup') return (await import('./backup/cli.js')).backupMain(argv.slice(1));
  if (argv[0] === 'restore') return (await import('./backup/cli.js')).restoreMain(argv.slice(1));
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText('gateway', GATEWAY_OPTION_SPECS));
    return 0;
  }
  const options = loadConfig(gatewayOptionsSchema, GATEWAY_OPTION_SPECS, { argv, env: process.env });
  const logger = createLogger({ level: options.logLevel, bindings: { program: 'gateway', gateway: options.gatewayId } });
  const gateway = await namingOption(GATEWAY_OPTION_SPECS, () => startGateway(options, { logger }));
  // Listen for SIGTERM before saying ready: a supervisor (or a test) that stops us the moment it
  // reads the ready line must get a graceful shutdown, not Node's default of dying on the spot.
  const stopped = untilStopSignal();
  process.stdout.write(
    JSON.stringify({ ready: 'gateway', mqttPort: gateway.mqttPort, mqttTlsPort: gateway.mqttTlsPort, httpPort: gateway.httpPort, httpUrl: gateway.httpUrl }) + '\n',
  );
  const signal = await stopped;
  logger.info('shutting down', { signal });
  await gateway.close();
  return 0;
}
