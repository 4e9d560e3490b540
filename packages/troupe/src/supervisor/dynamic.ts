/**
 * The dynamic supervisor: many children of one template, started at run time with their own
 * arguments (every chat socket and room lives under one). Always one_for_one; `maxChildren` caps
 * how many run at once; children that exit for good are forgotten. On shutdown every child is asked
 * to stop at once (as Elixir's DynamicSupervisor), each by its shutdown spec.
 */
import type { Behavior, Spawnable } from '../actor/behavior.js';
import type { Context } from '../actor/context.js';
import { type Cell, cellOf, retire, toImpl } from '../actor/internal.js';
import type { Ref } from '../actor/ref.js';
import type { ExitReason } from '../exit-reason.js';
import { Child, ChildDown, haltChild, RestartDue, spawnChildCell } from './child.js';
import { type ChildTemplate, type NormalizedSpec, normalizeSpec, SUPERVISOR_BEHAVIOR } from './child-spec.js';
import { type IntensityOptions, SupervisorCore, statusOf } from './core.js';
import type {
  ChildCounts,
  ChildResult,
  DynamicSupervisorRequest,
  SpawnChildResult,
  StartChildResult,
} from './messages.js';
import { RestartWindow } from './restart-window.js';

function isSpawnable(b: unknown): boolean {
  try {
    toImpl(b, 'upgradeChildren');
    return true;
  } catch {
    return false;
  }
}

/** Options of `dynamicSupervisor()`. */
export interface DynamicSupervisorOptions<M, S, A> extends IntensityOptions {
  /** The spec every child shares; `startChild(sup, args)` supplies its args. */
  readonly child: ChildTemplate<A> & { readonly behavior: Spawnable<M, S, A> };
  /** How many children may run at once; `startChild` beyond it answers `max_children`. Default Infinity. */
  readonly maxChildren?: number;
  /**
   * Called once for every child that ends for good, with its ref, exit reason and args: it exited
   * and is not restarted (its restart type, its own restart limit), it was terminated, its `init`
   * failed in `startChild`, or the supervisor stopped it, even a supervisor that was killed. Not
   * called for a restart in place. What a monitor on every child would tell, without a monitor per
   * child: the cheap way to release what a child's args hold (a socket server closes the child's
   * connection here). It runs inside the runtime as the child dies, before its monitors fire: keep
   * it short; it must not throw (a throw is logged and ignored).
   */
  readonly onChildExit?: (ref: Ref<M>, reason: ExitReason, args: A) => void;
}

/** The behaviour `dynamicSupervisor()` returns. */
export type DynamicSupervisorBehavior<A, M> = Behavior<DynamicSupervisorRequest<A, M>, object> & {
  readonly [SUPERVISOR_BEHAVIOR]: 'dynamic';
};

const OPTION_KEYS = new Set(['child', 'maxChildren', 'onChildExit', 'maxRestarts', 'withinMs', 'random']);

/**
 * Defines a dynamic supervisor.
 * @example
 * const rooms = await system.start(dynamicSupervisor({
 *   child: { behavior: Room, restart: 'transient' },
 *   maxChildren: 10_000,
 * }));
 * const r = await startChild(rooms, { name: 'lobby' }); // r.ok && r.ref: Ref<RoomMsg>
 */
