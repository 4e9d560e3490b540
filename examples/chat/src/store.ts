/**
 * A room's history: its epoch, its last message id, and the last `capacity` messages (and at most
 * `maxBytes` of them), already encoded for reuse. It is passed to the room actor as an argument, so it
 * survives the room's restarts: ids continue after a crash and clients resume without a reload.
 * A room that stops (empty for a while) drops its store, and a new one starts a new epoch.
 */
import { randomBytes } from 'node:crypto';
import type { SocketHandle } from '@troupe/uws';
import type { Ref } from 'troupe';
import type { Encoded } from './codec.js';
import type { OwnerMsg } from './owner.js';
import type { ClientRef, Since } from './protocol.js';
import type { Held, InFlight } from './relay.js';
import type { Session } from './session.js';
import { UserCounts } from './users.js';
import type { ConnMsg } from './world.js';

/** This process's run, in every epoch it makes: two runs never share an epoch. */
const RUN = randomBytes(6).toString('base64url');
let epochs = 0;

/** A new epoch: unique in this process (a counter) and across runs (`RUN`); no allocation but the string. */
export function newEpoch(): string {
  return epochText(newEpochNumber());
}

/**
 * A new epoch as its number alone, to keep where many are held and few are read (an inbox that
 * has no DM yet): a small integer costs nothing in a `Map`, its text (`epochText`) 32 bytes.
 */
export function newEpochNumber(): number {
  return ++epochs;
}

/** The text of the epoch `newEpochNumber` made; the same number gives an equal string each time. */
export function epochText(n: number): string {
  return `${RUN}${n.toString(36)}`;
}

/**
 * Who sent each of the last stored messages of a room or an inbox: the sender's token (a relay's,
 * `RelayStore.token`, or a post office's) and its number for the message, by id, with the stream
 * sequence of the record it is in. It lets an owner tell a sender whose owner went before it
 * answered which of its messages were stored after all (and with what id), and whether it knows
 * every message stored after a point (`covers`: after an id; `coversRecords`: in records after a
 * stream sequence), so that the others are known not to be stored. Kept in the durable records
 * with the messages (durable.ts), so that the next owner knows as much.
 */
