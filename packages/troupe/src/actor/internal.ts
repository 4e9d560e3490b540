/** @internal Module-private keys and flag bits shared by the runtime's files; not exported from the package. */

/** Where a ref keeps its cell. The symbol is not exported, so a ref never hands out its actor. */
export const CELL: unique symbol = Symbol('troupe.cell');

/** In the run queue. */
export const F_SCHEDULED = 1;
/** Inside a turn (a handler is running synchronously). */
export const F_RUNNING = 2;
/** Waiting for an async handler, init or terminate to settle. */
export const F_AWAIT = 4;
/** Exited. */
export const F_DEAD = 8;
/** Exit signals become EXIT messages. */
export const F_TRAP = 16;
/** `init` has not finished. */
export const F_INIT = 32;
/** `terminate` is running. */
export const F_STOPPING = 64;
/** Exit or stop signals are waiting. */
export const F_SIGNALS = 128;
/** EXIT/DOWN messages are in the mailbox. */
export const F_INFO = 256;
/** The mailbox is bounded. */
export const F_BOUNDED = 512;

/** A supervised actor between incarnations: its mail waits for the restart. */
export const F_DORMANT = 1024;
/** Keep the last few handled messages for crash reports. */
export const F_RECORD = 2048;
/** `ctx.stop()` with reason normal from inside a handler: no signal object needed. */
export const F_STOPSELF = 4096;
/** In the scheduler's urgent lane (at most once). */
export const F_URGENT = 8192;

/** A cell that must not be scheduled when a message arrives. */
export const F_NO_SCHEDULE = F_SCHEDULED | F_RUNNING | F_AWAIT | F_DEAD | F_STOPPING | F_DORMANT;
