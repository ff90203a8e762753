/**
 * Moved to test/support/tillgate-process.ts (one process helper for every test). Kept as a
 * re-export only because test/e2e/start.test.ts still imports this path; delete it once that
 * import points at test/support.
 */
export { killAll, spawnTillgate, type TillgateProcess } from '../../support/tillgate-process.js';
