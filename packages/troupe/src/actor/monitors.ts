/**
 * Monitors: a one-way watch. The watcher (an actor, or a `system.watch` callback) gets one `DOWN`
 * when the target dies, `noproc` at once if it is already dead. A monitor ends with the watcher's
 * incarnation: a supervised actor that restarts holds none of its old monitors.
 */
import type { ExitReason } from '../exit-reason.js';
import type { Cell, Ext } from './cell.js';
import * as flags from './flags.js';
import { DownInfo, type MonitorRef } from './messages.js';
import type { Ref } from './ref.js';
import type { RemoteActors } from './remote.js';

// Local copies: a local constant costs V8 nothing to read, an imported binding a module-cell load (flags.ts).
const P_DEAD = flags.P_DEAD;

/** @internal Who is told: an actor, or a callback (`system.watch`). */
export type Watcher = Cell | ((reason: ExitReason, ref: Cell) => void);

/**
 * @internal One monitor. It sits in its target's list of monitors (newest first, doubly linked so
 * that it leaves in O(1): most actors have one or two monitors, and a Map's table would cost more
 * than the entries) and, for an actor watcher, in that watcher's `watching` map by id.
 */
export class Monitor {
  prev: Monitor | undefined = undefined;
  next: Monitor | undefined = undefined;
  constructor(
    readonly id: MonitorRef,
    readonly target: Cell,
    readonly watcher: Watcher,
  ) {}

  /** Leaves its target's list; false if it is not in it (removed, or the target is dead: it fired). */
  remove(): boolean {
    const target = this.target;
    if ((target.flags & P_DEAD) !== 0) return false;
    const { prev, next } = this;
    if (prev !== undefined) prev.next = next;
    else if (target.ext?.monitors === this) (target.ext as Ext).monitors = next;
    else return false;
    if (next !== undefined) next.prev = prev;
    this.prev = this.next = undefined;
    return true;
  }
}

/**
 * Registers a watcher of `target` and returns its monitor; if `target` is dead, delivers `noproc`
 * at once and returns the id alone.
 */
export function addMonitor(target: Cell, watcher: Watcher): Monitor | MonitorRef {
  const id = target.runtime.nextMonitorId();
  if ((target.flags & P_DEAD) !== 0) {
    if (typeof watcher === 'function') watcher('noproc', target);
    else watcher.deliverInfo(new DownInfo(id, target as never, 'noproc'));
    return id;
  }
  const ext = target.ensureExt();
  const m = new Monitor(id, target, watcher);
  const head = ext.monitors;
  if (head !== undefined) {
    m.next = head;
    head.prev = m;
  }
  ext.monitors = m;
  return m;
}

/** `ctx.monitor`: the actor `watcher` watches `target`. */
export function monitor(watcher: Cell, target: Cell): MonitorRef {
  // A dead watcher (a late call from an async handler that outlived it) holds no monitor: a fresh
  // id that nothing will fire.
  if ((watcher.flags & P_DEAD) !== 0) return watcher.runtime.nextMonitorId();
  const m = addMonitor(target, watcher);
  if (typeof m === 'number') return m;
  const ext = watcher.ensureExt();
  if (ext.watching === undefined) ext.watching = new Map();
  ext.watching.set(m.id, m);
  return m.id;
}

/**
 * `ctx.monitor` of an actor on another node: the watcher holds the remote ref under a fresh id, and
 * the distribution layer reports the `DOWN` (`remoteDown`).
 */
export function monitorRemote(watcher: Cell, remote: RemoteActors, target: Ref<never>): MonitorRef {
  const id = watcher.runtime.nextMonitorId();
  if ((watcher.flags & P_DEAD) !== 0) return id;
  const ext = watcher.ensureExt();
  if (ext.watching === undefined) ext.watching = new Map();
  ext.watching.set(id, target);
  remote.monitor(id, watcher as Ref<never>, target);
  return id;
}

/** A remote target of `watcher`'s monitor `id` is down: one `DOWN`, unless the monitor was dropped. */
export function remoteDown(watcher: Cell, id: MonitorRef, target: Ref<never>, reason: ExitReason): void {
  const watching = watcher.ext?.watching;
  if (watching === undefined || watching.get(id) !== target) return;
  watching.delete(id);
  watcher.deliverInfo(new DownInfo(id, target, reason));
}

/**
 * `ctx.demonitor`: false if the monitor had fired or never existed. A remote monitor is dropped
 * here and by its layer; whether its `DOWN` was already on the way is not known here, so it is true.
 */
export function demonitor(watcher: Cell, id: MonitorRef): boolean {
  const m = watcher.ext?.watching?.get(id);
  if (m === undefined) return false;
  (watcher.ext as Ext).watching?.delete(id);
  if (m instanceof Monitor) return m.remove();
  watcher.runtime.remote?.demonitor(id, m);
  return true;
}

/** The watcher's incarnation ended: the monitors it holds go. */
export function dropWatching(cell: Cell): void {
  const ext = cell.ext;
  if (ext?.watching === undefined) return;
  for (const [id, m] of ext.watching) {
    if (m instanceof Monitor) m.remove();
    else cell.runtime.remote?.demonitor(id, m);
  }
  ext.watching = undefined;
}

/** `cell` died (it is marked dead already): every watcher is told, oldest monitor first. */
export function fireMonitors(cell: Cell, reason: ExitReason): void {
  const ext = cell.ext;
  if (ext?.monitors === undefined) return;
  // A monitor removed meanwhile (by a watch callback) still fires: the target is dead already.
  let m: Monitor | undefined = ext.monitors;
  ext.monitors = undefined;
  while (m.next !== undefined) m = m.next;
  for (; m !== undefined; m = m.prev) {
    const w = m.watcher;
    if (typeof w === 'function') {
      // A watcher is user code (system.watch): its failure must not stop the others or the exit.
      try {
        w(reason, cell);
      } catch (e) {
        cell.runtime.logger.error({ err: e, actor: cell.toString() }, 'a watch callback threw');
      }
    } else {
      w.ext?.watching?.delete(m.id);
      w.deliverInfo(new DownInfo(m.id, cell as never, reason));
    }
  }
}