export function dynamicSupervisor<M, S = unknown, A = undefined>(
  options: DynamicSupervisorOptions<M, S, A>,
): DynamicSupervisorBehavior<A, M> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('dynamicSupervisor(options): options must be an object like { child: { behavior: Worker } }');
  }
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.has(k)) {
      throw new TypeError(
        `dynamicSupervisor(options): unknown option '${k}'; accepted options are ${[...OPTION_KEYS].join(', ')}`,
      );
    }
  }
  if (options.child === null || typeof options.child !== 'object') {
    throw new TypeError('dynamicSupervisor(options): child must be a child spec without id, like { behavior: Worker }');
  }
  if ('id' in options.child || 'args' in options.child || 'name' in options.child) {
    throw new TypeError(
      "dynamicSupervisor(options): the child template takes no id (children are known by ref), no args (startChild supplies them) and no name (it would be every child's; register a child from its init)",
    );
  }
  const onChildExit = options.onChildExit;
  if (onChildExit !== undefined && typeof onChildExit !== 'function') {
    throw new TypeError('dynamicSupervisor(options): onChildExit must be a function (ref, reason, args) => void');
  }
  const template: DynamicTemplate = {
    ...normalizeSpec({ ...options.child, id: 'dynamic' }, 'dynamicSupervisor(options)'),
    onChildExit: onChildExit as DynamicTemplate['onChildExit'],
  };
  const maxChildren = options.maxChildren ?? Number.POSITIVE_INFINITY;
  if (typeof maxChildren !== 'number' || Number.isNaN(maxChildren) || maxChildren < 0) {
    throw new RangeError(`dynamicSupervisor(options): maxChildren must be a number >= 0; got ${String(maxChildren)}`);
  }
  new RestartWindow(options.maxRestarts, options.withinMs);
  return {
    [SUPERVISOR_BEHAVIOR]: 'dynamic',
    name: 'dynamic supervisor',
    summary: (core: DynamicCore) => `${core.children.size} children, ${core.intensity()}`,
    init(ctx: Context<DynamicSupervisorRequest<A, M>>) {
      return new DynamicCore(cellOf(ctx.self, 'dynamicSupervisor'), options, template, maxChildren);
    },
    receive(core: DynamicCore, msg: DynamicSupervisorRequest<A, M> | ChildDown | RestartDue) {
      return core.handle(msg as DynamicSupervisorRequest<unknown, unknown> | ChildDown | RestartDue);
    },
    terminate(core: DynamicCore) {
      return core.stopAll();
    },
  };
}

/** The spec every dynamic child shares, with the supervisor's `onChildExit` (one per supervisor, not per child). */
interface DynamicTemplate extends NormalizedSpec {
  readonly onChildExit: ((ref: Ref<never>, reason: ExitReason, args: unknown) => void) | undefined;
}

/** A running supervisor's template: its children's shared spec, and the supervisor itself. */
interface OwnTemplate extends DynamicTemplate {
  readonly supervisor: Cell;
}

/** A dynamic child is known by its ref: its id is the ref's id, made when asked for. */
class DynamicChild extends Child {
  /** The supervisor, from the template it shares with its siblings: no field per child. */
  get supervisor(): Cell {
    return (this.spec as OwnTemplate).supervisor;
  }

  override get id(): string {
    return this.cell === undefined ? this.spec.id : String(this.cell.id);
  }

  died(cell: Cell, reason: ExitReason): void {
    const onChildExit = (this.spec as DynamicTemplate).onChildExit;
    if (onChildExit === undefined) return;
    try {
      onChildExit(cell as Ref<never>, reason, this.args);
    } catch (e) {
      cell.runtime.logger.error({ err: e, actor: cell.toString() }, 'dynamicSupervisor: onChildExit threw');
    }
  }
}

/** @internal */
export class DynamicCore extends SupervisorCore {
  /** In start order. A set, not a map by cell: a cell's record is its hook (a chat holds one per connection). */
  readonly children = new Set<Child>();
  template: OwnTemplate;
  readonly maxChildren: number;

  constructor(cell: Cell, options: IntensityOptions, template: DynamicTemplate, maxChildren: number) {
    super(cell, options);
    this.template = { ...template, supervisor: cell };
    this.maxChildren = maxChildren;
  }

  all(): Iterable<Child> {
    return this.children.values();
  }

  remove(child: Child): void {
    this.children.delete(child);
  }

  restart(failed: Child, delay: number): undefined {
    return this.restartOne(failed, delay);
  }

