/** The LevelDB outbox passes the outbox conformance suite (real LevelDB in a temp dir). */
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { join } from 'node:path';
import { LevelOutbox } from '../../terminal-agent/outbox/level-outbox.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { outboxConformance } from './outbox-conformance.js';

outboxConformance('level outbox', async () => {
  const dir = await makeTempDir('tillgate-outbox-');
  const location = join(dir, 'outbox');
  return { outbox: new LevelOutbox(location, defaultDataKeys(dir)), reopen: () => new LevelOutbox(location, defaultDataKeys(dir)), cleanup: () => removeDir(dir) };
}, { durable: true });
