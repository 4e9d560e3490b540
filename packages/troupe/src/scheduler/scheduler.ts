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

/** @internal What the scheduler runs: an actor with work. */
export interface Runnable {
  /** Runs up to `budget` messages; returns how many (at least 1, to pace the scheduler). */
  turn(budget: number): number;
  /** It was taken from the urgent lane: it may be put there again. */
  leftUrgentLane(): void;
}

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

/** How many messages run between two looks at the clock... */
const CHECK_EVERY = 64;
/** ...or how many turns, when each turn handles few messages. */
const CHECK_TURNS = 32;

/** @internal */
export class Scheduler {
  readonly budget: number;
  readonly sliceMs: number;
  private readonly queue = new Denque<Runnable>();
  /** Cells on the critical path of a restart; served before `queue`. */
  private readonly urgent = new Denque<Runnable>();
  /** `urgent.length`, as a plain field: the run loop reads it every turn. */
  private urgentCount = 0;
  private state = IDLE;
  /** Turns taken since the system started; for introspection and tests. */
  turns = 0;
  /** How often the scheduler yielded to the event loop with work left. */
  yields = 0;
  /** Called when a drain ends (queue empty, or yielding): output batching flushes here. */
  private flushers: Array<() => void> = [];
  /** `later`'s functions, run together in the next check phase. */
  private laters: Array<() => void> = [];
  /**
   * When this event-loop iteration's first inline drain started, or -1. Inline drains (a microtask
   * after a socket or timer callback) share one slice per iteration: a poll phase that delivers
   * thousands of socket frames must not run all of their work before timers and writes get a turn.
   */
  private windowStart = -1;
  /**
   * The backlog's measure: a *pass* serves every cell that was in the run queue when it began; this
   * is when the last pass ended (or the scheduler woke from idle), as of the latest clock reading.
   */
  private passDoneAt = 0;
  /** The pass ends when `turns` reaches this. */
  private passEnd = 0;
  /** How long the last completed pass took, ms (measured at checkpoints, so a little over). */
  private lastPassMs = 0;
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

  /** Queues an actor that has work. The caller has marked it as queued. */
  push(cell: Runnable): void {
    this.queue.push(cell);
    if (this.state === IDLE) this.wakeUp();
  }

  /**
   * Queues an actor ahead of the run queue (behind earlier urgent ones: first come, first served).
   * The caller has marked it as queued and in the urgent lane.
   */
  pushUrgent(cell: Runnable): void {
    this.urgent.push(cell);
    this.urgentCount++;
    if (this.state === IDLE) this.wakeUp();
  }

  private wakeUp(): void {
    this.firstPass();
    this.state = PENDING;
    queueMicrotask(this.run);
  }

  /** Work arrived in an idle scheduler: the first pass starts now. */
  private firstPass(): void {
    this.passDoneAt = performance.now();
    this.passEnd = this.turns;
    this.lastPassMs = 0;
  }

  /** The next cell to run: the urgent lane first. */
  private next(): Runnable {
    if (this.urgentCount !== 0) {
      this.urgentCount--;
      const u = this.urgent.shift() as Runnable;
      u.leftUrgentLane();
      return u;
    }
    return this.queue.shift() as Runnable;
  }

  /**
   * At a checkpoint (the clock just read `now`): if every cell that waited when the current pass
   * began has had its turn, the pass is over; the next one covers what waits now.
   */
  private checkPass(now: number): void {
    if (this.turns < this.passEnd) return;
    this.lastPassMs = now - this.passDoneAt;
    this.passDoneAt = now;
    this.passEnd = this.turns + this.queue.length;
  }

  /** Actors waiting for a turn. */
  get queued(): number {
    return this.queue.length + this.urgentCount;
  }

