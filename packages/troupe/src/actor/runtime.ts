/**
 * @internal What an actor asks of the system it runs in: the scheduler and the clock, the logger,
 * dead letters, the event stream, spawning, the list of live actors, monitor ids and call timeouts.
 * The system layer implements it (`system/runtime.ts`); the actor layer sees only this interface,
 * so it never imports the system above it.
 */
import type { ExitReason } from '../exit-reason.js';
import type { CrashReport, Logger } from '../logger.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { Clock } from '../timers/clock.js';
import type { TimeoutQueue } from './call.js';
import type { Cell } from './cell.js';
import type { SpawnOptions, SystemHandle } from './context.js';
import type { SystemEvent } from './events.js';
import type { SupervisedHook } from './lifecycle.js';
import type { MonitorRef } from './messages.js';
import type { NameService } from './names.js';
import type { Ref } from './ref.js';
import type { RemoteActors } from './remote.js';

/**
 * Why a message became a dead letter: its actor was `dead`; a bounded mailbox was full
 * (`mailbox_full`); it `crashed` the actor (the poison message of a supervised restart, with the
 * error); it was queued when a supervised actor that does not keep its mailbox restarted
 * (`dropped`); or it was for an actor on a node that cannot be reached (`noconnection`).
 */
export type DeadLetterReason = 'dead' | 'mailbox_full' | 'crashed' | 'dropped' | 'noconnection';

/** @internal */
export interface Runtime {
  /** The public system, for `ctx.system`. */
  readonly system: SystemHandle;
  readonly scheduler: Scheduler;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The system's own registry (the `name` spawn option). */
  readonly names: NameService<unknown>;
  /** The distribution layer's remote actors, while the system is part of a cluster. */
  readonly remote: RemoteActors | undefined;
  /** True while anyone listens to events: every emit point tests it first. */
  readonly observed: boolean;
  emit(event: SystemEvent): void;
  deadLetter(to: Ref<unknown>, message: unknown, reason: DeadLetterReason, error?: ExitReason): void;
  reportCrash(report: CrashReport): void;
  /**
   * Runs `fn` in this event-loop iteration's check phase, after the I/O callbacks and drains still
   * to come in it (`Scheduler.later`): for work nothing waits for, such as writing a crash report,
   * kept off the path of the actors' mail.
   */
  later(fn: () => void): void;
  /** Makes, lists and schedules a new actor; `parent` is the spawning actor, `where` names the API for errors. */
  /** `hook`: the supervisor's record of the new cell, when `parent` is a supervisor spawning its child. */
  spawn(
    behavior: unknown,
    options: SpawnOptions<unknown> | undefined,
    parent: Cell | undefined,
    where: string,
    hook?: SupervisedHook,
  ): Cell;
  /** The actor died: it leaves the list of live actors. */
  unlist(cell: Cell): void;
  nextMonitorId(): MonitorRef;
  /** The timeout queue of calls with this `timeoutMs`. */
  callTimeouts(ms: number): TimeoutQueue;
}
