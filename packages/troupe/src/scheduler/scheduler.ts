/**
 * The scheduler: one run queue of actors that have work, drained in batches inside one event-loop
 * turn with no promise or microtask per message. Each actor gets at most `budget` messages per
 * turn and then goes to the back of the queue; after `sliceMs` of work the scheduler yields with
 * `setImmediate`, so sockets, timers and other callbacks run even while an actor floods itself.
 * The first send into an idle system starts a drain in a microtask, so work queued from a socket
 * callback runs as soon as that callback returns. Those inline drains share one slice per event-loop
 * iteration: when one poll phase hands over thousands of frames (a backlog read from every socket at
 * once), the actors run for `sliceMs` inline and the rest waits for the check phase, instead of the
 * whole backlog running before any timer, write or other socket gets a turn.
 */
import Denque from 'denque';
import type { Cell } from '../actor/cell.js';

/** Scheduler settings; every field optional. */
export interface SchedulerOptions {
  /** Messages one actor may handle before the next actor gets a turn. Default 300. */
  readonly budget?: number;
  /**
   * Milliseconds of work before yielding to the event loop; inline drains (after socket and timer
   * callbacks) in one event-loop iteration count as one slice. Default 5.
   */
  readonly sliceMs?: number;
}

const IDLE = 0;
const RUNNING = 1;
const PENDING = 2;
const YIELDED = 3;

/** How many messages run between two looks at the clock. */
const CHECK_EVERY = 64;

/** @internal */
export class Scheduler {
  readonly budget: number;
  readonly sliceMs: number;
  private readonly queue = new Denque<Cell>();
  /** Cells on the critical path of a restart; served before `queue`. */
  private readonly urgent = new Denque<Cell>();
  private state = IDLE;
  /** Turns taken since the system started; for introspection and tests. */
  turns = 0;
  /** How often the scheduler yielded to the event loop with work left. */
  yields = 0;
  /** Called when a drain ends (queue empty, or yielding): output batching flushes here. */
  private flushers: Array<() => void> = [];
  /**
   * When this event-loop iteration's first inline drain started, or -1. Inline drains (a microtask
   * after a socket or timer callback) share one slice per iteration: a poll phase that delivers
   * thousands of socket frames must not run all of their work before timers and writes get a turn.
   */
  private windowStart = -1;
  /** When the queue last went from empty to not empty (`performance.now()`), or -1 while idle. */
  private busySince = -1;
  private readonly closeWindow = (): void => {
    this.windowStart = -1;
  };

  constructor(options: SchedulerOptions = {}) {
    const budget = options.budget ?? 300;
    const sliceMs = options.sliceMs ?? 5;
    if (!Number.isInteger(budget) || budget < 1) {
      throw new RangeError(`scheduler.budget must be an integer >= 1; got ${String(budget)}`);
    }
    if (typeof sliceMs !== 'number' || !(sliceMs > 0)) {
      throw new RangeError(`scheduler.sliceMs must be a number > 0; got ${String(sliceMs)}`);
    }
    this.budget = budget;
    this.sliceMs = sliceMs;
  }

  /** Queues a cell that has work. The caller has set its F_SCHEDULED flag. */
  push(cell: Cell): void {
    this.queue.push(cell);
    if (this.state === IDLE) {
      this.busySince = performance.now();
      this.state = PENDING;
      queueMicrotask(this.run);
    }
  }

  /**
   * Queues a cell ahead of the run queue (behind earlier urgent ones: first come, first served). The
   * caller has set its F_SCHEDULED flag.
   */
  pushUrgent(cell: Cell): void {
    this.urgent.push(cell);
    if (this.state === IDLE) {
      this.busySince = performance.now();
      this.state = PENDING;
      queueMicrotask(this.run);
    }
  }

  /** Actors waiting for a turn. */
  get queued(): number {
    return this.queue.length + this.urgent.length;
  }

  /**
   * Milliseconds the scheduler has had work without once running dry; 0 while idle. Under a load the
   * system keeps up with, it runs dry every event-loop iteration or so; a backlog that lasts for
   * hundreds of milliseconds means work arrives faster than it is done.
   */
  get backlogMs(): number {
    return this.busySince < 0 ? 0 : performance.now() - this.busySince;
  }

  /** `true` while a drain is running or about to run. */
  get busy(): boolean {
    return this.state !== IDLE;
  }

  private readonly run = (): void => {
    let start = performance.now();
    if (this.state === PENDING) {
      // Inline, in a microtask: count this iteration's inline work as one slice.
      if (this.windowStart < 0) {
        this.windowStart = start;
        setImmediate(this.closeWindow);
      } else if (start - this.windowStart >= this.sliceMs && this.urgent.length === 0) {
        // The slice is spent: the rest waits for the check phase, after this poll phase's I/O.
        this.yields++;
        this.state = YIELDED;
        setImmediate(this.run);
        return;
      } else start = this.windowStart;
    }
    this.state = RUNNING;
    const q = this.queue;
    const urgent = this.urgent;
    const budget = this.budget;
    let count = 0;
    try {
      while (q.length > 0 || urgent.length > 0) {
        const cell = (urgent.length > 0 ? urgent.shift() : q.shift()) as Cell;
        this.turns++;
        count += cell.turn(budget);
        if (count >= CHECK_EVERY) {
          count = 0;
          // Restarts in progress finish first: they are few, and their actors' mail is waiting.
          if (urgent.length === 0 && q.length > 0 && performance.now() - start >= this.sliceMs) {
            this.yields++;
            this.state = YIELDED;
            setImmediate(this.run);
            this.flush();
            return;
          }
        }
      }
    } catch (e) {
      // A bug in the runtime, not in an actor (handlers are guarded): keep the queue moving.
      this.state = YIELDED;
      setImmediate(this.run);
      throw e;
    }
    this.state = IDLE;
    this.busySince = -1;
    this.flush();
  };

  /** Registers a function to call at the end of every drain; returns a function that removes it. */
  onDrained(fn: () => void): () => void {
    this.flushers = [...this.flushers, fn];
    return () => {
      this.flushers = this.flushers.filter((f) => f !== fn);
    };
  }

  private flush(): void {
    const fs = this.flushers;
    for (let i = 0; i < fs.length; i++) {
      try {
        (fs[i] as () => void)();
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  /**
   * Drains the queue now, ignoring the time slice. For tests (`settle`); throws if called from
   * inside a handler, where it would run actors re-entrantly.
   */
  drainNow(maxMessages = Number.POSITIVE_INFINITY): void {
    if (this.state === RUNNING) {
      throw new Error('settle()/drainNow() cannot be called from inside an actor handler');
    }
    const q = this.queue;
    const urgent = this.urgent;
    const prev = this.state;
    this.state = RUNNING;
    let handled = 0;
    try {
      while ((q.length > 0 || urgent.length > 0) && handled < maxMessages) {
        this.turns++;
        handled += ((urgent.length > 0 ? urgent.shift() : q.shift()) as Cell).turn(this.budget);
      }
    } finally {
      // A pending microtask or setImmediate will find an empty queue and go idle.
      this.state = prev === IDLE ? IDLE : prev;
      if (this.state === IDLE) this.busySince = -1;
      this.flush();
    }
  }
}
