#!/usr/bin/env node
/**
 * The one `tillgate` executable (DESIGN §3.5). Each subcommand lives with its program; this file
 * only dispatches. Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error. Every
 * failure is one line on stderr, `tillgate <command>: <CODE>: <message>` (lib/cli-failure.ts).
 */
import { describeFailure, usageError } from '../lib/cli-failure.js';
import { tillgateVersion } from '../lib/version.js';

const USAGE = `usage: tillgate <command> [options]   (tillgate <command> --help for its options)

  start       the whole system on this machine: cloud-bridge, gateway and simulated terminals
  gateway     the store gateway: MQTT broker, durable ingest, forwarder, status page
              (gateway backup | restore: copy its store, put a copy back)
  cloud       the cloud-bridge: ingest API and exactly-once ledger
  terminal    init | run | set-aside | rotate-key: create a device key; run the terminal agent; export
              refused events; replace the device key
  simulate    many simulated terminals with a rate, a duration and fault patterns
  enroll      enroll a terminal's public key at a gateway, with its endorsement; writes the MQTT password to a 0600 file
  provision   init | endorse: create the operator's provisioning key; endorse a terminal key
  data-key    init | rotate | retire | show: the data keys of encryption at rest
  psp-sim     a simulated PSP: authorises terminal payments, sends Adyen-format webhooks, answers status queries
  predict     replay | train | eval | simulate: failure prediction on health data (DESIGN §3.7)

  --version   this release's version
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
  if (command === '--version' || command === '-V' || command === 'version') {
    process.stdout.write(`${tillgateVersion()}\n`);
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  const load = COMMANDS[command];
  if (load === undefined) throw usageError(`unknown command "${command}" (tillgate --help lists them)`);
  return (await load())(rest);
}

/** `gateway`, `terminal run`, `gateway backup`: how a failure names the command. */
function commandLabel(argv: readonly string[]): string {
  const [command, sub] = argv;
  if (command === undefined || COMMANDS[command] === undefined) return '';
  return sub !== undefined && /^[a-z][a-z-]*$/.test(sub) ? `${command} ${sub}` : command;
}

const argv = process.argv.slice(2);
run(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const { line, exitCode } = describeFailure(commandLabel(argv), err);
    process.stderr.write(line);
    process.exitCode = exitCode;
  },
);
