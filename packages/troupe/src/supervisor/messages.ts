/**
 * What the supervisor verbs send and get back. Expected outcomes are results, never exceptions:
 * `{ ok: false, reason: 'not_found' }` and friends. A crash of the supervisor itself reaches the
 * caller as an `ExitError`, like any `call`.
 */
import type { Reply } from '../actor/messages.js';
import type { Ref } from '../actor/ref.js';
import type { ChildSpec } from './child-spec.js';

/** A child's state as `whichChildren` reports it. */
export type ChildStatus = 'running' | 'restarting' | 'stopped';

/** The result of `startChild` and `restartChild`. */
export type StartChildResult<M = never> =
  | { readonly ok: true; readonly ref: Ref<M> }
  | { readonly ok: false; readonly reason: 'already_started'; readonly ref: Ref<M> }
  | {
      readonly ok: false;
      readonly reason:
        | 'already_present'
        | 'not_found'
        | 'running'
        | 'restarting'
        | 'max_children'
        | 'shutting_down'
        | 'dynamic_supervisor';
    }
  | { readonly ok: false; readonly reason: 'init_failed'; readonly error: Error };

/** The result of `spawnChild`. */
export type SpawnChildResult<M = never> =
  | { readonly ok: true; readonly ref: Ref<M> }
  | { readonly ok: false; readonly reason: 'max_children' | 'shutting_down' };

/**
 * The result of `terminateChild` and `deleteChild`. `restarting`: the child's restart is under way
 * (its new incarnation has not finished `init`); `dynamic_supervisor`: a dynamic supervisor keeps
 * no specs by id to restart or delete (OTP's `simple_one_for_one`).
 */
export type ChildResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'not_found' | 'running' | 'restarting' | 'dynamic_supervisor' };

/**
 * One row of `whichChildren`, in start order. `M` is what the child accepts when the supervisor
 * knows it (a dynamic supervisor's children all take `M`); a static supervisor's children differ,
 * so their refs are `Ref<never>`: find a sibling you send to by its `name`.
 */
export interface ChildInfo<M = never> {
  readonly id: string;
  /** The child's ref while it is running or restarting; undefined once stopped. */
  readonly ref: Ref<M> | undefined;
  readonly type: 'worker' | 'supervisor';
  readonly status: ChildStatus;
  /** Restarts since the child was (last) started by spec. */
  readonly restarts: number;
}

/** `countChildren`, as OTP's `count_children`. */
export interface ChildCounts {
  /** Child specs held (running or not). */
  readonly specs: number;
  /** Children running: not stopped, and not restarting (a restart whose `init` has not finished). */
  readonly active: number;
  readonly supervisors: number;
  readonly workers: number;
}

/** The result of `upgradeChildren`: how many children moved to the new code, and which did not. */
export interface UpgradeChildrenResult {
  readonly ok: boolean;
  readonly upgraded: number;
  readonly failed: ReadonlyArray<{ readonly ref: Ref<never>; readonly error: Error | 'dead' }>;
  /** Set when nothing was upgraded because the request was wrong (unknown id, bad behaviour). */
  readonly reason?: 'not_found' | 'bad_behavior';
}

/** The upgrade request both kinds of supervisor accept (sent by `upgradeChildren`). */
export interface UpgradeRequestMsg {
  readonly type: 'supervisor.upgrade';
  readonly id: string | undefined;
  readonly behavior: unknown;
  readonly migrate: ((state: never) => unknown) | undefined;
  readonly reply: Reply<UpgradeChildrenResult>;
}

/** The requests a static supervisor accepts. */
export type SupervisorRequest =
  | {
      readonly type: 'supervisor.start_child';
      readonly spec: ChildSpec<unknown>;
      readonly reply: Reply<StartChildResult>;
    }
  | { readonly type: 'supervisor.terminate_child'; readonly id: string; readonly reply: Reply<ChildResult> }
  | { readonly type: 'supervisor.restart_child'; readonly id: string; readonly reply: Reply<StartChildResult> }
  | { readonly type: 'supervisor.delete_child'; readonly id: string; readonly reply: Reply<ChildResult> }
  | { readonly type: 'supervisor.which_children'; readonly reply: Reply<ChildInfo[]> }
  | { readonly type: 'supervisor.count_children'; readonly reply: Reply<ChildCounts> }
  | UpgradeRequestMsg;

/** The requests a dynamic supervisor of children taking `A` and accepting `M` accepts. */
export type DynamicSupervisorRequest<A, M> =
  | { readonly type: 'supervisor.start_child'; readonly args: A; readonly reply: Reply<StartChildResult<M>> }
  | { readonly type: 'supervisor.terminate_child'; readonly child: Ref<never>; readonly reply: Reply<ChildResult> }
  | { readonly type: 'supervisor.which_children'; readonly reply: Reply<ChildInfo<M>[]> }
  | { readonly type: 'supervisor.count_children'; readonly reply: Reply<ChildCounts> }
  /** Answered at once with `dynamic_supervisor`: there is no spec by id to restart or delete. */
  | { readonly type: 'supervisor.restart_child'; readonly id: string; readonly reply: Reply<StartChildResult<M>> }
  | { readonly type: 'supervisor.delete_child'; readonly id: string; readonly reply: Reply<ChildResult> }
  | UpgradeRequestMsg;

/** A static supervisor's ref. */
export type SupervisorRef = Ref<SupervisorRequest>;

/**
 * A dynamic supervisor's ref, its generics in `Behavior`'s order: its children accept `M` and
 * take `A` at start (`DynamicSupervisor<RoomMsg, RoomArgs>`).
 */
export type DynamicSupervisor<M = never, A = unknown> = Ref<DynamicSupervisorRequest<A, M>>;

/**
 * @deprecated Its generics run opposite to `Behavior<M, S, A>`: use `DynamicSupervisor<M, A>`.
 * `DynamicSupervisorRef<A, M>` is `DynamicSupervisor<M, A>`.
 */
export type DynamicSupervisorRef<A = unknown, M = never> = DynamicSupervisor<M, A>;

/** What a supervisor logs (through the system logger) when a child exits abnormally. */
export interface SupervisorReport {
  readonly supervisor: string;
  /** The supervisors from the root of the tree down to the child's, as `Ref<1 app>` strings. */
  readonly path: readonly string[];
  readonly childId: string;
  /** A dynamic supervisor's child: its `childId` is its ref's id, and its `args` tell it apart. */
  readonly dynamic: boolean;
  readonly child: string;
  /** The names the child holds (registry keys), oldest first. */
  readonly names: readonly unknown[];
  readonly reason: unknown;
  /** The child's spec as it was given. */
  readonly spec: ChildSpec<unknown>;
  /** What the child's `init` gets (a dynamic child's own args). */
  readonly args: unknown;
  /** The last messages it handled, oldest first; the last one crashed it when the reason is an error. */
  readonly messages: readonly unknown[];
  /** The state the crashing message was handled on (undefined when it did not crash in a handler). */
  readonly state: unknown;
  readonly restarts: number;
}
