import { describePg } from '../../support/postgres/test-database.js';
import { lifecycleHarness } from './lifecycle-cloud.js';
import { describeLifecycleScenarios } from './scenarios.js';

describeLifecycleScenarios('LevelDB', () => lifecycleHarness('LevelDB'), 'fake');
describePg('payment lifecycle on PostgreSQL', () => describeLifecycleScenarios('PostgreSQL', () => lifecycleHarness('PostgreSQL'), 'database'));
