/**
 * `tillgate psp-sim` (DESIGN §3.5): parses flags/env/config through one schema, starts the simulated
 * PSP, prints one ready JSON line on stdout, stops gracefully on SIGTERM/SIGINT (exit 0).
 */
import { helpText, loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { untilStopSignal } from '../lib/signals.js';
import { PSP_SIM_OPTION_SPECS, pspSimOptionsSchema } from './options.js';
import { startPspSim } from './index.js';

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText('psp-sim', PSP_SIM_OPTION_SPECS));
    return 0;
  }
  const options = loadConfig(pspSimOptionsSchema, PSP_SIM_OPTION_SPECS, { argv, env: process.env });
  const logger = createLogger({ level: options.logLevel, bindings: { program: 'tillgate-psp-sim' } });
  const psp = await startPspSim(options, { logger });
  process.stdout.write(`${JSON.stringify({ ready: 'psp-sim', httpPort: psp.port, url: psp.url })}\n`);
  if (options.webhookUrl.length === 0) logger.warn('no --webhook-url: notifications are decided but sent nowhere');
  const signal = await untilStopSignal();
  logger.info('shutting down', { signal });
  await psp.close();
  return 0;
}
