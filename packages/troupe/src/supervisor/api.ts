/**
 * The supervisor verbs, OTP's ten, spelled the TypeScript way. Each is a `call` to the supervisor
 * with no timeout (as OTP's), and answers expected outcomes as results:
 * `{ ok: false, reason: 'not_found' | 'running' | 'already_started' | 'already_present' | 'max_children' | 'init_failed' }`.
 */
import { cellOf } from '../actor/internal.js';
import type { Ref } from '../actor/ref.js';
import type { ChildSpec } from './child-spec.js';
import { DynamicCore } from './dynamic.js';
import type {
  ChildCounts,
  ChildInfo,
  ChildResult,
  DynamicSupervisor,
  SpawnChildResult,
  StartChildResult,
  SupervisorRef,
  UpgradeChildrenResult,
} from './messages.js';

const FOREVER = { timeoutMs: Number.POSITIVE_INFINITY } as const;

/**
 * Adds and starts a child: for a static supervisor from a spec (its id must be new), for a dynamic
 * one with the arguments for its template.
 * @example
 * const r = await startChild(sup, { id: 'worker-2', behavior: Worker });
 * if (!r.ok) console.log(r.reason); // 'already_started' | 'already_present' | 'init_failed'
 */
export function startChild<A, M>(sup: DynamicSupervisor<M, A>, args: A): Promise<StartChildResult<M>>;
export function startChild(sup: SupervisorRef, spec: ChildSpec<unknown>): Promise<StartChildResult>;
export function startChild(sup: Ref<never>, x: unknown): Promise<unknown> {
  const r = sup as unknown as Ref<{ type: string; spec: unknown; args: unknown; reply: (v: unknown) => void }>;
  return r.call({ type: 'supervisor.start_child', spec: x, args: x }, FOREVER);
}

/**
 * Stops a child by its shutdown spec (static: by id, and the spec is kept unless temporary;
 * dynamic: by ref, and it is forgotten). `not_found` if there is no such child.
 * @example
 * await terminateChild(sup, 'cache'); // { ok: true }; whichChildren shows it as 'stopped'
 * await terminateChild(rooms, roomRef); // a dynamic supervisor's child, by ref
 */
export function terminateChild<A, M>(sup: DynamicSupervisor<M, A>, child: Ref<never>): Promise<ChildResult>;
export function terminateChild(sup: SupervisorRef, id: string): Promise<ChildResult>;
export function terminateChild(sup: Ref<never>, x: unknown): Promise<ChildResult> {
  const r = sup as unknown as Ref<{ type: string; id: unknown; child: unknown; reply: (v: ChildResult) => void }>;
  return r.call({ type: 'supervisor.terminate_child', id: x, child: x }, FOREVER) as Promise<ChildResult>;
}

/**
 * Starts a stopped child again from its spec (a new ref). `running` if it runs, `not_found` if unknown.
 * @example
 * await terminateChild(sup, 'cache');
 * const r = await restartChild(sup, 'cache'); // r.ref is a new ref: the old one ended with the terminate
 * if (!r.ok) console.error(r.reason);
 */
export function restartChild(sup: SupervisorRef, id: string): Promise<StartChildResult> {
  return sup.call({ type: 'supervisor.restart_child', id }, FOREVER);
}

/**
 * Forgets a stopped child's spec. `running` if it runs, `not_found` if unknown.
 * @example
 * await terminateChild(sup, 'cache');
 * await deleteChild(sup, 'cache'); // { ok: true }: whichChildren no longer lists it
 */
export function deleteChild(sup: SupervisorRef, id: string): Promise<ChildResult> {
  return sup.call({ type: 'supervisor.delete_child', id }, FOREVER);
}

/**
 * Every child with its id, ref, type, status and restart count, in start order.
 * @example
 * for (const c of await whichChildren(sup)) console.log(c.id, c.type, c.status, c.restarts);
 */
export function whichChildren<A, M>(sup: DynamicSupervisor<M, A>): Promise<ChildInfo<M>[]>;
export function whichChildren(sup: SupervisorRef): Promise<ChildInfo[]>;
export function whichChildren(sup: Ref<never>): Promise<ChildInfo<never>[]> {
  return (sup as unknown as SupervisorRef).call({ type: 'supervisor.which_children' }, FOREVER);
}

/**
 * Counts of specs, active children, supervisors and workers.
 * @example
 * const { specs, active } = await countChildren(sup); // active: running or restarting
 */
export function countChildren<A, M>(sup: DynamicSupervisor<M, A>): Promise<ChildCounts>;
export function countChildren(sup: SupervisorRef): Promise<ChildCounts>;
export function countChildren(sup: Ref<never>): Promise<ChildCounts> {
  return (sup as unknown as SupervisorRef).call({ type: 'supervisor.count_children' }, FOREVER);
}

/**
 * Hot upgrade of supervised children: a static supervisor's child `id`, or every child of a dynamic
 * supervisor (omit `id`). Each running child switches between two of its messages, with
 * `migrate(oldState)` making its new state; the spec changes too, so later restarts and new children
 * run the new code. A child whose `migrate` throws keeps its old code and is listed in `failed`.
 * @example
 * await upgradeChildren(rooms, { behavior: roomV2, migrate: (s) => ({ ...s, topic: '' }) });
 */
export function upgradeChildren<A, M>(
  sup: DynamicSupervisor<M, A>,
  options: { readonly behavior: unknown; readonly migrate?: (state: never) => unknown },
): Promise<UpgradeChildrenResult>;
export function upgradeChildren(
  sup: SupervisorRef,
  options: { readonly id: string; readonly behavior: unknown; readonly migrate?: (state: never) => unknown },
): Promise<UpgradeChildrenResult>;
export function upgradeChildren(
  sup: Ref<never>,
  options: { readonly id?: string; readonly behavior: unknown; readonly migrate?: (state: never) => unknown },
): Promise<UpgradeChildrenResult> {
  return (sup as unknown as SupervisorRef).call(
    { type: 'supervisor.upgrade', id: options.id, behavior: options.behavior, migrate: options.migrate },
    FOREVER,
  );
}

/**
 * Starts a child of a dynamic supervisor synchronously, in the caller's turn, and returns its ref at
 * once; its `init` runs before its first message (as `spawn`, where `startChild` is `start`). For
 * callers that cannot wait, such as a socket callback that must route the next frame: no frame can
 * arrive before the actor exists. A failing init is a crash the supervisor restarts by its spec.
 * Answers `max_children` or `shutting_down` as results.
 * @example
 * const r = spawnChild(sockets, { socket });
 * if (r.ok) r.ref.send({ type: 'hello' });
 */
export function spawnChild<A, M>(sup: DynamicSupervisor<M, A>, args: A): SpawnChildResult<M> {
  const cell = cellOf(sup, 'spawnChild');
  const core = cell.alive ? cell.state : undefined;
  if (!(core instanceof DynamicCore)) {
    if (!cell.alive) return { ok: false, reason: 'shutting_down' };
    throw new TypeError('spawnChild(sup, args): sup must be the ref of a started dynamicSupervisor()');
  }
  return core.spawnNow(args) as SpawnChildResult<M>;
}
