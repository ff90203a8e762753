#!/usr/bin/env node
/**
 * The one `tillgate` executable (DESIGN §3.5). Each subcommand lives with its program; this file
 * only dispatches. Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { hasCode } from '../protocol/errors.js';

const USAGE = `usage: tillgate <command> [options]   (tillgate <command> --help for its options)

  start       the whole system on this machine: cloud-bridge, gateway and simulated terminals
  gateway     the store gateway: MQTT broker, durable ingest, forwarder, status page
  cloud       the cloud-bridge: ingest API and exactly-once ledger
  terminal    init | run: create a device key; run the terminal agent against a gateway
  simulate    many simulated terminals with a rate, a duration and fault patterns
  enroll      enroll a terminal's public key at a gateway; prints the MQTT password
`;

/**
 * V8 heap bounds of the gateway (issue 4: RSS < 150 MB while a 1M backlog drains). The drain keeps
 * ~2 batches of events alive per round trip and allocates fast, and V8's defaults size the heap for
 * speed: young generation up to 16 MiB semi-spaces (32 MiB resident), old generation allowed to grow
 * to several times its live size before a full GC. Both apply to the gateway only.
 *
 * - Young generation capped at 4 MiB semi-spaces. `--max-semi-space-size` only counts when the heap
 *   is created (set here it measured no effect on Node 20), so growth is stopped instead: V8 doubles
 *   the semi-spaces by `--semi-space-growth-factor` at a scavenge and reads the flag at each step;
 *   after each GC the size is checked and at the cap the factor becomes 1. Creating a worker
 *   isolate resets the factor to 2 (V8 clamps it), which the next check undoes.
 * - Old generation may grow to twice its live size before the next full GC (`--heap-growing-percent`
 *   100, read at each limit computation; V8 otherwise picks up to 4x when GC is fast). Without it
 *   the smaller young generation only moved garbage into the old one (old space peaked at 60 MB).
 *   25 % held the drain lower (RssAnon 58-62 MB) but cost ingest ~20 % and doubled its PUBACK p99.
 * Measured (one run each, bench drain 100k / bench ingest): gateway VmHWM 170 -> 145 MB, RssAnon
 * 102 -> 67 MB; ingest 10 / 50 terminals 7,248 / 7,569 -> 6,263 / 7,374 events/s, p99 9.2 -> 11.4 ms.
 */
const GATEWAY_YOUNG_GENERATION_MAX_BYTES = 8 * 1024 * 1024;
const GATEWAY_HEAP_GROWING_PERCENT = 100;

function boundGatewayHeap(): void {
  setFlagsFromString(`--heap-growing-percent=${GATEWAY_HEAP_GROWING_PERCENT}`);
  const check = () => {
    const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    if (young !== undefined && young.space_size >= GATEWAY_YOUNG_GENERATION_MAX_BYTES) setFlagsFromString('--semi-space-growth-factor=1');
  };
  new PerformanceObserver(check).observe({ entryTypes: ['gc'] });
}

type Main = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Main>> = {
  start: async () => (await import('./start.js')).main,
  gateway: async () => (await import('../gateway/cli.js')).main,
  cloud: async () => (await import('../cloud-bridge/cli.js')).main,
  terminal: async () => (await import('../terminal-agent/cli.js')).terminalMain,
  simulate: async () => (await import('../terminal-agent/cli.js')).simulateMain,
  enroll: async () => (await import('../terminal-agent/cli.js')).enrollMain,
};

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'gateway') boundGatewayHeap();
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
