/** Runs the HealthStore conformance suite on the LevelDB store (temp dirs) and the memory store. */
import { LevelHealthStore } from '../../gateway/health/level-health-store.js';
import { MemoryHealthStore } from '../../gateway/health/memory-health-store.js';
import { openDb, sectionsOf } from '../../gateway/store/sections.js';
import { SealCodec, staticKeyProvider } from '../../lib/at-rest/index.js';
import { silentLogger } from '../../lib/logger.js';
import { makeTempDir, removeDir } from '../support/temp.js';
import { healthStoreConformance } from './health-store.conformance.js';

/** Health records are sealed at rest like every other gateway keyspace. */
const codec = new SealCodec(staticKeyProvider([{ id: 'health-test', key: Buffer.alloc(32, 7) }], 'health-test'));

healthStoreConformance('leveldb', {
  durable: true,
  async make(clock, limits) {
    const dir = await makeTempDir('tillgate-health-');
    const dbs: ReturnType<typeof openDb>[] = [];
    const openOne = async () => {
      const db = openDb(dir);
      await db.open();
      dbs.push(db);
      return LevelHealthStore.open(db, sectionsOf(db, codec), clock, limits, silentLogger);
    };
    const store = await openOne();
    return {
      store,
      async reopen() {
        await dbs.at(-1)?.close();
        return openOne();
      },
      async cleanup() {
        for (const db of dbs) if (db.status === 'open') await db.close();
        await removeDir(dir);
      },
    };
  },
});

healthStoreConformance('memory', {
  durable: false,
  async make(clock, limits) {
    return { store: new MemoryHealthStore(clock, limits), cleanup: async () => undefined };
  },
});
