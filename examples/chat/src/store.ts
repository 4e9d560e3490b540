/**
 * A room's history: its epoch, its last message id, and a ring buffer of the last `capacity`
 * messages, already encoded for reuse. It is passed to the room actor as an argument, so it
 * survives the room's restarts: ids continue after a crash and clients resume without a reload.
 * A room that stops (empty for a while) drops its store, and a new one starts a new epoch.
 */
import { randomBytes } from 'node:crypto';
import type { Encoded } from './codec.js';

export class RoomStore {
  readonly epoch = randomBytes(6).toString('base64url');
  lastId = 0;
  /** Set by the first room actor on this store; a later one is the same room restarted. */
  started = false;
  /** The presence batch not yet sent: a restarted room sends it, so no join or leave is lost. */
  readonly joins = new Set<string>();
  readonly leaves = new Set<string>();
  /**
   * The users present (with their connection counts) as the room last knew them: a restarted room
   * compares them with the registry, so a member who left while it was down still gets its leave.
   */
  readonly present = new Map<string, number>();
  /** Members whose room messages are dropped until they resume: still so after a restart. */
  readonly gapped = new Set<unknown>();
  /** Made at the first message: a room nobody writes in does not hold `capacity` empty slots. */
  #ring: Array<Encoded | undefined> | undefined = undefined;
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Appends the message with id `lastId + 1`. */
  append(frame: Encoded): void {
    this.#ring ??= new Array(this.capacity);
    this.lastId++;
    this.#ring[this.lastId % this.capacity] = frame;
  }

  /** The oldest id still held (lastId + 1 when empty). */
  get oldestId(): number {
    return Math.max(1, this.lastId - this.capacity + 1);
  }

  /** Can every message after `id` be replayed? */
  covers(id: number): boolean {
    return id <= this.lastId && id + 1 >= this.oldestId;
  }

  /** The messages after `id`, oldest first. Call only when `covers(id)`. */
  after(id: number): Encoded[] {
    const out: Encoded[] = [];
    const ring = this.#ring ?? [];
    for (let i = id + 1; i <= this.lastId; i++) out.push(ring[i % this.capacity] as Encoded);
    return out;
  }
}
