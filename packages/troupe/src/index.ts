/**
 * Troupe: OTP-style actors for TypeScript. One named export per concept, grouped by family.
 * Test tools (simulated clock, probes, settle) live in `troupe/testing`.
 */

// Actors, refs and messages
export { Actor, type ActorClass, type Behavior, type ReceiveFn, type Spawnable } from './actor/behavior.js';
export { DEFAULT_CALL_TIMEOUT_MS } from './actor/call.js';
export type { Context, MailboxOptions, OverflowPolicy, Spawner, SpawnOptions } from './actor/context.js';
export type {
  DownMessage,
  ExitMessage,
  InfoMessage,
  MonitorRef,
  Reply,
  ReplyOf,
  RequestOf,
} from './actor/messages.js';
export { type CallOptions, Ref, type SendWaitOptions } from './actor/ref.js';
export { ExitError, InitError, MailboxFullError, SystemShutdownError, TimeoutError } from './errors.js';

// Exit reasons and errors
export { describeReason, type ExitReason, isCleanExit } from './exit-reason.js';
export type { SchedulerOptions } from './scheduler/scheduler.js';
// The system
export {
  ActorSystem,
  type CrashReport,
  consoleLogger,
  type DeadLetter,
  type DeadLetterReason,
  type Logger,
  type SystemOptions,
  silentLogger,
} from './system.js';
// Time
export { type Clock, type ClockTimer, realClock } from './timers/clock.js';
export { Timer } from './timers/timer.js';
