/**
 * The model shipped with tillgate: `default-model.json`, trained by `tillgate predict train` on
 * simulated fleets (seeds in its `trained` field), copied into dist/ by tsc with the module that
 * imports it. The gateway scores with it unless `--predict-model` names another file.
 */
import defaultModelJson from './default-model.json' with { type: 'json' };
import { parseModel, type RiskModel } from './model.js';

let cached: RiskModel | undefined;

export function defaultModel(): RiskModel {
  cached ??= parseModel(defaultModelJson);
  return cached;
}