  /**
   * How far behind the scheduler is, in ms: how long a pass over the run queue takes (every actor
   * that was waiting when a pass began gets its turn before it ends), the last one's or the current
   * one's if that is longer; 0 while nothing waits. A system that keeps up completes a pass within
   * an event-loop iteration or so, whatever its CPU use, and an actor that keeps messaging itself
   * only makes its own passes short; a pass that lasts hundreds of milliseconds means work arrives
   * faster than it is done.
   */
  get backlogMs(): number {
    if (this.state === IDLE || this.queue.length + this.urgentCount === 0) return 0;
    return Math.max(this.lastPassMs, performance.now() - this.passDoneAt);
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
      } else if (this.spent(start - this.windowStart)) {
        // The slice is spent: the rest waits for the check phase, after this poll phase's I/O.
        this.yields++;
        this.state = YIELDED;
        setImmediate(this.run);
        return;
      } else start = this.windowStart;
    }
    this.state = RUNNING;
    const q = this.queue;
    const budget = this.budget;
    let count = 0;
    let turns = 0;
    try {
      while (this.urgentCount !== 0 || q.length > 0) {
        const cell = this.next();
        this.turns++;
        count += cell.turn(budget);
        // A checkpoint every CHECK_EVERY messages, or every CHECK_TURNS turns of slow ones.
        if (count >= CHECK_EVERY || ++turns >= CHECK_TURNS) {
          count = 0;
          turns = 0;
          const now = performance.now();
          this.checkPass(now);
          if ((this.urgentCount !== 0 || q.length > 0) && this.spent(now - start)) {
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
    this.flush();
  };

  /**
   * Whether `elapsed` ms of work end the slice. Restarts in progress (the urgent lane) may run it
   * over, up to twice the slice: their actors' mail is waiting, but a crash loop must not hold the
   * event loop either.
   */
  private spent(elapsed: number): boolean {
    return elapsed >= this.sliceMs && (this.urgentCount === 0 || elapsed >= 2 * this.sliceMs);
  }

  /** Registers a function to call at the end of every drain; returns a function that removes it. */
  onDrained(fn: () => void): () => void {
    this.flushers = [...this.flushers, fn];
    return () => {
      this.flushers = this.flushers.filter((f) => f !== fn);
    };
  }

  /**
   * Runs `fn` in this event-loop iteration's check phase (`setImmediate`), after the I/O callbacks
   * still to come in it and the drains they start: for work nothing waits for, such as a crash
   * report's log line. A frame read with the one that crashed an actor is handled before it.
   */
  later(fn: () => void): void {
    this.laters.push(fn);
    if (this.laters.length === 1) setImmediate(this.runLaters);
  }

  /**
   * Runs the `later` functions still waiting, now (the system's shutdown does, so that nothing
   * waiting is lost to a `process.exit` right after it). One that throws is reported on stderr.
   */
  readonly runLaters = (): void => {
    const ls = this.laters;
    this.laters = [];
    for (let i = 0; i < ls.length; i++) {
      try {
        (ls[i] as () => void)();
      } catch (e) {
        console.error('troupe: deferred work (a crash report) failed:', e);
      }
    }
  };

  private flush(): void {
    const fs = this.flushers;
    for (let i = 0; i < fs.length; i++) guarded(fs[i] as () => void);
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
    const prev = this.state;
    if (prev === IDLE) this.firstPass();
    this.state = RUNNING;
    let handled = 0;
    try {
      while ((this.urgentCount !== 0 || q.length > 0) && handled < maxMessages) {
        this.checkPass(performance.now());
        this.turns++;
        handled += this.next().turn(this.budget);
      }
    } finally {
      // A pending microtask or setImmediate will find an empty queue and go idle. From idle with
      // work left (maxMessages), a drain is scheduled as a send would have.
      this.state = prev;
      if (prev === IDLE && q.length + this.urgentCount > 0) {
        this.state = PENDING;
        queueMicrotask(this.run);
      }
      this.flush();
    }
  }
}

/** Calls `fn`; what it throws is rethrown in a microtask, so that the functions after it still run. */
function guarded(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}
