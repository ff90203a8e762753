/** Runs the event store conformance suite against the LevelDB store in temp dirs. */
import { LevelEventStore } from '../../gateway/store/level-event-store.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { eventStoreConformance } from './event-store.conformance.js';

eventStoreConformance('leveldb', {
  open: (dataDir) => LevelEventStore.open({ dataDir, rejectsKeep: 1_000 }),
  newPlace: () => makeTempDir('tillgate-store-'),
  dispose: (dir) => removeDir(dir),
});
