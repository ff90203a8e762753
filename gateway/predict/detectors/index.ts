export { Ewma, RobustBaseline, type RobustBaselineOptions } from './ewma.js';
export { Cusum } from './cusum.js';
export { RobustSlope, type RobustSlopeOptions } from './slope.js';
export { CounterSurge, type CounterSurgeOptions } from './surge.js';
export { SeasonalBaseline } from './seasonal.js';
export { SteadyClimb, type SteadyClimbOptions } from './climb.js';
