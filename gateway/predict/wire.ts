/**
 * Live failure prediction, wired from gateway/index.ts: loads the model (the shipped one, or
 * `--predict-model`), scores every health sample the HealthStore accepts, and — once the delivery
 * side exists — every WAN probe the health history keeps.
 */
import type { Logger } from '../../lib/logger.js';
import type { HealthStore } from '../health/health-store.js';
import { defaultModel } from './model/default.js';
import { loadModelFile } from './model/model.js';
import { LivePredictor } from './live.js';

export interface PredictWiringOptions {
  readonly store: string;
  readonly maxTerminals: number;
  readonly predictModel?: string | undefined;
  readonly predictAlertsKeep: number;
}

export async function startPrediction(options: PredictWiringOptions, health: HealthStore, logger: Logger): Promise<{ predictor: LivePredictor; close(): void }> {
  const model = options.predictModel === undefined ? defaultModel() : await loadModelFile(options.predictModel);
  const log = logger.child({ part: 'predict' });
  const predictor = new LivePredictor(model, { store: options.store, maxSubjects: options.maxTerminals + 1, alertsKeep: options.predictAlertsKeep }, log);
  const off = health.onSample((entry) => predictor.observeHealth(entry));
  log.info('failure prediction on', { model: model.version });
  return { predictor, close: off };
}
