/**
 * A supervised actor's context for one incarnation. A supervised actor keeps its cell (and its ref)
 * across restarts, so code of an incarnation that has ended, say an async handler that resumes after
 * a restart, must not act on the next one: a late `ctx.stop()` would stop the restarted actor, a late
 * `sendAfter` would leave it a timer. Through this context such calls are ignored (and logged once);
 * sends, spawns and reads still work, as they do not act on the actor itself.
 */
import type { ExitReason } from '../exit-reason.js';
import { Timer } from '../timers/timer.js';
import type { Cell } from './cell.js';
import type { Context, SpawnOptions, SystemHandle } from './context.js';
import { incarnationOf } from './lifecycle.js';
import type { MonitorRef } from './messages.js';
import type { Outcome } from './pipe.js';
import type { Ref } from './ref.js';

/** Contexts that have logged a call from their ended incarnation (once each; rare, so not a field). */
const warned = new WeakSet<GuardedContext>();

/**
 * @internal A context that acts on its actor only while its incarnation is the current one. Two
 * kinds: `IncarnationContext` (the actor and the incarnation's number, for any incarnation) and a
 * supervisor's child record, which is the context of its first cell's first incarnation (one object
 * less per supervised actor; a chat holds one per connection).
 */
export abstract class GuardedContext implements Context<unknown> {
  /** The actor this context acts on. */
  protected abstract actor(): Cell;
  /** `true` while the incarnation this context was made for is the actor's current one. */
  protected abstract live(): boolean;

  /** `true` while this incarnation is the actor's current one; else logs once and says false. */
  private current(what: string): boolean {
    if (this.live()) return true;
    if (!warned.has(this)) {
      warned.add(this);
      const cell = this.actor();
      cell.runtime.logger.warn(
        { actor: cell.toString(), call: what },
        `ctx.${what} from an ended incarnation of ${cell.toString()} was ignored`,
      );
    }
    return false;
  }

  get self(): Ref<unknown> {
    return this.actor();
  }
  get system(): SystemHandle {
    return this.actor().system;
  }
  get parent(): Ref<never> | undefined {
    return this.actor().parent;
  }
  // biome-ignore lint/suspicious/noExplicitAny: the typed overloads live on Spawner.
  spawn(behavior: unknown, options?: SpawnOptions<unknown>): Ref<any> {
    return this.actor().spawn(behavior, options);
  }
  // biome-ignore lint/suspicious/noExplicitAny: the typed overloads live on Spawner.
  start(behavior: unknown, options?: SpawnOptions<unknown>): Promise<Ref<any>> {
    return this.actor().start(behavior, options);
  }
  link(ref: Ref<never>): void {
    if (this.current('link')) this.actor().link(ref);
  }
  unlink(ref: Ref<never>): void {
    if (this.current('unlink')) this.actor().unlink(ref);
  }
  monitor(ref: Ref<never>): MonitorRef {
    return this.current('monitor') ? this.actor().monitor(ref) : (0 as MonitorRef);
  }
  demonitor(monitor: MonitorRef): boolean {
    return this.current('demonitor') && this.actor().demonitor(monitor);
  }
  trapExit(on?: boolean): void {
    if (this.current('trapExit')) this.actor().trapExit(on);
  }
  exit(ref: Ref<never>, reason: ExitReason): void {
    if (this.current('exit')) this.actor().exit(ref, reason);
  }
  kill(ref?: Ref<never>): void {
    if (this.current('kill')) this.actor().kill(ref);
  }
  stop(reason?: ExitReason): void {
    if (this.current('stop')) this.actor().stop(reason);
  }
  sendAfter<T>(ref: Ref<T>, msg: T, ms: number): Timer {
    if (this.current('sendAfter')) return this.actor().sendAfter(ref, msg, ms);
    return cancelled(this.actor());
  }
  sendInterval<T>(ref: Ref<T>, msg: T, ms: number): Timer {
    if (this.current('sendInterval')) return this.actor().sendInterval(ref, msg, ms);
    return cancelled(this.actor());
  }
  pipeToSelf<T>(promise: PromiseLike<T>, toMessage: (outcome: Outcome<T>) => unknown): void {
    // The outcome goes to the ref, as a send would: the next incarnation may take it.
    this.actor().pipeToSelf(promise, toMessage);
  }
  setReceiveTimeout(ms: number, msg: unknown): void {
    if (this.current('setReceiveTimeout')) this.actor().setReceiveTimeout(ms, msg);
  }
  cancelReceiveTimeout(): boolean {
    return this.current('cancelReceiveTimeout') && this.actor().cancelReceiveTimeout();
  }
  startTimer(key: unknown, msg: unknown, ms: number): void {
    if (this.current('startTimer')) this.actor().startTimer(key, msg, ms);
  }
  startIntervalTimer(key: unknown, msg: unknown, ms: number): void {
    if (this.current('startIntervalTimer')) this.actor().startIntervalTimer(key, msg, ms);
  }
  cancelTimer(key: unknown): boolean {
    return this.current('cancelTimer') && this.actor().cancelTimer(key);
  }
  isTimerActive(key: unknown): boolean {
    return this.live() && this.actor().isTimerActive(key);
  }
  stash(msg: unknown): void {
    if (this.current('stash')) this.actor().stash(msg);
  }
  unstashAll(): number {
    return this.current('unstashAll') ? this.actor().unstashAll() : 0;
  }
  get stashed(): number {
    return this.live() ? this.actor().stashed : 0;
  }
}

/** @internal The context of one incarnation of a supervised actor. */
export class IncarnationContext extends GuardedContext {
  constructor(
    readonly cell: Cell,
    readonly incarnation: number,
  ) {
    super();
  }
  protected actor(): Cell {
    return this.cell;
  }
  protected live(): boolean {
    return incarnationOf(this.cell) === this.incarnation;
  }
}

function cancelled(cell: Cell): Timer {
  const t = new Timer(cell.runtime.clock, 0, () => {}, undefined, undefined);
  t.cancel();
  return t;
}
