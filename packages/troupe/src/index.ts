/**
 * Troupe: OTP-style actors for TypeScript. One named export per concept, grouped by family.
 * Test tools (simulated clock, probes, settle) live in `troupe/testing`.
 *
 * @module troupe
 */

// Actors, refs and messages
export { Actor, type ActorClass, type Behavior, type ReceiveFn, type Spawnable } from './actor/behavior.js';
export { DEFAULT_CALL_TIMEOUT_MS } from './actor/call.js';
export type { Context, Spawner, SpawnOptions, SystemHandle } from './actor/context.js';
export type { SystemEvent, SystemEventType } from './actor/events.js';
export type {
  DownMessage,
  ExitMessage,
  InfoMessage,
  MonitorRef,
  Reply,
  ReplyOf,
  RequestOf,
} from './actor/messages.js';
export { Key, key, type Name, type NameService, type PlainName, type RegisterResult } from './actor/names.js';
export type { Outcome } from './actor/pipe.js';
export { type CallOptions, Ref, type SendWaitOptions } from './actor/ref.js';
// Distribution layers (@troupe/cluster)
export type { DistributionHooks, DistributionLayer, RemoteActors, RemoteWatcher } from './actor/remote.js';
export type { DeadLetterReason } from './actor/runtime.js';
export { DEFAULT_STASH_CAPACITY } from './actor/stash.js';
export type { UpgradeResult } from './actor/upgrade.js';
export {
  type CallDetails,
  CallingSelfError,
  ExitError,
  InitError,
  MailboxFullError,
  NameTakenError,
  SystemShutdownError,
  TimeoutError,
} from './errors.js';
// Exit reasons and errors
export { describeReason, type ExitReason, isCleanExit } from './exit-reason.js';
export type { ActorInfo, ActorRelations, ActorStatus, SystemSnapshot } from './introspection/inspect.js';
// Registry, introspection, events, upgrades
export { type CrashReport, consoleLogger, type Logger, silentLogger } from './logger.js';
export type { MailboxOptions, OverflowPolicy } from './mailbox/bounded.js';
export { DuplicateRegistry, type RegistryOptions, UniqueRegistry } from './registry/registry.js';
export type { SchedulerOptions } from './scheduler/scheduler.js';
export {
  countChildren,
  deleteChild,
  restartChild,
  spawnChild,
  startChild,
  terminateChild,
  upgradeChildren,
  whichChildren,
} from './supervisor/api.js';
export type { BackoffOptions } from './supervisor/backoff.js';
export type { ChildSpec, ChildTemplate, RestartLimit, RestartType, Shutdown } from './supervisor/child-spec.js';
export type { IntensityOptions } from './supervisor/core.js';
export { shouldRestart } from './supervisor/core.js';
export {
  type DynamicSupervisorBehavior,
  type DynamicSupervisorOptions,
  dynamicSupervisor,
} from './supervisor/dynamic.js';
export type {
  ChildCounts,
  ChildInfo,
  ChildResult,
  ChildStatus,
  DynamicSupervisor,
  DynamicSupervisorRef,
  DynamicSupervisorRequest,
  SpawnChildResult,
  StartChildResult,
  SupervisorRef,
  SupervisorReport,
  SupervisorRequest,
  UpgradeChildrenResult,
} from './supervisor/messages.js';
export { DEFAULT_MAX_RESTARTS, DEFAULT_WITHIN_MS, RestartWindow } from './supervisor/restart-window.js';
export type { StrategyName } from './supervisor/strategy.js';
// Supervision
export { type SupervisorBehavior, type SupervisorOptions, supervisor } from './supervisor/supervisor.js';
// The system
export type { DeadLetter } from './system/dead-letters.js';
export { ActorSystem, type SystemOptions } from './system/system.js';

// Time
export { type Clock, type ClockTimer, realClock } from './timers/clock.js';
export { Timer } from './timers/timer.js';
