/**
 * The static supervisor: children from a list of specs, started in order, restarted by a strategy
 * within a restart-intensity window, stopped in reverse order. Build its behaviour with
 * `supervisor({ ... })` and start it like any actor; manage it with the verbs in `api.ts`.
 */
import type { Behavior } from '../actor/behavior.js';
import type { Context } from '../actor/context.js';
import { type Cell, cellOf } from '../actor/internal.js';
import { NameTakenError } from '../errors.js';
import { type Child, ChildDown, haltChild, RestartDue, reviveChild, StaticChild, startChildCell } from './child.js';
import { type ChildSpec, type NormalizedSpec, normalizeSpec, SUPERVISOR_BEHAVIOR } from './child-spec.js';
import { type IntensityOptions, SupervisorCore, statusOf } from './core.js';
import type { ChildCounts, ChildResult, StartChildResult, SupervisorRequest } from './messages.js';
import { oneForAll } from './one-for-all.js';
import { oneForOne } from './one-for-one.js';
import { restForOne } from './rest-for-one.js';
import { RestartWindow } from './restart-window.js';
import type { Strategy, StrategyName } from './strategy.js';

/** Options of `supervisor()`. */
export interface SupervisorOptions extends IntensityOptions {
  /** Which children restart when one fails. Default `one_for_one`. */
  readonly strategy?: StrategyName;
  /** Started in this order when the supervisor starts; stopped in reverse. */
  readonly children: readonly ChildSpec<unknown>[];
}

const STRATEGIES: Record<StrategyName, Strategy> = {
  one_for_one: oneForOne,
  one_for_all: oneForAll,
  rest_for_one: restForOne,
};

const OPTION_KEYS = new Set(['strategy', 'children', 'maxRestarts', 'withinMs', 'random']);

/** The behaviour `supervisor()` returns: spawn or start it, or use it as a child's `behavior`. */
export type SupervisorBehavior = Behavior<SupervisorRequest, object> & { readonly [SUPERVISOR_BEHAVIOR]: 'static' };

/**
 * Defines a supervisor. Specs are checked here, so a mistake throws before anything starts.
 * @example
 * const sup = await system.start(supervisor({
 *   strategy: 'one_for_one',
 *   maxRestarts: 3, withinMs: 5_000,
 *   children: [{ id: 'cache', behavior: Cache }, { id: 'api', behavior: Api, restart: 'transient' }],
 * }));
 */
export function supervisor(options: SupervisorOptions): SupervisorBehavior {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `supervisor(options): options must be an object like { strategy: 'one_for_one', children: [...] }`,
    );
  }
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.has(k)) {
      throw new TypeError(
        `supervisor(options): unknown option '${k}'; accepted options are ${[...OPTION_KEYS].join(', ')}`,
      );
    }
  }
  const strategyName = options.strategy ?? 'one_for_one';
  const strategy = STRATEGIES[strategyName];
  if (strategy === undefined) {
    throw new TypeError(
      `supervisor(options): strategy must be one of ${Object.keys(STRATEGIES).join(', ')}; got ${String(strategyName)}`,
    );
  }
  if (!Array.isArray(options.children)) {
    throw new TypeError('supervisor(options): children must be an array of child specs (it may be empty)');
  }
  const specs = options.children.map((s) => normalizeSpec(s, 'supervisor(options)'));
  const ids = new Set<string>();
  for (const s of specs) {
    if (ids.has(s.id))
      throw new TypeError(`supervisor(options): two children have the id '${s.id}'; ids must be unique`);
    ids.add(s.id);
  }
  // Checks maxRestarts and withinMs now, with the window's teaching RangeError, rather than at start.
  new RestartWindow(options.maxRestarts, options.withinMs);
  return {
    [SUPERVISOR_BEHAVIOR]: 'static',
    name: 'supervisor',
    summary: (core: StaticCore) => `${strategyName}, ${core.children.length} children, ${core.intensity()}`,
    async init(ctx: Context<SupervisorRequest>) {
      const core = new StaticCore(cellOf(ctx.self, 'supervisor'), options, strategy, specs);
      await core.startAll();
      return core;
    },
    receive(core: StaticCore, msg: SupervisorRequest | ChildDown | RestartDue) {
      return core.handle(msg);
    },
    terminate(core: StaticCore) {
      return core.stopAll();
    },
  };
}

/** @internal */
export class StaticCore extends SupervisorCore {
  readonly strategy: Strategy;
  readonly children: Child[];
  readonly byId = new Map<string, Child>();

  constructor(cell: Cell, options: SupervisorOptions, strategy: Strategy, specs: readonly NormalizedSpec[]) {
    super(cell, options);
    this.strategy = strategy;
    this.children = specs.map((s) => new StaticChild(cell, s));
    for (const c of this.children) this.byId.set(c.id, c);
  }

  all(): Iterable<Child> {
    return this.children;
  }

  remove(child: Child): void {
    const i = this.children.indexOf(child);
    if (i >= 0) this.children.splice(i, 1);
    this.byId.delete(child.id);
  }

  /** Starts every child in order; if one fails, stops the started ones (reverse) and fails. */
  async startAll(): Promise<void> {
    for (const c of this.children) {
      try {
        await startChildCell(this.cell, c);
      } catch (e) {
        await this.stopAll();
        throw e;
      }
    }
  }