  handle(msg: DynamicSupervisorRequest<unknown, unknown> | ChildDown | RestartDue): undefined | Promise<void> {
    if (msg instanceof ChildDown) {
      const r = this.onChildDown(msg);
      // A child that ended for good is forgotten.
      if (msg.child.status === 'stopped') this.remove(msg.child);
      return r;
    }
    if (msg instanceof RestartDue) return this.onRestartDue(msg);
    switch (msg.type) {
      case 'supervisor.start_child':
        return this.startChild(msg.args).then(msg.reply);
      case 'supervisor.terminate_child':
        return this.terminateChild(msg.child).then(msg.reply);
      case 'supervisor.which_children':
        msg.reply([...this.children].map((c) => this.info(c)) as never);
        return;
      case 'supervisor.count_children':
        msg.reply(this.count());
        return;
      case 'supervisor.restart_child':
      case 'supervisor.delete_child':
        // OTP's {error, simple_one_for_one}: children are known by ref, and a stopped one is forgotten.
        msg.reply({ ok: false, reason: 'dynamic_supervisor' });
        return;
      case 'supervisor.upgrade': {
        const upgrading = this.upgrade([...this.children], msg.behavior, msg.migrate);
        // The specs (and so the template) switch now; replies come when every child has switched,
        // without blocking the supervisor meanwhile.
        if (isSpawnable(msg.behavior)) this.template = { ...this.template, behavior: msg.behavior };
        void upgrading.then(msg.reply);
        return;
      }
      default:
        return;
    }
  }

  /** `spawnChild`: a child now, init later; the caller's turn, not the supervisor's. */
  spawnNow(args: unknown): SpawnChildResult<unknown> {
    const r = this.#spawn(args);
    return r.ok ? { ok: true, ref: r.cell } : r;
  }

  private async startChild(args: unknown): Promise<StartChildResult<unknown>> {
    const r = this.#spawn(args);
    if (!r.ok) return r;
    const { cell, child } = r;
    try {
      await cell.whenStarted();
    } catch (e) {
      this.children.delete(child);
      retire(cell, e instanceof Error ? e : 'shutdown');
      child.status = 'stopped';
      return { ok: false, reason: 'init_failed', error: e as Error };
    }
    return { ok: true, ref: cell };
  }

  /**
   * Spawns and tracks a child from the start, not from the end of its init: it counts towards
   * maxChildren, and it is stopped with the others if the supervisor goes meanwhile.
   */
  #spawn(
    args: unknown,
  ): { ok: true; cell: Cell; child: Child } | { ok: false; reason: 'shutting_down' | 'max_children' } {
    if (this.stopping) return { ok: false, reason: 'shutting_down' };
    if (this.children.size >= this.maxChildren) return { ok: false, reason: 'max_children' };
    // The template is shared by every child; only its args are the child's own.
    const child = new DynamicChild(this.template, args);
    const cell = spawnChildCell(this.cell, child);
    this.children.add(child);
    return { ok: true, cell, child };
  }

  private async terminateChild(ref: Ref<never>): Promise<ChildResult> {
    let cell: Cell;
    try {
      cell = cellOf(ref, 'terminateChild');
    } catch {
      return { ok: false, reason: 'not_found' };
    }
    const child = cell.hook;
    if (!(child instanceof Child) || !this.children.has(child)) return { ok: false, reason: 'not_found' };
    await haltChild(this.cell, child, 'die');
    child.status = 'stopped';
    this.children.delete(child);
    return { ok: true };
  }

  /** Every child is asked to stop at once; resolves when all are gone. */
  override async stopAll(): Promise<void> {
    this.stopping = true;
    const all = [...this.children].reverse();
    await Promise.all(
      all.map(async (c) => {
        await haltChild(this.cell, c, 'die');
        c.status = 'stopped';
      }),
    );
    this.children.clear();
  }

  private count(): ChildCounts {
    const n = this.children.size;
    let active = 0;
    for (const c of this.children.values()) if (statusOf(c) === 'running') active++;
    const sup = this.template.type === 'supervisor';
    return { specs: n, active, supervisors: sup ? n : 0, workers: sup ? 0 : n };
  }
}
