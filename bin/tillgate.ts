#!/usr/bin/env node
/**
 * The one `tillgate` executable (DESIGN §3.5). Each subcommand lives with its program; this file
 * only dispatches. Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
 */
import { hasCode } from '../protocol/errors.js';

const USAGE = `usage: tillgate <command> [options]   (tillgate <command> --help for its options)

  start       the whole system on this machine: cloud-bridge, gateway and simulated terminals
  gateway     the store gateway: MQTT broker, durable ingest, forwarder, status page
  cloud       the cloud-bridge: ingest API and exactly-once ledger
  terminal    init | run | set-aside: create a device key; run the terminal agent; export refused events
  simulate    many simulated terminals with a rate, a duration and fault patterns
  enroll      enroll a terminal's public key at a gateway, with its endorsement; prints the MQTT password
  provision   init | endorse: create the operator's provisioning key; endorse a terminal key
  data-key    init | rotate | retire | show: the data keys of encryption at rest
  psp-sim     a simulated PSP: authorises terminal payments, sends Adyen-format webhooks, answers status queries
  predict     replay | train | eval | simulate: failure prediction on health data (DESIGN §3.7)
`;

type Main = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Main>> = {
  start: async () => (await import('./start.js')).main,
  gateway: async () => (await import('../gateway/cli.js')).main,
  cloud: async () => (await import('../cloud-bridge/cli.js')).main,
  terminal: async () => (await import('../terminal-agent/cli.js')).terminalMain,
  simulate: async () => (await import('../terminal-agent/cli.js')).simulateMain,
  predict: async () => (await import('../gateway/predict/cli.js')).main,
  enroll: async () => (await import('../terminal-agent/cli.js')).enrollMain,
  'data-key': async () => (await import('./data-key.js')).main,
  provision: async () => (await import('../provision/cli.js')).main,
  'psp-sim': async () => (await import('../psp-sim/cli.js')).main,
};

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  const load = COMMANDS[command];
  if (load === undefined) {
    process.stderr.write(`tillgate: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  return (await load())(rest);
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (hasCode(err, 'CONFIG_INVALID')) {
      process.stderr.write(`tillgate: ${(err as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    const e = err as { code?: unknown; message?: unknown };
    process.stderr.write(`tillgate: ${String(e.code ?? 'ERROR')}: ${String(e.message ?? err)}\n`);
    process.exitCode = 1;
  },
);
