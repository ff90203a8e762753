/**
 * Reconciliation (DESIGN §3.6): a node-cron job asks the PSP's status API about every payment that
 * is still `captured` (terminal event, no PSP outcome) `reconcileAfterS` after its capture, and
 * folds the answer in: confirmed → authorised; refused / cancelled as the PSP says; anything else
 * → `inconsistent` (an alarm, and a contradiction when it was charged optimistically).
 * Bounded work per run (`reconcileMaxPerRun`); the next run goes on where this one stopped.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { emptyPayment, step, type MachineConfig } from './machine.js';
import type { PaymentChange, PaymentStore } from './payment-store.js';
import type { PspClient } from './psp-client.js';
import { verdictOfStatus } from './signals.js';

export interface ReconcileOptions {
  readonly reconcileAfterS: number;
  readonly reconcileMaxPerRun: number;
  readonly reconcileCron: string;
}

export interface ReconcileRun {
  readonly checked: number;
  readonly confirmed: number;
  readonly refused: number;
  readonly cancelled: number;
  readonly inconsistent: number;
  /** Status queries that failed (PSP unreachable): those payments are asked again next run. */
  readonly errors: number;
  /** True when the run stopped at its bound with more possibly due. */
  readonly bounded: boolean;
}

export interface ReconcileDeps {
  readonly store: PaymentStore;
  readonly psp: PspClient;
  readonly clock: Clock;
  readonly config: MachineConfig;
  readonly logger: Logger;
  /** Applies every notification received so far first, so an authorisation that is in is not missed. */
  readonly beforeRun?: () => Promise<unknown>;
  readonly onChanges?: (changes: readonly PaymentChange[]) => void;
}

/** One run: the task function, callable directly (tests drive it with a fake clock). */
export async function runReconciliation(deps: ReconcileDeps, options: ReconcileOptions): Promise<ReconcileRun> {
  await deps.beforeRun?.();
  // Whole milliseconds: facts are stored as integers, an injected clock may have finer ones.
  const nowMs = Math.floor(deps.clock.now());
  const due = await deps.store.listCapturedBefore(nowMs - options.reconcileAfterS * 1000, options.reconcileMaxPerRun);
  const run = { checked: 0, confirmed: 0, refused: 0, cancelled: 0, inconsistent: 0, errors: 0, bounded: due.length >= options.reconcileMaxPerRun };
  for (const payment of due) {
    let status: string;
    try {
      status = (await deps.psp.status(payment.id)).status;
    } catch (err) {
      run.errors++;
      deps.logger.warn('reconciliation: PSP status query failed; asking again next run', { id: payment.id, code: (err as { code?: unknown }).code ?? 'INTERNAL' });
      continue;
    }
    run.checked++;
    const verdict = verdictOfStatus(status);
    const outcome = await deps.store.apply({ ids: [payment.id] }, (current) => {
      const before = current.get(payment.id) ?? emptyPayment(payment.id);
      const after = step(before, { kind: 'reconcile', fact: { verdict, status: status.slice(0, 32), atMs: nowMs } }, deps.config);
      return after === before ? [] : [after];
    });
    if (outcome.kind === 'applied' && outcome.changes.length > 0) deps.onChanges?.(outcome.changes);
    if (verdict === 'authorised') run.confirmed++;
    else run[verdict]++;
    if (verdict === 'inconsistent') {
      deps.logger.error('reconciliation: the PSP does not confirm a captured payment; marked inconsistent', {
        id: payment.id, store: payment.event?.store, terminal: payment.event?.terminal, pspStatus: status.slice(0, 32),
      });
    }
  }
  return run;
}

export const RECONCILE_JOB_NAME = 'tillgate-reconciliation';

/** The scheduled job: node-cron with `noOverlap` (node-cron 4 overlaps runs by default). */
export class ReconcileJob {
  readonly #task: ScheduledTask;
  #state: 'scheduled' | 'stopped' = 'scheduled';
  #running: Promise<unknown> = Promise.resolve();
  lastRun: ReconcileRun | null = null;

  constructor(deps: ReconcileDeps, options: ReconcileOptions) {
    if (!cron.validate(options.reconcileCron)) throw new TypeError(`invalid reconcileCron "${options.reconcileCron}"`);
    this.#task = cron.schedule(
      options.reconcileCron,
      async () => {
        const run = (async () => {
          try {
            this.lastRun = await runReconciliation(deps, options);
            if (this.lastRun.checked + this.lastRun.errors > 0) deps.logger.info('reconciliation run', { ...this.lastRun });
          } catch (err) {
            deps.logger.error('reconciliation run failed', { err });
          }
        })();
        this.#running = run;
        await run;
      },
      { name: RECONCILE_JOB_NAME, noOverlap: true },
    );
  }

  get state(): 'scheduled' | 'stopped' {
    return this.#state;
  }

  /** Stops the schedule and waits for a run in progress (node-cron's stop does not wait). */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    await this.#task.destroy();
    await this.#running;
  }
}
