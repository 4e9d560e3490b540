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
const warned = new WeakSet<IncarnationContext>();

/** @internal */
export class IncarnationContext implements Context<unknown> {
  constructor(
    readonly cell: Cell,
    readonly incarnation: number,
  ) {}

  /** `true` while this incarnation is the actor's current one. */
  private current(what: string): boolean {
    if (incarnationOf(this.cell) === this.incarnation) return true;
    if (!warned.has(this)) {
      warned.add(this);
      this.cell.runtime.logger.warn(
        { actor: this.cell.toString(), call: what },
        `ctx.${what} from an ended incarnation of ${this.cell.toString()} was ignored`,
      );
    }
    return false;
  }

  get self(): Ref<unknown> {
    return this.cell;
  }
  get system(): SystemHandle {
    return this.cell.system;
  }
  get parent(): Ref<never> | undefined {
    return this.cell.parent;
  }
  // biome-ignore lint/suspicious/noExplicitAny: the typed overloads live on Spawner.
  spawn(behavior: unknown, options?: SpawnOptions<unknown>): Ref<any> {
    return this.cell.spawn(behavior, options);
  }
  // biome-ignore lint/suspicious/noExplicitAny: the typed overloads live on Spawner.
  start(behavior: unknown, options?: SpawnOptions<unknown>): Promise<Ref<any>> {
    return this.cell.start(behavior, options);
  }
  link(ref: Ref<never>): void {
    if (this.current('link')) this.cell.link(ref);
  }
  unlink(ref: Ref<never>): void {
    if (this.current('unlink')) this.cell.unlink(ref);
  }
  monitor(ref: Ref<never>): MonitorRef {
    return this.current('monitor') ? this.cell.monitor(ref) : (0 as MonitorRef);
  }
  demonitor(monitor: MonitorRef): boolean {
    return this.current('demonitor') && this.cell.demonitor(monitor);
  }
  trapExit(on?: boolean): void {
    if (this.current('trapExit')) this.cell.trapExit(on);
  }
  exit(ref: Ref<never>, reason: ExitReason): void {
    if (this.current('exit')) this.cell.exit(ref, reason);
  }
  kill(ref?: Ref<never>): void {
    if (this.current('kill')) this.cell.kill(ref);
  }
  stop(reason?: ExitReason): void {
    if (this.current('stop')) this.cell.stop(reason);
  }
  sendAfter<T>(ref: Ref<T>, msg: T, ms: number): Timer {
    if (this.current('sendAfter')) return this.cell.sendAfter(ref, msg, ms);
    return cancelled(this.cell);
  }
  sendInterval<T>(ref: Ref<T>, msg: T, ms: number): Timer {
    if (this.current('sendInterval')) return this.cell.sendInterval(ref, msg, ms);
    return cancelled(this.cell);
  }
  pipeToSelf<T>(promise: PromiseLike<T>, toMessage: (outcome: Outcome<T>) => unknown): void {
    // The outcome goes to the ref, as a send would: the next incarnation may take it.
    this.cell.pipeToSelf(promise, toMessage);
  }
  setReceiveTimeout(ms: number, msg: unknown): void {
    if (this.current('setReceiveTimeout')) this.cell.setReceiveTimeout(ms, msg);
  }
  cancelReceiveTimeout(): boolean {
    return this.current('cancelReceiveTimeout') && this.cell.cancelReceiveTimeout();
  }
  startTimer(key: unknown, msg: unknown, ms: number): void {
    if (this.current('startTimer')) this.cell.startTimer(key, msg, ms);
  }
  startIntervalTimer(key: unknown, msg: unknown, ms: number): void {
    if (this.current('startIntervalTimer')) this.cell.startIntervalTimer(key, msg, ms);
  }
  cancelTimer(key: unknown): boolean {
    return this.current('cancelTimer') && this.cell.cancelTimer(key);
  }
  isTimerActive(key: unknown): boolean {
    return incarnationOf(this.cell) === this.incarnation && this.cell.isTimerActive(key);
  }
  stash(msg: unknown): void {
    if (this.current('stash')) this.cell.stash(msg);
  }
  unstashAll(): number {
    return this.current('unstashAll') ? this.cell.unstashAll() : 0;
  }
  get stashed(): number {
    return incarnationOf(this.cell) === this.incarnation ? this.cell.stashed : 0;
  }
}

function cancelled(cell: Cell): Timer {
  const t = new Timer(cell.runtime.clock, 0, () => {}, undefined, undefined);
  t.cancel();
  return t;
}
