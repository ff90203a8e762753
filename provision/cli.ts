/**
 * `tillgate provision init|endorse` (DESIGN §3.1, §3.5): the operator's side of the trust anchor.
 * `init` creates the provisioning key and prints its public key and kid (what the cloud's
 * `--provisioning-keys` takes), never the private key; `endorse` signs a terminal key's
 * endorsement. Both print one JSON line on stdout.
 */
import { join } from 'node:path';
import { usageError } from '../lib/cli-failure.js';
import { helpText, loadConfig, type OptionSpecs } from '../lib/config.js';
import { systemClock } from '../lib/clock.js';
import { createKeyFile, loadKeyFile } from '../lib/ed25519-key-file.js';
import { ENDORSEMENT_FILE } from '../terminal-agent/terminal-dir.js';
import { endorseKey, endorseTerminalDir } from './endorse.js';
import { provisionEndorseSchema, provisionEndorseSpecs, provisionInitSchema, provisionInitSpecs } from './options.js';

const USAGE = `usage: tillgate provision <init|endorse> [options]

  init      create the operator's provisioning key (Ed25519, PKCS#8 PEM, mode 0600; never
            overwrites) and print its public key and kid: give the public key to the cloud's
            --provisioning-keys. Keep the key file offline; it is what makes the cloud trust a terminal.
  endorse   endorse a terminal's public key for its store and terminal: with --dir, the key of that
            terminal directory (the endorsement is written to DIR/${ENDORSEMENT_FILE}, where
            \`tillgate enroll --dir\` finds it); or with --store, --terminal and --public-key (printed).

`;

const print = (value: unknown) => process.stdout.write(JSON.stringify(value) + '\n');
const wantsHelp = (argv: readonly string[]) => argv.includes('--help') || argv.includes('-h');

function help(command: string, specs: OptionSpecs): string {
  return helpText(command, specs);
}

/** The whole help of `tillgate provision --help`: both subcommands and every option. */
export function provisionHelp(): string {
  return `${USAGE}${help('provision init', provisionInitSpecs)}\n${help('provision endorse', provisionEndorseSpecs)}`;
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(provisionHelp());
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'init') return wantsHelp(rest) ? (process.stdout.write(help('provision init', provisionInitSpecs)), 0) : init(rest);
  if (sub === 'endorse') return wantsHelp(rest) ? (process.stdout.write(help('provision endorse', provisionEndorseSpecs)), 0) : endorse(rest);
  throw usageError(`unknown subcommand "${sub}" (tillgate provision init|endorse; --help for the options)`);
}

async function init(argv: string[]): Promise<number> {
  const o = loadConfig(provisionInitSchema, provisionInitSpecs, { argv, env: process.env });
  const signer = await createKeyFile(o.provisioningKeyFile);
  print({ provisioningKeyFile: o.provisioningKeyFile, kid: signer.kid, publicKey: signer.publicKeyRaw.toString('base64url') });
  return 0;
}

async function endorse(argv: string[]): Promise<number> {
  const o = loadConfig(provisionEndorseSchema, provisionEndorseSpecs, { argv, env: process.env });
  const issuer = await loadKeyFile(o.provisioningKeyFile);
  if (o.dir !== undefined) {
    const endorsed = await endorseTerminalDir(issuer, o.dir, systemClock);
    print({ ...endorsed, issuer: issuer.kid, file: join(o.dir, ENDORSEMENT_FILE) });
    return 0;
  }
  // The schema guarantees all three when --dir is absent.
  const subject = { store: o.store ?? '', terminal: o.terminal ?? '', publicKey: o.publicKey ?? '' };
  print({ ...(await endorseKey(issuer, subject, systemClock)), issuer: issuer.kid });
  return 0;
}
