/**
 * `tillgate cloud` (DESIGN §3.5): parses flags/env/config through one schema, starts the
 * cloud-bridge, prints one ready line on STDOUT, shuts down gracefully on SIGTERM/SIGINT (exit 0).
 */
import { namingOption } from '../lib/cli-failure.js';
import { helpText, loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { untilStopSignal } from '../lib/signals.js';
import { cloudOptionSpecs, cloudOptionsSchema } from './options.js';
import { startCloud } from './index.js';

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText('cloud', cloudOptionSpecs));
    return 0;
  }
  const options = loadConfig(cloudOptionsSchema, cloudOptionSpecs, { argv, env: process.env });
  const logger = createLogger({ level: options.logLevel, bindings: { program: 'tillgate-cloud' } });
  const cloud = await namingOption(cloudOptionSpecs, () => startCloud(options, { logger }));
  process.stdout.write(`${JSON.stringify({ ready: 'cloud', httpPort: cloud.httpPort, url: cloud.url })}\n`);
  const signal = await untilStopSignal();
  logger.info('shutting down', { signal });
  await cloud.close();
  return 0;
}
