/**
 * `troupe/testing`: what tests need to be deterministic. A simulated clock to advance by hand,
 * `settle` to run the scheduler until nothing is left to do, and a probe actor that records what
 * it receives and asserts on it.
 */

export { createProbe, type Matcher, type Probe } from './testing/probe.js';
export { type SettleOptions, settle } from './testing/settle.js';
export { SimulatedClock } from './timers/simulated-clock.js';
