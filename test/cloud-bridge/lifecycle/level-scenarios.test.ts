import { levelLifecycleHarness } from './lifecycle-cloud.js';
import { describeLifecycleScenarios } from './scenarios.js';

describeLifecycleScenarios('LevelDB', levelLifecycleHarness, 'fake');
