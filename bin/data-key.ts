/**
 * `tillgate data-key init|rotate|retire|show --key-file FILE`: the operator's tool for the data keys
 * of encryption at rest (lib/at-rest). Prints JSON; never prints a key.
 *
 * Rotation: `rotate` adds a fresh key and makes it current; restart the program, which re-seals its
 * stored values in the background (its status shows `keysInUse`); once only the new key is in use,
 * `retire --key OLD` removes the old one from the file.
 */
import { z } from 'zod';
import { usageError } from '../lib/cli-failure.js';
import { helpText, loadConfig, optionError, type OptionSpecs } from '../lib/config.js';
import { describeKeyFile, initKeyFile, retireKey, rotateKeyFile } from '../lib/at-rest/key-provider.js';

const specs: OptionSpecs = {
  keyFile: { type: 'string', doc: 'the data key file (JSON, mode 0600)' },
  key: { type: 'string', doc: 'retire: the id of the key to remove (never the current one)' },
};
const schema = z.object({ keyFile: z.string().min(1), key: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional() });

const USAGE = `usage: tillgate data-key <init|rotate|retire|show> --key-file FILE [--key ID]

  init     create a key file with one fresh key (refuses to overwrite)
  rotate   add a fresh key and make it current; restart the program to re-seal its data
  retire   remove an old key once the program reports it is no longer in use (--key ID)
  show     list the key ids and their creation times (never the keys)
`;

export async function main(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(USAGE + helpText('data-key <action>', specs));
    return action === undefined ? 2 : 0;
  }
  const o = loadConfig(schema, specs, { argv: rest, env: process.env });
  const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  switch (action) {
    case 'init':
      print({ keyFile: o.keyFile, current: initKeyFile(o.keyFile) });
      return 0;
    case 'rotate':
      print({ keyFile: o.keyFile, ...rotateKeyFile(o.keyFile), next: 'restart the program: it re-seals stored values in the background' });
      return 0;
    case 'retire':
      if (o.key === undefined) throw optionError('CONFIG_INVALID', 'key', 'retire needs the id of the key to remove');
      retireKey(o.keyFile, o.key);
      print({ keyFile: o.keyFile, retired: o.key });
      return 0;
    case 'show':
      print({ keyFile: o.keyFile, ...describeKeyFile(o.keyFile) });
      return 0;
    default:
      throw usageError(`unknown action "${action}" (tillgate data-key init|rotate|retire|show; --help for the options)`);
  }
}