export class Origins {
  /** `#tokens[i]`, `#seqs[i]`, `#records[i]` are message `#baseId + i`'s; a token undefined: not known. */
  #tokens: Array<string | undefined> = [];
  #seqs: number[] = [];
  #records: number[] = [];
  #baseId = 1;
  /** Every message from this id on has a known origin. */
  #knownFrom = 1;
  /** Every record from this stream sequence on is held with known origins (0: every record). */
  #knownFromRecord = 0;
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
  }

  /**
   * What a loaded history continues after: its first message is `id + 1`, in the record at stream
   * sequence `firstRecord`; the records before it are gone unless `id` is 0.
   */
  startAfter(id: number, firstRecord = 0): void {
    this.#baseId = this.#knownFrom = id + 1;
    this.#knownFromRecord = id === 0 ? 0 : firstRecord;
  }

  /**
   * Message `lastId + 1` came from `token` as its number `seq` (token undefined: not known), in the
   * record at stream sequence `record`.
   */
  push(token: string | undefined, seq: number, record = 0): void {
    if (token === undefined) {
      this.#knownFrom = this.#baseId + this.#tokens.length + 1;
      this.#knownFromRecord = record + 1;
    }
    this.#tokens.push(token);
    this.#seqs.push(seq);
    this.#records.push(record);
    if (this.#tokens.length > this.capacity * 2) {
      const drop = this.#tokens.length - this.capacity;
      const lastDropped = this.#records[drop - 1] as number;
      this.#tokens.splice(0, drop);
      this.#seqs.splice(0, drop);
      this.#records.splice(0, drop);
      this.#baseId += drop;
      if (this.#knownFrom < this.#baseId) this.#knownFrom = this.#baseId;
      if (this.#knownFromRecord <= lastDropped) this.#knownFromRecord = lastDropped + 1;
    }
  }

  /** Whether the origin of every message after `id` is known. */
  covers(id: number): boolean {
    return id + 1 >= this.#knownFrom;
  }

  /** Whether every message in a record after stream sequence `record` is held, its origin known. */
  coversRecords(record: number): boolean {
    return record + 1 >= this.#knownFromRecord;
  }

  /** The messages after `id` that came from `token`: [its number, the id]. */
  from(token: string, id: number): Array<[seq: number, id: number]> {
    const out: Array<[number, number]> = [];
    for (let i = Math.max(0, id + 1 - this.#baseId); i < this.#tokens.length; i++) {
      if (this.#tokens[i] === token) out.push([this.#seqs[i] as number, this.#baseId + i]);
    }
    return out;
  }

  /** Those of `seqs` that came from `token` and are held: [its number, the id]. */
  find(token: string, seqs: ReadonlySet<number>): Array<[seq: number, id: number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.#tokens.length; i++) {
      if (this.#tokens[i] === token && seqs.has(this.#seqs[i] as number))
        out.push([this.#seqs[i] as number, this.#baseId + i]);
    }
    return out;
  }
}

/**
 * Numbered messages, the last `capacity` of them (and at most `maxBytes`), within an epoch: a room's
 * history, or a user's DM inbox.
 */
export class History {
  readonly epoch: string;
  lastId = 0;
  /**
   * The messages held, oldest first from `#head`: `#items[i]` has id `#baseId + i`. Arrays that
   * grow with what is held, not `capacity` slots up front: an inbox that got three DMs holds three.
   */
  #items: Array<Encoded | undefined> = [];
  #sizes: number[] = [];
  #head = 0;
  #baseId = 1;
  /** The bytes of the messages held. */
  bytes = 0;
  readonly capacity: number;
  readonly maxBytes: number;

  constructor(capacity: number, maxBytes = Number.POSITIVE_INFINITY, epoch = newEpoch()) {
    this.capacity = capacity;
    this.maxBytes = maxBytes;
    this.epoch = epoch;
  }

  /**
   * Makes an empty history continue after `id` (its next message is `id + 1`): a history loaded
   * from a durable store, whose earlier messages are gone.
   */
  startAfter(id: number): void {
    if (this.held > 0 || this.lastId > 0) throw new Error('History.startAfter: the history is not empty');
    this.lastId = id;
    this.#baseId = id + 1;
  }

  /** How many messages are held. */
  get held(): number {
    return this.#items.length - this.#head;
  }

  /**
   * Appends the message with id `lastId + 1`, of `size` bytes; then the oldest go while more than
   * `capacity` are held, or more than `maxBytes` (never the newest: one message over it is kept).
   */
  append(frame: Encoded, size: number): void {
    this.lastId++;
    this.#items.push(frame);
    this.#sizes.push(size);
    this.bytes += size;
    while (this.held > this.capacity || (this.bytes > this.maxBytes && this.held > 1)) {
      this.bytes -= this.#sizes[this.#head] as number;
      this.#items[this.#head] = undefined;
      this.#head++;
    }
    // Drop the vacated front now and then: amortised O(1), and the arrays stay about `held` long.
    if (this.#head >= 64 && this.#head * 2 >= this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#sizes.splice(0, this.#head);
      this.#baseId += this.#head;
      this.#head = 0;
    }
  }

  /** The oldest id still held (lastId + 1 when empty). */
  get oldestId(): number {
    return this.lastId - this.held + 1;
  }

  /** Can every message after `id` be replayed? */
  covers(id: number): boolean {
    return id <= this.lastId && id + 1 >= this.oldestId;
  }

  /**
   * Sends the messages after `sinceId` (`covers(sinceId)` must hold) while the socket stays under
   * `softLimit`: what uWS holds for it and what this batch has queued, plus what this replay adds
   * (bytes the kernel has taken are out of reach, so the bound does not depend on how much it
   * takes). Returns the first id not sent, or 0 when all went (or the socket closed).
   */
  replayTo(socket: SocketHandle<Session>, sinceId: number, softLimit: number): number {
    // In place: a replay the budget cuts after one frame reads one, not the whole history.
    const items = this.#items;
    const at = sinceId + 1 - this.#baseId;
    return writeReplay(socket, this.lastId - sinceId, (i) => items[at + i] as Encoded, sinceId + 1, softLimit);
  }

  /**
   * The JSON of the messages after `id` (`covers(id)` must hold) while they come to about `limit`
   * bytes, and the first id left out (0: none): what travels to another process for a resume.
   */
  framesAfter(id: number, limit: number): { frames: Buffer[]; gapFrom: number } {
    const frames: Buffer[] = [];
    let bytes = 0;
    // In place, up to the limit: not a copy of the whole history first.
    for (let i = id + 1; i <= this.lastId; i++) {
      if (bytes > limit) return { frames, gapFrom: i };
      const json = (this.#items[i - this.#baseId] as Encoded).json();
      frames.push(json);
      bytes += json.byteLength;
    }
    return { frames, gapFrom: 0 };
  }

  /** The messages after `id`, oldest first. Call only when `covers(id)`. */
  after(id: number): Encoded[] {
    const out: Encoded[] = [];
    for (let i = id + 1; i <= this.lastId; i++) out.push(this.#items[i - this.#baseId] as Encoded);
    return out;
  }
}

/** The bytes of a server frame's WebSocket header (up to 64 KiB of payload). */
export const FRAME_HEADER = 4;

/**
 * Writes a replay (`count` frames, `frameAt(i)` the one with id `first + i`, read only if it is
 * written) to a socket while it stays under
 * `softLimit` (what uWS holds for it and what this batch has queued, plus what the replay adds: bytes
 * the kernel has taken are out of reach, so the bound does not depend on how much it takes) and
 * while the connection's answer budget lasts (`--answer-ratio`), which it spends. Returns the first
 * id not written, or 0 when all went (or the socket closed). The one loop for every replay: rooms
 * and inboxes, from this process's history or from an owner elsewhere.
 */
export function writeReplay(
  socket: SocketHandle<Session>,
  count: number,
  frameAt: (i: number) => Encoded,
  first: number,
  softLimit: number,
): number {
  const session = socket.session;
  let queued = socket.bufferedAmount + socket.pendingBytes;
  let spent = 0;
  let from = 0;
  for (let i = 0; i < count; i++) {
    if (socket.closed) return 0;
    const frame = frameAt(i);
    // Its JSON (a MessagePack copy is smaller) and a WebSocket header. One frame larger than the
    // whole budget goes once the budget is full (the soft limit), so that a resume always moves on.
    const cost = frame.jsonBytes() + FRAME_HEADER;
    const budget = session.answerBudget - spent;
    if (queued > softLimit || (cost > budget && (spent > 0 || budget < softLimit))) {
      from = first + i;
      break;
    }
    queued += frame.sendTo(socket);
    spent += cost;
  }
  session.answerBudget = Math.max(0, session.answerBudget - spent);
  return from;
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
  readonly present = new UserCounts();
  /** Members whose room messages are dropped until they resume: still so after a restart. */
  readonly gapped = new Set<unknown>();
}

/** A join sent to the owner and not answered: what it asked, and its number. */
export interface PendingJoin {
  readonly since?: Since;
  readonly ref?: ClientRef;
  readonly n: number;
}

/**
 * What a relay keeps across its restarts (its init args, as a room's `RoomStore` is): its place in
 * the owner's order, what it sent the owner and has not seen answered, and which members are
 * gapped or not answered yet. A restart keeps the relay's ref and mailbox, so the owner's answers
 * to what the last incarnation sent still arrive here, and find what they answer: a join is
 * answered `joined`, a message its `ack`, and a hole in the ids is seen and announced.
 */
export class RelayStore {
  /** Names this relay's messages in the owners' records (`Origins`): unique across runs. */
  readonly token = newEpoch();
  /** The owner's epoch and the last id this relay wrote; undefined before the first welcome. */
  epoch: string | undefined = undefined;
  lastId = 0;
  /** Numbers the messages sent to the owner. */
  seq = 0;
  /** The owner the messages in `inflight` went to. */
  sentTo: Ref<OwnerMsg> | undefined = undefined;
  /** Requests waiting for an owner. */
  readonly held: Held[] = [];
  /** Joins sent to the owner and not answered yet: their members get no messages until then. */
  readonly pending = new Map<Ref<ConnMsg>, PendingJoin>();
  /** Numbers the joins sent to the owner: an answer is matched to the join it answers. */
  joins = 0;
  /** The id being written to the members (0: none): if the relay crashes meanwhile, a gap from it. */
  writing = 0;
  /** The relay's number of the own message being written (0: none): acknowledged on restart. */
  echoSeq = 0;
  readonly inflight: InFlight[] = [];
  /**
   * Messages in flight whose owner went (or dropped this relay) before it echoed them: stored or
   * not, the next owner says (`o.verdict`); until then their senders hear nothing.
   */
  readonly unsure: InFlight[] = [];
  /** The unsure messages up to this number hear `internal` when the deadline timer fires. */
  deadlineUpTo = 0;
  readonly gapped = new Set<Ref<ConnMsg>>();
  /** Members made by a join that no owner has answered: not members after all if none can be found. */
  readonly fresh = new Set<Ref<ConnMsg>>();
  /**
   * The join or publish being handled (undefined between messages). Set when the relay crashes on
   * it: its sender was answered `internal` (the dead letter), so the next incarnation answers it no
   * second time.
   */
  current: Held | undefined = undefined;
}
