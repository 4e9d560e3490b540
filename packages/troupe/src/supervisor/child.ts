/**
 * What both kinds of supervisor share: the record of one child, which is also the hook that turns the
 * child's exits into notices in the supervisor's mailbox, and the three things a supervisor does to a child:
 * start it, halt it (by its shutdown spec: ask, wait, then kill) and restart it in place (same ref,
 * kept mailbox, optional backoff).
 */
import type { Context } from '../actor/context.js';
import {
  type Cell,
  F_RECORD,
  GuardedContext,
  IncarnationContext,
  incarnationOf,
  kill,
  namesHeld,
  phaseOf,
  queueSignal,
  type Registration,
  retire,
  revive,
  type SupervisedHook,
} from '../actor/internal.js';
import type { Ref } from '../actor/ref.js';
import type { ExitReason } from '../exit-reason.js';
import { SystemMessage } from '../mailbox/mailbox.js';
import type { ClockTimer } from '../timers/clock.js';
import { backoffDelay } from './backoff.js';
import type { NormalizedSpec } from './child-spec.js';
import type { ChildStatus } from './messages.js';
import type { RestartWindow } from './restart-window.js';

/**
 * @internal The record of one child, and the hook on its cell: one object per child, not two. The
 * supervisor's half (status, restarts, backoff) lives as long as the child's spec; the hook's half
 * (whenEnded, the incarnation number, its context, recent messages) starts afresh with each new cell.
 * It is also the context of its first cell's first incarnation (`GuardedContext`); later
 * incarnations, and the incarnations of a later cell, get an `IncarnationContext` each.
 */
export abstract class Child extends GuardedContext implements SupervisedHook {
  cell: Cell | undefined = undefined;
  /** `status` and `whenEnded` in one small integer (bits 0-1 and 2-3): two fields fewer per child. */
  #bits = 0;
  /** The incarnation the supervisor last started; notices about older ones are stale. */
  startedIncarnation = 0;
  /**
   * When its incarnation started, in whole milliseconds of the system clock: an integer is stored
   * in the record itself, a fractional time (the real clock's) would cost a heap number per child.
   */
  startedAt = 0;
  // The hook's half (SupervisedHook), reset by `spawnChildCell`.
  incarnation = 0;
  ctx: Context<unknown> | undefined = undefined;
  /** Its cell's registry entries (`Cell.registrations`). */
  registrations: Registration | undefined = undefined;
  /**
   * What most children never need (restart counts, a backoff timer, the own restart window, a
   * crash's poison, a halt under way), made the first time one is set: a chat server holds a child
   * record per connection, and these would be a third of it.
   */
  #rare: ChildRare | undefined = undefined;

  /** `args`: what `init` gets: the spec's args, or a dynamic child's own (the spec itself is shared). */
  constructor(
    public spec: NormalizedSpec,
    readonly args: unknown = spec.args,
  ) {
    super();
  }

  /** As a context: the first cell's, kept aside once the record has moved on from it. */
  protected actor(): Cell {
    return this.#rare?.firstCell ?? (this.cell as Cell);
  }
  protected live(): boolean {
    const cell = this.cell;
    return this.ctx === this && cell !== undefined && this.#rare?.firstCell === undefined && incarnationOf(cell) === 0;
  }

