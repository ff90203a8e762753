/** The simulator's seeded randomness lives in lib/ (the gateway's prediction simulator uses it too). */
export { exponential, normal, pick, seededRandom } from '../../lib/random.js';
