/**
 * @internal The cell's `flags` word: its lifecycle phase in the low three bits, and the few hot,
 * orthogonal facts the scheduler and the turn loop test on every message as single bits. The phase
 * is packed here rather than kept as a field of its own because every actor carries it and the
 * idle-actor benchmark counts each word; read it as a name with `phaseOf` (lifecycle.ts).
 *
 * Modules on the hot path copy these constants into local ones (`const F_X = flags.F_X`): V8 reads
 * an imported binding through its module cell, with a hole check, on every use, and a local
 * constant for free. The copies took ping-pong from 0.69x to 0.86x of the hand-written loop.
 */

/** Phases (see lifecycle.ts for the machine). Running is 0, so "running, nothing else" is one test. */
export const P_RUNNING = 0;
export const P_STARTING = 1;
export const P_STOPPING = 2;
export const P_RESTARTING = 3;
/** The only phase with bit 2 set, so `flags & P_DEAD` alone tells a dead actor (one AND on every send). */
export const P_DEAD = 4;
/** The phase's bits. */
export const PHASE = 7;
/** Set in every phase that takes no turns (stopping, restarting, dead); clear in starting and running. */
export const NO_TURNS = 6;

/** In the run queue. */
export const F_SCHEDULED = 8;
/** Inside a turn (a handler is running synchronously). */
export const F_IN_TURN = 16;
/** Waiting for an async handler or init to settle. */
export const F_AWAIT = 32;
/** Exit signals become EXIT messages. */
export const F_TRAP = 64;
/** Exit or stop signals are waiting. */
export const F_SIGNALS = 128;
/** EXIT/DOWN messages or an upgrade are in the mailbox. */
export const F_INFO = 256;
/** The mailbox is bounded. */
export const F_BOUNDED = 512;
/** Keep the last few handled messages for crash reports. */
export const F_RECORD = 1024;
/** `ctx.stop()` with reason normal from inside a handler: no signal object needed. */
export const F_STOPSELF = 2048;
/** In the scheduler's urgent lane (at most once). */
export const F_URGENT = 4096;
/** A receive timeout is set: a taken message is activity. */
export const F_IDLE_TIMEOUT = 8192;
/** `Cell.up` is the supervisor's record of the cell (its hook), not the spawning cell. */
export const F_HOOK = 16384;

/** A cell that must not be scheduled when a message arrives. */
export const F_NO_SCHEDULE = F_SCHEDULED | F_IN_TURN | F_AWAIT | NO_TURNS;
