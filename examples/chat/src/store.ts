/**
 * A room's history: its epoch, its last message id, and a ring buffer of the last `capacity`
 * messages (and at most `maxBytes` of them), already encoded for reuse. It is passed to the room actor as an argument, so it
 * survives the room's restarts: ids continue after a crash and clients resume without a reload.
 * A room that stops (empty for a while) drops its store, and a new one starts a new epoch.
 */
import { randomBytes } from 'node:crypto';
import type { Encoded } from './codec.js';

/** This process's run, in every epoch it makes: two runs never share an epoch. */
const RUN = randomBytes(6).toString('base64url');
let epochs = 0;

/** A new epoch: unique in this process (a counter) and across runs (`RUN`); no allocation but the string. */
export function newEpoch(): string {
  return `${RUN}${(++epochs).toString(36)}`;
}

/**
 * Numbered messages, the last `capacity` of them (and at most `maxBytes`), within an epoch: a room's
 * history, or a user's DM inbox.
 */
export class History {
  readonly epoch: string;
  lastId = 0;
  /** Made at the first message: a room nobody writes in does not hold `capacity` empty slots. */
  #ring: Array<Encoded | undefined> | undefined = undefined;
  /** Each held message's size in bytes, by the same slot. */
  #sizes: number[] | undefined = undefined;
  /** The bytes of the messages held. */
  bytes = 0;
  /** The oldest id held after the byte limit dropped older ones (1: none dropped for bytes). */
  #firstKept = 1;
  readonly capacity: number;
  readonly maxBytes: number;

  constructor(capacity: number, maxBytes = Number.POSITIVE_INFINITY, epoch = newEpoch()) {
    this.capacity = capacity;
    this.maxBytes = maxBytes;
    this.epoch = epoch;
  }

  /**
   * Appends the message with id `lastId + 1`, of `size` bytes; then the oldest messages go while
   * the history holds more than `maxBytes` (never the newest: one message over the limit is kept).
   */
  append(frame: Encoded, size: number): void {
    this.#ring ??= new Array(this.capacity);
    this.#sizes ??= new Array(this.capacity).fill(0);
    this.lastId++;
    const slot = this.lastId % this.capacity;
    // The message this one replaces in the ring (the count limit) leaves the byte count.
    if (this.lastId - this.capacity >= this.#firstKept) this.bytes -= this.#sizes[slot] as number;
    this.#ring[slot] = frame;
    this.#sizes[slot] = size;
    this.bytes += size;
    while (this.bytes > this.maxBytes && this.oldestId < this.lastId) {
      const old = this.oldestId % this.capacity;
      this.bytes -= this.#sizes[old] as number;
      this.#sizes[old] = 0;
      this.#ring[old] = undefined;
      this.#firstKept = this.oldestId + 1;
    }
  }

  /** The oldest id still held (lastId + 1 when empty). */
  get oldestId(): number {
    return Math.max(1, this.lastId - this.capacity + 1, this.#firstKept);
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

/** A room's history, and what the room keeps across its restarts. */
export class RoomStore extends History {
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
}
