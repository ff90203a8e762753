/** Runs the event store conformance suite against the LevelDB store in temp dirs. */
import { defaultDataKeys } from '../../lib/at-rest/options.js';
import { LevelEventStore } from '../../gateway/store/level-event-store.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { eventStoreConformance } from './event-store.conformance.js';

eventStoreConformance('leveldb', {
  open: (dataDir) => LevelEventStore.open({ dataDir, rejectsKeep: 1_000, keys: defaultDataKeys(dataDir) }),
  newPlace: () => makeTempDir('tillgate-store-'),
  dispose: (dir) => removeDir(dir),
});