  handle(msg: SupervisorRequest | ChildDown | RestartDue): undefined | Promise<void> {
    if (msg instanceof ChildDown) return this.onChildDown(msg);
    if (msg instanceof RestartDue) return this.onRestartDue(msg);
    switch (msg.type) {
      case 'supervisor.start_child':
        return this.startChild(msg.spec).then(msg.reply);
      case 'supervisor.terminate_child':
        return this.terminateChild(msg.id).then(msg.reply);
      case 'supervisor.restart_child':
        return this.restartChild(msg.id).then(msg.reply);
      case 'supervisor.delete_child':
        msg.reply(this.deleteChild(msg.id));
        return;
      case 'supervisor.which_children':
        msg.reply(this.children.map((c) => this.info(c)));
        return;
      case 'supervisor.count_children':
        msg.reply(this.count());
        return;
      case 'supervisor.upgrade': {
        const child = msg.id === undefined ? undefined : this.byId.get(msg.id);
        if (child === undefined) {
          msg.reply({ ok: false, upgraded: 0, failed: [], reason: 'not_found' });
          return;
        }
        // Not awaited: the supervisor keeps handling its mailbox (a child that crashes before it
        // reaches the upgrade must still be restarted for the upgrade to complete).
        void this.upgrade([child], msg.behavior, msg.migrate).then(msg.reply);
        return;
      }
      default:
        return;
    }
  }

  restart(failed: Child, delay: number): undefined | Promise<void> {
    const group = this.strategy.group(this.children, failed);
    if (group.length === 1) return this.restartOne(failed, delay);
    return this.restartGroup(failed, group, delay);
  }

  private async restartGroup(failed: Child, group: Child[], delay: number): Promise<void> {
    failed.status = 'restarting';
    for (let i = group.length - 1; i >= 0; i--) {
      const c = group[i] as Child;
      if (c === failed) continue;
      if (c.spec.restart === 'temporary') {
        await haltChild(this.cell, c, 'die');
        c.status = 'stopped';
        this.remove(c);
      } else {
        c.status = 'restarting';
        await haltChild(this.cell, c, 'hold');
      }
    }
    // The supervisor waits inside its own handler, so nothing else changes its children meanwhile.
    if (delay > 0) await new Promise<void>((r) => this.cell.runtime.clock.setTimeout(r, delay));
    if (this.stopping) return;
    for (const c of group) if (c.status === 'restarting' && this.byId.get(c.id) === c) reviveChild(this.cell, c);
  }

  private async startChild(given: ChildSpec<unknown>): Promise<StartChildResult> {
    let spec: NormalizedSpec;
    try {
      spec = normalizeSpec(given, 'startChild(supervisor, spec)');
    } catch (e) {
      return { ok: false, reason: 'init_failed', error: e as Error };
    }
    const existing = this.byId.get(spec.id);
    if (existing !== undefined) {
      const ref = existing.ref;
      // OTP: a running child is already_started; a stopped one, or one whose restart is under way, already_present.
      return ref === undefined || statusOf(existing) === 'restarting'
        ? { ok: false, reason: 'already_present' }
        : { ok: false, reason: 'already_started', ref };
    }
    const child = new StaticChild(this.cell, spec);
    this.children.push(child);
    this.byId.set(spec.id, child);
    const r = await this.startExisting(child);
    // As OTP: a child that fails to start leaves nothing behind, so a second startChild tries again.
    if (!r.ok && this.byId.get(spec.id) === child) this.remove(child);
    return r;
  }

  private async startExisting(child: Child): Promise<StartChildResult> {
    try {
      await startChildCell(this.cell, child);
    } catch (e) {
      if (child.spec.restart === 'temporary') this.remove(child);
      // OTP's {error, {already_started, Pid}}: the child's name is another actor's.
      if (e instanceof NameTakenError) return { ok: false, reason: 'already_started', ref: e.holder as never };
      return { ok: false, reason: 'init_failed', error: e as Error };
    }
    return { ok: true, ref: child.cell as never };
  }

  private async terminateChild(id: string): Promise<ChildResult> {
    const child = this.byId.get(id);
    if (child === undefined) return { ok: false, reason: 'not_found' };
    if (child.status !== 'stopped') {
      await haltChild(this.cell, child, 'die');
      child.status = 'stopped';
    }
    if (child.spec.restart === 'temporary') this.remove(child);
    return { ok: true };
  }

  private async restartChild(id: string): Promise<StartChildResult> {
    const child = this.byId.get(id);
    if (child === undefined) return { ok: false, reason: 'not_found' };
    if (child.status !== 'stopped')
      return { ok: false, reason: statusOf(child) === 'restarting' ? 'restarting' : 'running' };
    child.restarts = 0;
    // Started again by hand: its own restart limit starts afresh too.
    child.window = undefined;
    return this.startExisting(child);
  }

  private deleteChild(id: string): ChildResult {
    const child = this.byId.get(id);
    if (child === undefined) return { ok: false, reason: 'not_found' };
    if (child.status !== 'stopped')
      return { ok: false, reason: statusOf(child) === 'restarting' ? 'restarting' : 'running' };
    this.remove(child);
    return { ok: true };
  }

  private count(): ChildCounts {
    let active = 0;
    let supervisors = 0;
    for (const c of this.children) {
      if (statusOf(c) === 'running') active++;
      if (c.spec.type === 'supervisor') supervisors++;
    }
    return { specs: this.children.length, active, supervisors, workers: this.children.length - supervisors };
  }
}
