/**
 * The part of a supervisor that does not depend on how children are named: handling a child's exit
 * by its restart type and the restart-intensity window, crash reports, escalation, and stopping every
 * child when the supervisor itself goes. `supervisor.ts` (children by id, strategies) and
 * `dynamic.ts` (children of one template) build on it.
 */

import { type Cell, kill, phaseOf, queueSignal, requestUpgrade, retire, toImpl } from '../actor/internal.js';
import type { Ref } from '../actor/ref.js';
import type { UpgradeResult } from '../actor/upgrade.js';
import { describeReason, type ExitReason, isCleanExit } from '../exit-reason.js';
import { type Child, type ChildDown, haltChild, nextDelay, RestartDue, retireChild, reviveChild } from './child.js';
import type { RestartType } from './child-spec.js';
import type { ChildInfo, ChildStatus, SupervisorReport, UpgradeChildrenResult } from './messages.js';
import { RestartWindow } from './restart-window.js';

/** Options shared by both kinds of supervisor. */
export interface IntensityOptions {
  /** At most this many restarts (an integer >= 0, or `Infinity`: never give up)... Default 3. */
  readonly maxRestarts?: number;
  /** ...within this many milliseconds (finite, > 0), or the supervisor shuts down. Default 5,000. */
  readonly withinMs?: number;
  /** Random numbers in [0, 1) for backoff jitter. Default `Math.random`. */
  readonly random?: () => number;
}

/** OTP's rule: permanent always, transient after an abnormal exit, temporary never. */
export function shouldRestart(restart: RestartType, reason: ExitReason): boolean {
  return restart === 'permanent' || (restart === 'transient' && !isCleanExit(reason));
}

/**
 * @internal A child's status as the verbs report it. As OTP: a child whose restart is under way, between its
 * end and its new incarnation's finished `init` (or waiting out a backoff), is `restarting`, not
 * `running`. Read from the child's phase, so no notice is needed when `init` finishes.
 */
export function statusOf(child: Child): ChildStatus {
  if (child.status !== 'running') return child.status;
  const cell = child.cell;
  if (cell === undefined) return 'stopped';
  const phase = phaseOf(cell);
  return phase === 'restarting' || (phase === 'starting' && child.restarts > 0) ? 'restarting' : 'running';
}

/** @internal */
export abstract class SupervisorCore {
  readonly cell: Cell;
  readonly window: RestartWindow;

  /** Its restarts inside the intensity window now, against the limit: the observer's summary. */
  intensity(): string {
    const w = this.window;
    const used = w.countAt(this.cell.runtime.clock.now());
    return `restarts ${used}/${w.maxRestarts === Number.POSITIVE_INFINITY ? '∞' : w.maxRestarts} in ${w.withinMs} ms`;
  }
  readonly random: () => number;
  stopping = false;

  constructor(cell: Cell, options: IntensityOptions) {
    this.cell = cell;
    this.window = new RestartWindow(options.maxRestarts, options.withinMs);
    this.random = options.random ?? Math.random;
    // A supervisor whose incarnation ends without its terminate (killed, or restarted after a kill)
    // takes its children with it, as a link would.
    cell.ensureExt().onEnd = (reason) => this.orphaned(reason);
  }

  /** Every child, in start order. */
  abstract all(): Iterable<Child>;
  /** Forgets a child's spec (temporary children, deleteChild). */
  abstract remove(child: Child): void;
  /** Restarts `failed` (and whatever its strategy says) after `delay` ms. */
  abstract restart(failed: Child, delay: number): undefined | Promise<void>;

  /** A backoff delay is over: the child restarts now, unless something else happened meanwhile. */
  onRestartDue(n: RestartDue): undefined {
    const child = n.child;
    if (child.status === 'restarting' && !this.stopping) reviveChild(this.cell, child);
    return;
  }