  /**
   * The record lets go of the (dead) cell it holds, before a new cell or none after a failed start:
   * the cell drops its hook, and the record the cell's names (gone with its death). Leaving its
   * first cell, whose first context it was (even if a restart in place has given that cell a
   * context of its own since), it keeps the cell: late calls through it from that first
   * incarnation act on (or are refused for) that cell, never the next one. At most one dead cell
   * per record is kept so, and only by a record that has moved on.
   */
  leaveCell(): void {
    const cell = this.cell;
    if (cell === undefined) return;
    if (this.#rare?.firstCell === undefined) this.rareNow().firstCell = cell;
    cell.dropHook();
    this.registrations = undefined;
  }

  /** The supervisor's cell (a dynamic child reads it from the spec it shares with its siblings). */
  abstract get supervisor(): Cell;

  get status(): ChildStatus {
    const b = this.#bits & 3;
    return b === 0 ? 'stopped' : b === 1 ? 'running' : 'restarting';
  }
  set status(s: ChildStatus) {
    this.#bits = (this.#bits & ~3) | (s === 'stopped' ? 0 : s === 'running' ? 1 : 2);
  }
  get whenEnded(): 'notify' | 'hold' | 'die' {
    const b = this.#bits >> 2;
    return b === 0 ? 'notify' : b === 1 ? 'hold' : 'die';
  }
  set whenEnded(w: 'notify' | 'hold' | 'die') {
    this.#bits = (this.#bits & 3) | ((w === 'notify' ? 0 : w === 'hold' ? 1 : 2) << 2);
  }
  /** The last handled messages (SupervisedHook.recent), kept with the rare parts: most children record none. */
  get recent(): unknown[] | undefined {
    return this.#rare?.recent;
  }
  set recent(r: unknown[] | undefined) {
    if (r !== undefined || this.#rare !== undefined) this.rareNow().recent = r;
  }
  get restarts(): number {
    return this.#rare?.restarts ?? 0;
  }
  set restarts(n: number) {
    if (n !== 0 || this.#rare !== undefined) this.rareNow().restarts = n;
  }
  /** Restarts since the child last ran for `backoff.resetAfterMs`. */
  get consecutive(): number {
    return this.#rare?.consecutive ?? 0;
  }
  set consecutive(n: number) {
    if (n !== 0 || this.#rare !== undefined) this.rareNow().consecutive = n;
  }
  get timer(): ClockTimer {
    return this.#rare?.timer;
  }
  set timer(t: ClockTimer) {
    if (t !== undefined || this.#rare !== undefined) this.rareNow().timer = t;
  }
  /** The child's own restarts under `spec.restartLimit`; made at its first restart. */
  get window(): RestartWindow | undefined {
    return this.#rare?.window;
  }
  set window(w: RestartWindow | undefined) {
    if (w !== undefined || this.#rare !== undefined) this.rareNow().window = w;
  }
  get poison(): { msg: unknown; state: unknown } | undefined {
    return this.#rare?.poison;
  }
  set poison(p: { msg: unknown; state: unknown } | undefined) {
    if (p !== undefined || this.#rare !== undefined) this.rareNow().poison = p;
  }
  get halted(): (() => void) | undefined {
    return this.#rare?.halted;
  }
  set halted(h: (() => void) | undefined) {
    if (h !== undefined || this.#rare !== undefined) this.rareNow().halted = h;
  }

  // TypeScript's `private`, not a `#` method: a class with `#` methods keeps a brand in every
  // instance (8 bytes, and a chat holds a child record per connection).
  private rareNow(): ChildRare {
    let r = this.#rare;
    if (r === undefined) r = this.#rare = new ChildRare();
    return r;
  }

  /** Its cell's label: the spec's. */
  get label(): string | undefined {
    return this.spec.label;
  }

  /** The child's id: the spec's (a dynamic child's is its ref's, see `DynamicChild`). */
  get id(): string {
    return this.spec.id;
  }

  get ref(): Ref<never> | undefined {
    return this.status === 'stopped' ? undefined : (this.cell as Ref<never> | undefined);
  }

  get keepMailbox(): boolean {
    return this.spec.keepMailbox;
  }

  get trapsExits(): boolean {
    return this.spec.trapExit;
  }

  get childId(): string {
    return this.id;
  }

  ended(cell: Cell, reason: ExitReason, poison: { msg: unknown; state: unknown } | undefined): void {
    if (!this.supervisor.alive) {
      retire(cell, reason);
      return;
    }
    const messages: unknown[] = [];
    const recent = this.recent;
    if (recent !== undefined) {
      const n = recent.length - 1;
      const next = recent[n] as number;
      for (let i = 0; i < n; i++) {
        const m = recent[(next + i) % n];
        if (m !== undefined) messages.push(m);
      }
      recent.fill(undefined);
      recent[n] = 0;
    }
    if (poison !== undefined && messages[messages.length - 1] !== poison.msg) messages.push(poison.msg);
    // The supervisor hears of it next, not after the whole run queue: the restart is what the child's
    // waiting mail (and its peers) are waiting for.
    this.supervisor.pushUrgent(
      new ChildDown(this, cell, this.incarnation - 1, reason, messages, poison?.state, namesHeld(cell)),
    );
  }
}

/** @internal A static supervisor's child: its own spec, and its supervisor in the record. */
export class StaticChild extends Child {
  constructor(
    readonly supervisor: Cell,
    spec: NormalizedSpec,
  ) {
    super(spec);
  }
}

/** @internal The rarely set part of a child's record (`Child`). */
class ChildRare {
  restarts = 0;
  consecutive = 0;
  timer: ClockTimer = undefined;
  window: RestartWindow | undefined = undefined;
  poison: { msg: unknown; state: unknown } | undefined = undefined;
  halted: (() => void) | undefined = undefined;
  recent: unknown[] | undefined = undefined;
  /** The first cell, once the record (its first context) has moved on to another cell. */
  firstCell: Cell | undefined = undefined;
}

/** @internal A child's incarnation ended; sent by the child's hook to its supervisor. */
export class ChildDown extends SystemMessage {
  constructor(
    readonly child: Child,
    /**
     * The cell whose incarnation ended: a notice still queued when the record has moved on to a
     * new cell (terminateChild then restartChild) is not that cell's, even at the same incarnation.
     */
    readonly cell: Cell,
    readonly incarnation: number,
    readonly reason: ExitReason,
    readonly messages: readonly unknown[],
    /** The state the crash happened on (undefined for an exit that was not a handler's crash). */
    readonly state: unknown,
    /** The names the child holds, for the crash report. */
    readonly names: readonly unknown[],
  ) {
    super();
  }
}

/**
 * @internal A child's backoff delay is over: time to restart it. The timer only sends this notice;
 * the restart itself happens in the supervisor's turn, as every change to its children does.
 */
export class RestartDue extends SystemMessage {
  constructor(readonly child: Child) {
    super();
  }
}

/** @internal Spawns a child's first incarnation in a new cell; its init runs later. */
export function spawnChildCell(sup: Cell, child: Child): Cell {
  const spec = child.spec;
  // No args here: a supervised cell's init reads them from its hook (the child), every incarnation.
  // The record lets go of its last cell (dead by now), and takes the new one.
  child.leaveCell();
  // No label either: a supervised cell's label is its spec's, read through its hook.
  const cell = sup.runtime.spawn(
    spec.behavior,
    {
      trapExit: spec.trapExit,
      ...(spec.mailbox === undefined ? {} : { mailbox: spec.mailbox }),
      ...(spec.name === undefined ? {} : { name: spec.name }),
    },
    sup,
    'supervisor.startChild',
    child,
  );
  child.whenEnded = 'notify';
  child.poison = undefined;
  if (spec.reportMessages > 0) {
    const recent: unknown[] = new Array(spec.reportMessages + 1).fill(undefined);
    recent[spec.reportMessages] = 0;
    child.recent = recent;
  } else child.recent = undefined;
  child.incarnation = 0;
  child.halted = undefined;
  // The record is its first cell's first context; once used, it never is again (a late call
  // through it from that incarnation must not act on this cell).
  child.ctx = child.ctx === undefined ? child : new IncarnationContext(cell, 0);
  if (child.recent !== undefined) cell.flags |= F_RECORD;
  child.cell = cell;
  child.startedIncarnation = 0;
  child.status = 'running';
  child.startedAt = Math.floor(sup.runtime.clock.now());
  child.consecutive = 0;
  return cell;
}

/** @internal Starts a new incarnation in a new cell; resolves once its init finished. */
export async function startChildCell(sup: Cell, child: Child): Promise<void> {
  const cell = spawnChildCell(sup, child);
  try {
    await cell.whenStarted();
  } catch (e) {
    retire(cell, e instanceof Error ? e : 'shutdown');
    child.leaveCell();
    child.cell = undefined;
    child.status = 'stopped';
    throw e;
  }
}

/**
 * Stops a child by its shutdown spec: `brutal_kill` kills at once; a number asks it to stop
 * (its `terminate` runs) and kills it if it is not done within that many ms; `infinity` waits.
 * `then: 'die'` ends the ref for good; `'hold'` leaves it restarting, for the supervisor to revive.
 */
export function haltChild(
  sup: Cell,
  child: Child,
  then: 'die' | 'hold',
  reason: ExitReason = 'shutdown',
): Promise<void> {
  const cell = child.cell;
  const clock = sup.runtime.clock;
  if (child.timer !== undefined) {
    clock.clearTimeout(child.timer);
    child.timer = undefined;
  }
  if (cell === undefined || !cell.alive) return Promise.resolve();
  if (phaseOf(cell) === 'restarting') {
    if (then === 'die') retire(cell, reason);
    return Promise.resolve();
  }
  child.whenEnded = then;
  return new Promise((resolve) => {
    let timer: ClockTimer;
    child.halted = () => {
      child.halted = undefined;
      if (timer !== undefined) clock.clearTimeout(timer);
      resolve();
    };
    const shutdown = child.spec.shutdown;
    if (shutdown === 'brutal_kill') {
      kill(cell);
    } else {
      queueSignal(cell, reason, 'stop');
      if (typeof shutdown === 'number') timer = clock.setTimeout(() => kill(cell), shutdown);
    }
  });
}

/** The delay before the next restart of `child` under its backoff spec (0 without one). */
export function nextDelay(sup: Cell, child: Child, random: () => number): number {
  const b = child.spec.backoff;
  if (b === undefined) return 0;
  if (sup.runtime.clock.now() - child.startedAt >= b.resetAfterMs) child.consecutive = 0;
  child.consecutive++;
  return backoffDelay(b, child.consecutive, random);
}

/** Starts the next incarnation of a restarting child in place: same ref, kept mailbox. */
export function reviveChild(sup: Cell, child: Child): void {
  const cell = child.cell;
  if (cell === undefined || phaseOf(cell) !== 'restarting') return;
  const runtime = sup.runtime;
  child.status = 'running';
  child.startedIncarnation = child.incarnation;
  child.restarts++;
  child.startedAt = Math.floor(runtime.clock.now());
  revive(cell);
  if (runtime.observed) {
    runtime.emit({
      type: 'restarted',
      ref: cell as Ref<never>,
      supervisor: sup as Ref<never>,
      childId: child.id,
      restarts: child.restarts,
    });
  }
}

/** Ends a child for good and marks it stopped. */
export function retireChild(child: Child, reason: ExitReason): void {
  if (child.cell !== undefined) retire(child.cell, reason);
  child.status = 'stopped';
}
