/**
 * @internal The actor layer's internals, for the runtime's other layers (supervisor, registry,
 * introspection, the system). Nothing here is exported from the package: `index.ts` exports the
 * public API only, and `stripInternal` keeps these out of the published types.
 */
export { toImpl } from './behavior.js';
export { TimeoutQueue } from './call.js';
export { Cell, cellOf, remoteActors } from './cell.js';
export { exitSignal, queueSignal } from './exit-signals.js';
export { F_AWAIT, F_BOUNDED, F_RECORD, F_SCHEDULED, F_TRAP } from './flags.js';
export { GuardedContext, IncarnationContext } from './incarnation.js';
export { incarnationOf, kill, phaseOf, retire, revive, type SupervisedHook } from './lifecycle.js';
export { addMonitor, remoteDown } from './monitors.js';
export { type EntryOwner, namesHeld, type Registration } from './names.js';
export type { DeadLetterReason, Runtime } from './runtime.js';
export { requestUpgrade } from './upgrade.js';
