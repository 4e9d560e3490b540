/**
 * `troupe/testing`: what tests need to be deterministic. A simulated clock to advance by hand (and
 * the error a wait gets when nobody advances it), `settle` to run the scheduler until nothing is
 * left to do, and a probe actor that records what it receives and asserts on it.
 *
 * @module troupe/testing
 */

export { createProbe, type Matcher, type Probe } from './testing/probe.js';
export { type SettleOptions, settle } from './testing/settle.js';
export { SimulatedClock, SimulatedTimeError } from './timers/simulated-clock.js';
