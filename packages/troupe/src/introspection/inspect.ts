/**
 * `system.inspect()`: a snapshot of the live tree. Every actor appears under the actor that spawned
 * it (a supervisor's children under the supervisor), with its supervisor child id, registered names,
 * status, mailbox length, messages handled, restarts and uptime (for supervised children, whose
 * start time the supervisor keeps; plain actors keep none, to stay small).
 */
import { type Cell, F_AWAIT, F_SCHEDULED, phaseOf } from '../actor/internal.js';
import { Monitor } from '../actor/monitors.js';
import type { Ref } from '../actor/ref.js';
import { namesOf, type UniqueRegistry } from '../registry/registry.js';

/** What an actor is doing. */
export type ActorStatus = 'initializing' | 'idle' | 'runnable' | 'waiting' | 'stopping' | 'restarting' | 'dead';

/** One actor in a {@link SystemSnapshot}. */
export interface ActorInfo {
  readonly ref: Ref<never>;
  /** Its id in its supervisor's spec (dynamic children: the ref's id). */
  readonly childId: string | undefined;
  /** Names it holds in the system registry. */
  readonly names: readonly unknown[];
  readonly label: string | undefined;
  /** The behaviour's name (function or class name). */
  readonly behavior: string;
  readonly status: ActorStatus;
  /** Messages waiting. */
  readonly mailbox: number;
  /** Messages handled since it was spawned, over all its incarnations. */
  readonly handled: number;
  /** Restarts by its supervisor; undefined for unsupervised actors. */
  readonly restarts: number | undefined;
  /** Milliseconds since its current incarnation started (system clock); supervised actors only. */
  readonly uptimeMs: number | undefined;
  /**
   * Its behaviour's one-line summary of its state (`summary`), with `inspect({ summaries: true })`;
   * else undefined. A summary that throws reads `(summary failed: message)`.
   */
  readonly summary: string | undefined;
  readonly children: readonly ActorInfo[];
  /**
   * With `system.describe(ref, { relations: true })` only: the local actors it is linked to, how many
   * monitors watch it, and the actors it monitors (local or remote). Undefined otherwise.
   */
  readonly relations?: ActorRelations;
}

/** An actor's links and monitors, from `system.describe(ref, { relations: true })`. */
export interface ActorRelations {
  readonly links: readonly Ref<never>[];
  /** Monitors on this actor (held by other actors, supervisors included, or by code). */
  readonly monitoredBy: number;
  /** What this actor monitors. */
  readonly monitoring: readonly Ref<never>[];
}

/** The whole live tree and the system's counters. */
export interface SystemSnapshot {
  readonly actors: number;
  readonly deadLetters: number;
  /** Actors nobody (alive) spawned, oldest first. */
  readonly roots: readonly ActorInfo[];
}

/** The phase, and for a running actor whether it waits on a promise, has a turn coming, or neither. */
function statusOf(cell: Cell): ActorStatus {
  const phase = phaseOf(cell);
  switch (phase) {
    case 'starting':
      return 'initializing';
    case 'running':
      if ((cell.flags & F_AWAIT) !== 0) return 'waiting';
      return (cell.flags & F_SCHEDULED) !== 0 ? 'runnable' : 'idle';
    default:
      return phase;
  }
}

function summaryOf(cell: Cell): string | undefined {
  // Only a running actor has a state to sum up.
  if (phaseOf(cell) !== 'running') return undefined;
  try {
    const s = cell.impl.summary(cell.state);
    return s === undefined ? undefined : String(s);
  } catch (e) {
    return `(summary failed: ${e instanceof Error ? e.message : String(e)})`;
  }
}

type Mutable = { -readonly [K in keyof ActorInfo]: ActorInfo[K] } & { children: ActorInfo[] };

/** @internal The links and monitors of a cell. */
export function relationsOf(c: Cell): ActorRelations {
  const ext = c.ext;
  let monitoredBy = 0;
  for (let m = ext?.monitors; m !== undefined; m = m.next) monitoredBy++;
  const monitoring: Ref<never>[] = [];
  for (const w of ext?.watching?.values() ?? []) monitoring.push((w instanceof Monitor ? w.target : w) as Ref<never>);
  return { links: [...(ext?.links ?? [])] as Ref<never>[], monitoredBy, monitoring };
}

/** @internal One actor's info, its `children` empty (the snapshot fills them in). */
export function infoOf(c: Cell, now: number, registry: UniqueRegistry<unknown, unknown>, summaries: boolean): Mutable {
  const ext = c.ext;
  const hook = c.hook;
  return {
    ref: c as Ref<never>,
    childId: hook?.childId,
    names: namesOf(c, registry),
    label: ext?.label ?? hook?.label,
    behavior: c.impl.name,
    status: statusOf(c),
    mailbox: c.mailboxSize(),
    handled: c.handled,
    restarts: hook?.restarts,
    uptimeMs: hook === undefined ? undefined : now - hook.startedAt,
    summary: summaries ? summaryOf(c) : undefined,
    children: [],
  };
}

/** @internal */
export function snapshot(
  cells: readonly Cell[],
  deadLetters: number,
  now: number,
  registry: UniqueRegistry<unknown, unknown>,
  summaries = false,
): SystemSnapshot {
  const infos = new Map<Cell, Mutable>();
  for (const c of cells) infos.set(c, infoOf(c, now, registry, summaries));
  const roots: ActorInfo[] = [];
  for (const c of cells) {
    const info = infos.get(c) as Mutable;
    const parent = c.spawner;
    const p = parent === undefined ? undefined : infos.get(parent);
    if (p === undefined) roots.push(info);
    else p.children.push(info);
  }
  return { actors: cells.length, deadLetters, roots };
}
