/**
 * Opening the gateway's storage, in order: make room if the disk is full (disk-monitor.ts), open
 * the event store (a full disk is named, not "Database failed to open"), check it against itself,
 * the witness and LevelDB's own recovery notes (start-check.ts), report what is missing, repair what
 * would otherwise lose more, and keep the witness from then on. Everything that finds a problem
 * reports to one StoreIntegrity (gateway/integrity.ts).
 */
import type { AtRestOptions, KeyProvider } from '../../lib/at-rest/index.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { DiskMonitor, type DiskProbe } from '../disk-monitor.js';
import { corruptionProblem, StoreIntegrity } from '../integrity.js';
import { LostEvents } from '../lost-events.js';
import { LevelEventStore } from './level-event-store.js';
import { checkStoreOnStart, readLevelLog } from './start-check.js';
import { isDiskFull } from './storage-errors.js';
import { headsOf, readWitness, WitnessKeeper } from './witness.js';

export interface StorageOptions {
  readonly dataDir: string;
  readonly rejectsKeep: number;
  /** Data keys for encryption at rest, and the pace of the background re-encryption. */
  readonly keys: KeyProvider;
  readonly atRest?: AtRestOptions;
  readonly diskHighWaterPct: number;
  readonly diskCheckIntervalMs: number;
  readonly diskReserveBytes: number;
}

export interface GatewayStorage {
  readonly store: LevelEventStore;
  readonly disk: DiskMonitor;
  readonly integrity: StoreIntegrity;
  readonly lostEvents: LostEvents;
  readonly witness: WitnessKeeper;
}

export async function openGatewayStorage(options: StorageOptions, deps: { clock: Clock; logger: Logger; diskProbe: DiskProbe }): Promise<GatewayStorage> {
  const { clock, logger } = deps;
  const integrity = new StoreIntegrity(clock, logger);
  const disk = new DiskMonitor({
    dir: options.dataDir,
    highWaterPct: options.diskHighWaterPct,
    intervalMs: options.diskCheckIntervalMs,
    reserveBytes: options.diskReserveBytes,
    probe: deps.diskProbe,
    logger,
    now: () => clock.now(),
  });
  const usage = await DiskMonitor.beforeOpen(options.dataDir, options.diskReserveBytes, deps.diskProbe, logger);
  let store: LevelEventStore;
  try {
    store = await LevelEventStore.open({
      dataDir: options.dataDir,
      rejectsKeep: options.rejectsKeep,
      keys: options.keys,
      ...(options.atRest === undefined ? {} : { atRest: options.atRest }),
      clock,
      onDamage: (where, err) => integrity.report(`corrupt:${where}`, corruptionProblem(where, err)),
      onDiskFull: () => disk.diskFull(),
    });
  } catch (err) {
    if (isDiskFull(err)) throw DiskMonitor.diskFullAtStart(options.dataDir, await deps.diskProbe(options.dataDir).catch(() => usage), err);
    throw err;
  }
  try {
    const lostEvents = new LostEvents(integrity, store, logger);
    const witnessRead = await readWitness(options.dataDir);
    if (witnessRead.kind === 'unreadable') logger.warn('the witness file cannot be read: lost acknowledged events would not be noticed this time', { reason: witnessRead.reason });
    const checked = await checkStoreOnStart(store, witnessRead, await readLevelLog(options.dataDir));
    for (const f of checked.findings) integrity.report(f.key, f.problem);
    if (checked.raiseQueueHeadTo !== null) await store.raiseQueueHead(checked.raiseQueueHeadTo);
    lostEvents.add(checked.lostHeads);
    const witness = new WitnessKeeper(
      options.dataDir,
      () => {
        const heads = headsOf(store.terminalIds(), (t) => store.head(t));
        // A head the store lost stays witnessed until the terminal resent those events.
        for (const l of checked.lostHeads) {
          const held = lostEvents.heldHead(l.terminal);
          if (held !== undefined && held.seq > (heads[l.terminal]?.seq ?? 0)) heads[l.terminal] = held;
        }
        return { queueHead: store.ingestMeta.queueHead, cursor: store.queue.cursor(), heads };
      },
      clock,
      logger,
    );
    await disk.start();
    return { store, disk, integrity, lostEvents, witness };
  } catch (err) {
    await disk.close();
    await store.close();
    throw err;
  }
}