  onChildDown(n: ChildDown): undefined | Promise<void> {
    const child = n.child;
    if (this.stopping || child.status !== 'running' || child.startedIncarnation !== n.incarnation) return;
    const cell = child.cell;
    if (cell === undefined || cell !== n.cell) return;
    const reason = n.reason;
    // Gathered now, written in this event-loop iteration's check phase, after the restarted child
    // has handled the mail waiting for it (and the frames read with the one that crashed it):
    // formatting a stack and writing a log line is the slowest part of a restart, and nothing waits
    // for it.
    const report = isCleanExit(reason) ? undefined : this.report(child, n);
    if (!shouldRestart(child.spec.restart, reason)) {
      if (report !== undefined) this.logNow(report, cell);
      retireChild(child, reason);
      if (child.spec.restart === 'temporary') this.remove(child);
      return;
    }
    const runtime = this.cell.runtime;
    const now = runtime.clock.now();
    const limit = child.spec.restartLimit;
    if (limit !== undefined) {
      child.window ??= new RestartWindow(limit.maxRestarts, limit.withinMs);
      if (!child.window.tryAdd(now)) {
        if (report !== undefined) this.logNow(report, cell);
        runtime.logger.error(
          { supervisor: this.cell.toString(), childId: child.id, reason, ...limit },
          `supervisor ${this.cell.toString()}: child '${child.id}' reached its own restart limit (${limit.maxRestarts} in ${limit.withinMs} ms); not restarted`,
        );
        retireChild(child, reason);
        return;
      }
    }
    if (!this.window.tryAdd(now)) {
      if (report !== undefined) this.logNow(report, cell);
      runtime.logger.error(
        {
          supervisor: this.cell.toString(),
          childId: child.id,
          reason,
          maxRestarts: this.window.maxRestarts,
          withinMs: this.window.withinMs,
        },
        `supervisor ${this.cell.toString()} reached its restart intensity (${this.window.maxRestarts} in ${this.window.withinMs} ms) on child '${child.id}'; shutting down`,
      );
      if (runtime.observed) {
        runtime.emit({
          type: 'intensity_exceeded',
          supervisor: this.cell as Ref<never>,
          childId: child.id,
          maxRestarts: this.window.maxRestarts,
          withinMs: this.window.withinMs,
        });
      }
      child.status = 'restarting';
      queueSignal(this.cell, 'shutdown', 'stop');
      return;
    }
    const restarted = this.restart(child, nextDelay(this.cell, child, this.random));
    if (report !== undefined) this.logLater(report, cell);
    return restarted;
  }

  /** Revives one child now, or after `delay` ms when a RestartDue notice comes back. */
  restartOne(child: Child, delay: number): undefined {
    if (delay <= 0) {
      reviveChild(this.cell, child);
      return;
    }
    child.status = 'restarting';
    const sup = this.cell;
    child.timer = sup.runtime.clock.setTimeout(() => {
      child.timer = undefined;
      sup.pushUrgent(new RestartDue(child));
    }, delay);
    return;
  }

  report(child: Child, n: ChildDown): SupervisorReport {
    const path: string[] = [];
    for (let c: Cell | undefined = this.cell; c !== undefined; c = c.spawner) path.push(c.toString());
    return {
      supervisor: this.cell.toString(),
      path: path.reverse(),
      childId: child.id,
      dynamic: child.id !== child.spec.id,
      child: child.cell?.toString() ?? '(none)',
      names: n.names,
      reason: n.reason,
      spec: child.spec.given,
      args: child.args,
      messages: n.messages,
      state: n.state,
      restarts: child.restarts,
    };
  }

  /** Reports of restarted children not written yet (`logLater`), oldest first. */
  #pending: Array<readonly [SupervisorReport, Cell]> = [];

  /** Writes `report` in this loop iteration's check phase, after the earlier ones not written yet. */
  logLater(report: SupervisorReport, ref: Cell): void {
    this.#pending.push([report, ref]);
    if (this.#pending.length === 1) this.cell.runtime.later(() => this.flushReports());
  }

  /** Writes `report` now, after the reports still waiting: the log keeps the crashes' order. */
  logNow(report: SupervisorReport, ref: Cell): void {
    this.flushReports();
    this.log(report, ref);
  }

  /** Writes the reports still waiting, oldest first. */
  flushReports(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const [report, ref] of pending) this.log(report, ref);
  }

