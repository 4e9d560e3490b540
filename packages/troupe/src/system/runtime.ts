/**
 * The system's side of the actor layer's `Runtime` interface: one object per system that owns the
 * scheduler, the clock, the logger, dead letters, the event bus, the live-actor list and the call
 * timeouts, and makes new actors. The public `ActorSystem` is a facade over it; actors reach it
 * through their cell, never through the public class.
 */
import type { SpawnOptions, SystemHandle } from '../actor/context.js';
import type { SystemEvent } from '../actor/events.js';
import {
  Cell,
  type DeadLetterReason,
  F_BOUNDED,
  F_SCHEDULED,
  F_TRAP,
  type Runtime,
  type TimeoutQueue,
  toImpl,
} from '../actor/internal.js';
import type { SupervisedHook } from '../actor/lifecycle.js';
import type { MonitorRef } from '../actor/messages.js';
import type { NameService } from '../actor/names.js';
import type { Ref } from '../actor/ref.js';
import type { RemoteActors } from '../actor/remote.js';
import { NameTakenError, SystemShutdownError } from '../errors.js';
import type { ExitReason } from '../exit-reason.js';
import { type CrashReport, type Logger, logCrash } from '../logger.js';
import { assertMailboxOptions, BoundedPolicy } from '../mailbox/bounded.js';
import { UniqueRegistry } from '../registry/registry.js';
import { Scheduler, type SchedulerOptions } from '../scheduler/scheduler.js';
import type { Clock } from '../timers/clock.js';
import { CallTimeouts } from './call-timeouts.js';
import { DeadLetters } from './dead-letters.js';
import { EventBus } from './event-bus.js';
import { LiveCells } from './live-cells.js';

/** @internal */
export class SystemRuntime implements Runtime {
  readonly scheduler: Scheduler;
  readonly deadLetters: DeadLetters;
  readonly events: EventBus;
  readonly live = new LiveCells();
  readonly registry = new UniqueRegistry<unknown, unknown>('system.registry');
  readonly #callTimeouts: CallTimeouts;
  #ids = 0;
  #monitorIds = 0;
  /** After `shutdown()` began: spawning throws. */
  closed = false;
  /** The distribution layer's remote actors, while attached (`system.attachDistribution`). */
  remote: RemoteActors | undefined = undefined;

  constructor(
    readonly system: SystemHandle,
    readonly clock: Clock,
    readonly logger: Logger,
    scheduler: SchedulerOptions | undefined,
  ) {
    this.scheduler = new Scheduler(scheduler);
    this.deadLetters = new DeadLetters(logger);
    this.events = new EventBus(logger);
    this.#callTimeouts = new CallTimeouts(clock);
  }

  get names(): NameService<unknown> {
    return this.registry;
  }

  get observed(): boolean {
    return this.events.observed;
  }

  emit(event: SystemEvent): void {
    this.events.emit(event);
  }

  deadLetter(to: Ref<unknown>, message: unknown, reason: DeadLetterReason, error?: ExitReason): void {
    if (this.events.observed) this.events.emit({ type: 'dead_letter', to: to as Ref<never>, message, reason });
    this.deadLetters.record(to, message, reason, error);
  }

  reportCrash(report: CrashReport): void {
    logCrash(this.logger, report);
  }

  later(fn: () => void): void {
    this.scheduler.later(fn);
  }

  nextMonitorId(): MonitorRef {
    return ++this.#monitorIds as MonitorRef;
  }

  callTimeouts(ms: number): TimeoutQueue {
    return this.#callTimeouts.queue(ms);
  }

  unlist(cell: Cell): void {
    this.live.remove(cell);
  }

  spawn(
    behavior: unknown,
    options: SpawnOptions<unknown> | undefined,
    parent: Cell | undefined,
    where: string,
    hook?: SupervisedHook,
  ): Cell {
    if (this.closed) throw new SystemShutdownError();
    const impl = toImpl(behavior, where);
    const name = options?.name;
    let naming: { service: NameService<unknown>; key: unknown } | undefined;
    if (name !== undefined) {
      naming =
        typeof name === 'object' && name !== null && 'via' in name
          ? { service: name.via as NameService<unknown>, key: name.key }
          : { service: this.registry as NameService<unknown>, key: name };
      const holder = naming.service.whereis(naming.key);
      if (holder !== undefined) throw new NameTakenError(naming.key, holder);
    }
    if (options?.link === true && parent === undefined) {
      throw new TypeError(`${where}: { link: true } needs a spawning actor; use ctx.spawn`);
    }
    if (options?.mailbox !== undefined) assertMailboxOptions(options.mailbox, where);
    // The init args wait in the state slot until init has run: an actor with state needs no more.
    // A supervised cell holds its hook from the start: a name it registers below goes to the hook.
    const cell = new Cell(this, impl, ++this.#ids, hook ?? parent, impl.hasInit ? options?.args : undefined);
    if (options !== undefined) {
      if (options.trapExit === true) cell.flags |= F_TRAP;
      if (options.mailbox !== undefined) {
        cell.ensureExt().bounded = new BoundedPolicy(options.mailbox, this.clock);
        cell.flags |= F_BOUNDED;
      }
      if (options.label !== undefined) cell.ensureExt().label = String(options.label);
    }
    this.live.add(cell);
    if (impl.hasInit) {
      cell.flags |= F_SCHEDULED;
      this.scheduler.push(cell);
    }
    if (options?.link === true && parent !== undefined) parent.link(cell as Ref<never>);
    if (naming !== undefined) naming.service.register(naming.key, cell as Ref<never>);
    if (this.events.observed) {
      this.events.emit({
        type: 'spawned',
        ref: cell as Ref<never>,
        parent: parent as Ref<never> | undefined,
        behavior: impl.name,
      });
    }
    return cell;
  }
}