  /** Writes `report` of the child `ref`, and tells the event stream's listeners (`crash_report`). */
  log(report: SupervisorReport, ref: Cell): void {
    const runtime = this.cell.runtime;
    if (runtime.observed) runtime.emit({ type: 'crash_report', ref: ref as Ref<never>, messages: report.messages });
    runtime.logger.error(
      report,
      `supervisor ${report.supervisor}: child '${report.childId}' (${report.child}) exited: ${describeReason(report.reason as ExitReason)}`,
    );
  }

  info(child: Child): ChildInfo {
    return {
      id: child.id,
      ref: child.ref,
      type: child.spec.type,
      status: statusOf(child),
      restarts: child.restarts,
    };
  }

  /**
   * Moves children to new code: their specs (so restarts use it too) and every running one, each
   * between two of its messages, with `migrate` applied to its state.
   */
  async upgrade(
    children: readonly Child[],
    behavior: unknown,
    migrate: ((state: never) => unknown) | undefined,
  ): Promise<UpgradeChildrenResult> {
    let impl: ReturnType<typeof toImpl>;
    try {
      impl = toImpl(behavior, 'upgradeChildren');
    } catch {
      return { ok: false, upgraded: 0, failed: [], reason: 'bad_behavior' };
    }
    const failed: Array<{ ref: Ref<never>; error: Error | 'dead' }> = [];
    let upgraded = 0;
    await Promise.all(
      children.map(async (c) => {
        c.spec = { ...c.spec, behavior };
        const cell = c.cell;
        if (cell === undefined || c.status === 'stopped' || !cell.alive) return;
        const r = await new Promise<UpgradeResult>((done) =>
          requestUpgrade(cell, { impl, migrate: migrate as ((s: unknown) => unknown) | undefined, done }),
        );
        if (r.ok) upgraded++;
        else failed.push({ ref: cell as Ref<never>, error: r.reason === 'dead' ? 'dead' : r.error });
      }),
    );
    return { ok: failed.length === 0, upgraded, failed };
  }

  /** The supervisor's terminate: stop every child, newest first, each by its shutdown spec. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    const children = [...this.all()].reverse();
    for (const c of children) {
      if (c.status === 'stopped') continue;
      await haltChild(this.cell, c, 'die');
      c.status = 'stopped';
    }
  }

  /**
   * The supervisor's incarnation ended without its terminate (killed): its children go too. What it
   * returns settles once they are all gone (undefined: none was alive), so that a restart of this
   * supervisor does not start children under names the old ones still hold. Each is killed if it
   * is not gone within its shutdown spec's time, as a supervisor's terminate would.
   */
  private orphaned(reason: ExitReason): Promise<unknown> | undefined {
    this.stopping = true;
    const clock = this.cell.runtime.clock;
    const gone: Array<Promise<unknown>> = [];
    for (const c of this.all()) {
      const cell = c.cell;
      if (c.status === 'stopped' || cell === undefined || !cell.alive) continue;
      c.whenEnded = 'die';
      if (c.timer !== undefined) clock.clearTimeout(c.timer);
      c.status = 'stopped';
      retire(cell, reason);
      if (!cell.alive) continue;
      // As a gen_server whose parent exits: it stops with the parent's reason, trapping or not
      // (a trapped EXIT from the parent is not a message to handle but the end).
      queueSignal(cell, reason === 'normal' ? 'shutdown' : reason, 'exit');
      const shutdown = c.spec.shutdown;
      if (shutdown === 'brutal_kill') kill(cell);
      let timer: ReturnType<typeof clock.setTimeout> | undefined;
      if (typeof shutdown === 'number' && cell.alive) timer = clock.setTimeout(() => kill(cell), shutdown);
      gone.push(
        cell.whenExited().then(() => {
          if (timer !== undefined) clock.clearTimeout(timer);
        }),
      );
    }
    return gone.length === 0 ? undefined : Promise.all(gone);
  }
}
