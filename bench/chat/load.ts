/**
 * A group of load connections and everything the load generator checks while it measures. One
 * group lives in one process (`loadgen.ts` drives it over IPC; tests use it in-process).
 *
 * Layout: connection g (a global index over every group) is user `u<g>` in room `r<floor(g /
 * roomSize)>`; a group holds whole rooms, so each room's members, and so its order checks, are in
 * one process. DMs go to a random connection of another room, possibly in another group: their
 * totals are added up by the runner.
 *
 * Sending: each connection sends at a fixed rate (open loop: a slow server does not slow the load),
 * alternating a room message (the sender's room, every member including the sender receives it) and
 * a DM; connections take turns in a fixed random order, so sends are spread evenly over time. Every
 * message carries a `ref` (the server acks it) and a 1024-byte `content` with the send time.
 *
 * Checks, on every frame: room ids arrive in order, one by one, at every member (a skipped id is
 * counted unless a `gap` frame announced it; the member then resumes with `join` + `since`, as
 * examples/chat/PROTOCOL.md says); no id twice; DMs from one sender arrive in increasing order; every content is
 * exactly the size sent. Expected deliveries are counted at the sender (room size per room message,
 * one per DM), received ones at the receivers; lost = expected - received once the load has drained.
 *
 * Recovery (`startFaults`): a few times a second, crash a random room of the group or the socket
 * actor of a random user with a `_crash` frame (the chat's `--test-faults`) and send a probe message
 * through that actor right behind it. Each crash is logged with the monotonic times of its send and
 * the probe's first delivery (at any member); the runner matches them with the times the server
 * threw each crash.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { Histogram } from './histogram.js';
import {
  type ClientPayload,
  crashFrame,
  type Decoded,
  decodeServerFrame,
  dmFrame,
  type Encoding,
  joinFrame,
  KIND_DM,
  KIND_MESSAGE,
  makeContent,
  messageFrame,
  newDecoded,
  TAG_DM,
  TAG_PROBE,
  TAG_ROOM,
} from './wire.js';
import { WsClient, type WsSink } from './ws-client.js';

/** What one group does. */
export interface LoadPlan {
  readonly port: number;
  /**
   * A cluster's processes, each on a port of its own: connection g uses `ports[g % ports.length]`
   * (so every room has members on each). Default: every connection on `port`.
   */
  readonly ports?: readonly number[];
  readonly encoding: Encoding;
  /** Global index of the group's first connection; a multiple of roomSize. */
  readonly first: number;
  /** Connections in this group; a multiple of roomSize. */
  readonly count: number;
  readonly roomSize: number;
  /** False: every send is a room message (no DMs). Default true: room messages and DMs alternate. */
  readonly dms?: boolean;
  /** Connections over every group: DM targets are drawn from all of them. */
  readonly total: number;
  /** `content` bytes. */
  readonly payloadBytes: number;
  /** Handshakes in flight at once. Default 250. */
  readonly connectConcurrency?: number;
  /** How long a handshake may take before the connection counts as failed. Default 10 s. */
  readonly handshakeTimeoutMs?: number;
}

/** Correctness and volume counters; every group reports these, the runner adds them up. */
export interface Tally {
  connected: number;
  connectFailed: number;
  /** Connections that ended while the load was running. */
  dropped: number;
  sentRoom: number;
  sentDm: number;
  /** Room size x room messages sent + DMs sent. */
  expected: number;
  deliveredRoom: number;
  deliveredDm: number;
  acks: number;
  /** Room ids jumped over with no `gap` frame announcing them. */
  skipped: number;
  /** Ids lost after a `gap` frame, where resuming could not fill them (recovered: false). */
  announcedLost: number;
  duplicates: number;
  /** Ids that arrived after a later one (room), or DMs of one sender out of order. */
  reordered: number;
  /** Content of the wrong size or without the send-time tag. */
  corrupt: number;
  /** Frames that were not JSON/MessagePack objects, or message frames without an id. */
  undecodable: number;
  gaps: number;
  /** Room messages the server refused with `rate_limited` "server busy" (load shedding). */
  shed: number;
  /** The deliveries those would have made: not expected any more, not lost. */
  shedDeliveries: number;
  errors: number;
  /** Error codes seen, `code:count` joined by spaces. */
  errorCodes: string;
  /** Sends skipped because the connection was not open. */
  sendSkipped: number;
  /** Sends answered `unavailable` (a cluster's room moving, or its bus down): answered, not lost. */
  unavailable: number;
}

/** What a measured window saw. */
export interface WindowStats {
  readonly ms: number;
  readonly delivered: number;
  /** Deliveries the sends of this window asked for (room size per room message, 1 per DM). */
  readonly expected: number;
  readonly hist: Array<[number, number]>;
  readonly histMax: number;
  readonly cpuUs: number;
  /** The load's event-loop delay p99 (ms): high means receive times are late. */
  readonly loopP99Ms: number;
  /** How far behind schedule the sender was at worst (ms of sends). */
  readonly sendLagMs: number;
  /** One entry per crash: [crash and probe sent, probe first delivered (0: never)], ns. */
  readonly crashLog: Array<[number, number]>;
  readonly crashes: number;
  /** Probes still undelivered when the window closed. */
  readonly probesPending: number;
}

export interface ConnectResult {
  readonly connected: number;
  readonly failed: number;
  readonly ms: number;
  readonly firstError: string | undefined;
}

interface Room {
  readonly name: string;
  readonly members: Conn[];
  joined: number;
  /** Ids of this room's messages the server acknowledged to a member here. */
  readonly acked: number[];
  /** After `mark()`: when the first message sent after the mark was delivered here (ns; 0: not yet). */
  recoveredNs: number;
  probe: { readonly entry: [number, number]; readonly sender: number; readonly seq: number } | undefined;
}

interface Conn {
  readonly g: number;
  readonly local: number;
  readonly user: string;
  readonly room: Room;
  ws: WsClient | undefined;
  joined: boolean;
  closing: boolean;
  epoch: string;
  /** The last room id seen in order. */
  lastId: number;
  /** The room's id when this connection first joined: it expects every message after it. */
  joinId: number;
  /** The port it connects to. */
  readonly port: number;
  resuming: boolean;
  missing: Set<number> | undefined;
  sends: number;
  seq: number;
  ref: number;
}

/** What a `ref` was sent with, in its low two bits: answers (acks, errors) say what they answer. */
const REF_OTHER = 0;
const REF_ROOM = 1;
const REF_DM = 2;

function ref(c: Conn, kind: number): number {
  return ++c.ref * 4 + kind;
}

function refKind(r: unknown): number {
  return typeof r === 'number' ? r % 4 : REF_OTHER;
}

const MAX_SENDS_PER_TICK = 5_000;
const TICK_MS = 5;

/**
 * Connections per source address. Each connection from one address to one server port needs a local
 * port of its own, and Linux's search for a free one slows as they fill. From 127.0.0.1 alone, past
 * about 140,000 connections to a dozen server ports the connect rate fell from about 2,000/s to
 * 250/s, the load's processes handled their connects seconds late, and the servers' HTTP idle
 * timeout (uWS: about 10 s without a request) closed some before their upgrade request came. So
 * connection g comes from the (g / 5,000)th address of 127.0.0.0/8: the first 5,000 from
 * 127.0.0.1, as every load up to that size.
 */
const PER_SOURCE_ADDRESS = 5_000;

/** The source address of connection g: 127.0.0.1, then 127.0.0.2, ... (250 to a /24). */
export function sourceAddress(g: number): string {
  const i = Math.floor(g / PER_SOURCE_ADDRESS);
  return `127.0.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

function zeroTally(): Tally {
  return {
    connected: 0,
    connectFailed: 0,
    dropped: 0,
    sentRoom: 0,
    sentDm: 0,
    expected: 0,
    deliveredRoom: 0,
    deliveredDm: 0,
    acks: 0,
    skipped: 0,
    announcedLost: 0,
    duplicates: 0,
    reordered: 0,
    corrupt: 0,
    undecodable: 0,
    gaps: 0,
    shed: 0,
    shedDeliveries: 0,
    errors: 0,
    errorCodes: '',
    sendSkipped: 0,
    unavailable: 0,
  };
}

/** Adds b into a (for the runner's totals). */
export function addTally(a: Tally, b: Tally): Tally {
  const out = { ...a };
  for (const k of Object.keys(b) as Array<keyof Tally>) {
    if (k === 'errorCodes') out.errorCodes = [a.errorCodes, b.errorCodes].filter((s) => s !== '').join(' ');
    else (out[k] as number) = (a[k] as number) + (b[k] as number);
  }
  return out;
}

export function emptyTally(): Tally {
  return zeroTally();
}

const nowNs = (): number => Number(process.hrtime.bigint());

export class LoadGroup {
  readonly plan: LoadPlan;
  readonly tally: Tally = zeroTally();
  readonly #conns: Conn[] = [];
  readonly #rooms: Room[] = [];
  readonly #order: Conn[];
  readonly #d: Decoded = newDecoded();
  readonly #errorCodes = new Map<string, number>();
  /** receiver local index * 2^21 + sender global index -> last DM seq. */
  readonly #dmSeq = new Map<number, number>();
  // Window
  #measuring = false;
  #windowStart = 0;
  #windowDelivered = 0;
  #windowExpected = 0;
  #cpuStart: NodeJS.CpuUsage = process.cpuUsage();
  readonly #hist = new Histogram();
  #crashLog: Array<[number, number]> = [];
  #crashes = 0;
  #loop: IntervalHistogram | undefined;
  // Sending
  #rate = 0;
  #sendTimer: NodeJS.Timeout | undefined;
  #sendStart = 0;
  #scheduled = 0;
  #cursor = 0;
  #maxLag = 0;
  // Faults
  #faultTimer: NodeJS.Timeout | undefined;
  #closing = false;
  /** `mark()`'s time (monotonic ns), 0 before. */
  #markNs = 0;

  constructor(plan: LoadPlan) {
    if (plan.first % plan.roomSize !== 0 || plan.count % plan.roomSize !== 0 || plan.count < 1) {
      throw new RangeError(
        `LoadPlan: first (${plan.first}) and count (${plan.count}) must be multiples of roomSize (${plan.roomSize})`,
      );
    }
    this.plan = plan;
    for (let i = 0; i < plan.count; i++) {
      const g = plan.first + i;
      let room = this.#rooms[Math.floor(i / plan.roomSize)];
      if (room === undefined) {
        room = {
          name: `r${Math.floor(g / plan.roomSize)}`,
          members: [],
          joined: 0,
          acked: [],
          recoveredNs: 0,
          probe: undefined,
        };
        this.#rooms.push(room);
      }
      const c: Conn = {
        g,
        local: i,
        user: `u${g}`,
        room,
        ws: undefined,
        joined: false,
        closing: false,
        epoch: '',
        lastId: 0,
        joinId: 0,
        port: plan.ports === undefined ? plan.port : (plan.ports[g % plan.ports.length] as number),
        resuming: false,
        missing: undefined,
        // Half the connections start with a DM, half with a room message, and so half of those of
        // each server too: not by g's parity, which picks the port (connection g goes to port
        // g % N), or in a cluster one process's clients would all send room messages while the
        // other's sent DMs, swapping each round (4 s in S2), and a room could hear nothing for a round.
        sends: Math.imul(g, 0x9e3779b1) >>> 31,
        seq: 0,
        ref: 0,
      };
      room.members.push(c);
      this.#conns.push(c);
    }
    // A fixed random order of turns: every connection sends once per 1/rate s, at its own phase.
    this.#order = [...this.#conns];
    for (let i = this.#order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [this.#order[i], this.#order[j]] = [this.#order[j] as Conn, this.#order[i] as Conn];
    }
  }

  /** Opens every connection and joins each to its room; resolves when all joined or failed. */
  connect(timeoutMs: number): Promise<ConnectResult> {
    const t0 = performance.now();
    const concurrency = this.plan.connectConcurrency ?? 250;
    let next = 0;
    let done = 0;
    let over = false;
    let firstError: string | undefined;
    return new Promise((resolve) => {
      const finish = () => {
        over = true;
        clearTimeout(guard);
        resolve({
          connected: this.tally.connected,
          failed: this.#conns.length - this.tally.connected,
          ms: performance.now() - t0,
          firstError,
        });
      };
      const guard = setTimeout(() => {
        const codes = this.tally.errorCodes === '' ? '' : `; error frames seen: ${this.tally.errorCodes}`;
        const waiting = this.#conns.filter((c) => !c.joined).slice(0, 3);
        const who = waiting.map((c) => `${c.user} (${c.ws?.open === true ? 'open' : 'not open'})`).join(', ');
        firstError ??= `connect timed out after ${timeoutMs} ms${codes}; not joined: ${who}`;
        finish();
      }, timeoutMs);
      const settled = (ok: boolean, why?: string) => {
        done++;
        if (!ok) {
          this.tally.connectFailed++;
          firstError ??= why;
        }
        if (over) return;
        if (done === this.#conns.length) finish();
        else if (next < this.#conns.length) start(this.#conns[next++] as Conn);
      };
      const start = (c: Conn) => {
        let settledOnce = false;
        const once = (ok: boolean, why?: string) => {
          if (settledOnce) return;
          settledOnce = true;
          settled(ok, why);
        };
        const timeout = this.plan.handshakeTimeoutMs;
        c.ws = new WsClient(
          {
            port: c.port,
            localAddress: sourceAddress(c.g),
            path: `/ws?user=${c.user}`,
            ...(timeout === undefined ? {} : { handshakeTimeoutMs: timeout }),
          },
          this.#sink(c, once),
        );
      };
      for (; next < Math.min(concurrency, this.#conns.length); next++) start(this.#conns[next] as Conn);
    });
  }

  #sink(c: Conn, joinedOrFailed: (ok: boolean, why?: string) => void): WsSink {
    return {
      open: () => {
        // Join right away; the welcome frame is checked when it comes.
        this.#send(c, joinFrame(c.room.name, ref(c, REF_OTHER), this.plan.encoding));
      },
      message: (buf, start, end, binary, recvNs) => {
        const wasJoined = c.joined;
        this.#frame(c, buf, start, end, binary, recvNs);
        if (!wasJoined && c.joined) {
          this.tally.connected++;
          c.room.joined++;
          joinedOrFailed(true);
        }
      },
      closed: (code, reason) => {
        if (c.joined) {
          c.joined = false;
          c.room.joined--;
          if (!c.closing && !this.#closing) this.tally.dropped++;
        }
        joinedOrFailed(false, `${c.user}: closed ${code} ${reason}`);
      },
    };
  }

  #send(c: Conn, payload: ClientPayload): boolean {
    const ws = c.ws;
    if (ws === undefined) return false;
    return typeof payload === 'string' ? ws.sendText(payload) : ws.sendBinary(payload);
  }

  #frame(c: Conn, buf: Buffer, start: number, end: number, binary: boolean, recvNs: number): void {
    const d = this.#d;
    const t = this.tally;
    if (!decodeServerFrame(buf, start, end, binary, this.plan.payloadBytes, d)) {
      t.undecodable++;
      return;
    }
    if (d.kind === KIND_MESSAGE) {
      const id = d.id;
      if (id < 0 || !c.joined) {
        t.undecodable++;
        return;
      }
      if (!d.contentOk || d.tag === 0) t.corrupt++;
      const next = c.lastId + 1;
      if (id === next) {
        c.lastId = id;
      } else if (id > next) {
        // Jumped over ids nobody announced: each one is a loss unless it turns up later.
        t.skipped += id - next;
        if (id - next <= 10_000) {
          c.missing ??= new Set();
          for (let k = next; k < id; k++) c.missing.add(k);
        }
        c.lastId = id;
      } else if (c.missing?.delete(id)) {
        t.reordered++;
        t.skipped--;
      } else {
        t.duplicates++;
        return;
      }
      t.deliveredRoom++;
      this.#delivered(recvNs, d.sendNs);
      if (this.#markNs > 0 && c.room.recoveredNs === 0 && d.sendNs > this.#markNs) c.room.recoveredNs = recvNs;
      if (d.tag === TAG_PROBE) this.#probeArrived(c.room, d, recvNs);
      return;
    }
    if (d.kind === KIND_DM) {
      if (!d.contentOk || d.tag !== TAG_DM) t.corrupt++;
      const key = c.local * 2 ** 21 + d.sender;
      const last = this.#dmSeq.get(key) ?? -1;
      if (d.seq <= last) t.reordered++;
      else this.#dmSeq.set(key, d.seq);
      t.deliveredDm++;
      this.#delivered(recvNs, d.sendNs);
      return;
    }
    this.#control(c, d.frame as Record<string, unknown>);
  }

  #delivered(recvNs: number, sendNs: number): void {
    if (!this.#measuring) return;
    this.#windowDelivered++;
    if (sendNs > 0) this.#hist.record((recvNs - sendNs) / 1000);
  }

  #control(c: Conn, f: Record<string, unknown>): void {
    const t = this.tally;
    switch (f.type) {
      case 'joined': {
        const id = typeof f.id === 'number' ? f.id : 0;
        const epoch = typeof f.epoch === 'string' ? f.epoch : '';
        if (!c.joined) {
          c.joined = true;
          c.epoch = epoch;
          c.lastId = id;
          c.joinId = id;
        } else if (c.resuming) {
          c.resuming = false;
          if (f.recovered !== true) {
            // Could not be filled: the ids up to the room's current one are lost, as announced.
            t.announcedLost += Math.max(0, id - c.lastId);
            c.lastId = id;
            c.epoch = epoch;
          }
        } else if (epoch !== c.epoch) {
          // The room lost its history: ids start again, announced by this frame.
          c.epoch = epoch;
          c.lastId = id;
        }
        return;
      }
      case 'ack':
        t.acks++;
        if (refKind(f.ref) === REF_ROOM && typeof f.id === 'number') c.room.acked.push(f.id);
        return;
      case 'gap':
        t.gaps++;
        if (!c.resuming) {
          c.resuming = true;
          this.#send(
            c,
            joinFrame(c.room.name, ref(c, REF_OTHER), this.plan.encoding, { epoch: c.epoch, id: c.lastId }),
          );
        }
        return;
      case 'error': {
        if (f.code === 'rate_limited' && f.reason === 'server busy') {
          // Load shedding: the server refused a room message (the only kind it sheds) at once.
          t.shed++;
          t.shedDeliveries += c.room.joined;
          return;
        }
        if (f.code === 'unavailable') {
          // A cluster's room moving (or its bus down): refused at once, nothing applied.
          const kind = refKind(f.ref);
          if (kind === REF_OTHER) {
            // A join: asked again after retry_ms, as PROTOCOL.md says.
            const wait = typeof f.retry_ms === 'number' ? f.retry_ms : 1_000;
            if (!c.joined)
              setTimeout(() => this.#send(c, joinFrame(c.room.name, ref(c, REF_OTHER), this.plan.encoding)), wait);
            return;
          }
          t.unavailable++;
          t.shedDeliveries += kind === REF_ROOM ? c.room.joined : 1;
          return;
        }
        t.errors++;
        const code = String(f.code);
        this.#errorCodes.set(code, (this.#errorCodes.get(code) ?? 0) + 1);
        t.errorCodes = [...this.#errorCodes].map(([k, n]) => `${k}:${n}`).join(' ');
        return;
      }
      default:
        // welcome, presence, pong and the rest: nothing to check here.
        return;
    }
  }

  // ---- sending ---------------------------------------------------------------------------------

  /** Starts sending at `ratePerConn` messages/s per connection, or changes the rate; 0 stops. */
  setRate(ratePerConn: number): void {
    this.#rate = ratePerConn;
    this.#sendStart = performance.now();
    this.#scheduled = 0;
    if (ratePerConn <= 0) {
      clearInterval(this.#sendTimer);
      this.#sendTimer = undefined;
      return;
    }
    this.#sendTimer ??= setInterval(() => this.#tick(), TICK_MS);
  }

  #tick(): void {
    const n = this.#order.length;
    const due = Math.floor(((performance.now() - this.#sendStart) / 1000) * this.#rate * n);
    let k = 0;
    while (this.#scheduled < due && k < MAX_SENDS_PER_TICK) {
      const c = this.#order[this.#cursor] as Conn;
      this.#cursor = (this.#cursor + 1) % n;
      this.#scheduled++;
      k++;
      this.#sendOne(c);
    }
    const lagMs = ((due - this.#scheduled) / (this.#rate * n)) * 1000;
    if (this.#measuring && lagMs > this.#maxLag) this.#maxLag = lagMs;
  }

  #sendOne(c: Conn): void {
    const t = this.tally;
    if (!c.joined || c.ws === undefined || !c.ws.open) {
      t.sendSkipped++;
      return;
    }
    const p = this.plan;
    const room = p.dms === false || c.sends++ % 2 === 0;
    const seq = ++c.seq;
    if (room) {
      const content = makeContent(process.hrtime.bigint(), TAG_ROOM, c.g, seq, p.payloadBytes);
      this.#send(c, messageFrame(c.room.name, content, ref(c, REF_ROOM), p.encoding));
      t.sentRoom++;
      t.expected += c.room.joined;
    } else {
      const content = makeContent(process.hrtime.bigint(), TAG_DM, c.g, seq, p.payloadBytes);
      this.#send(c, dmFrame(`u${this.#dmTarget(c)}`, content, ref(c, REF_DM), p.encoding));
      t.sentDm++;
      t.expected++;
    }
  }

  /** A random connection of another room (of any group). */
  #dmTarget(c: Conn): number {
    const { total, roomSize } = this.plan;
    if (total <= roomSize) return total === 1 ? c.g : (c.g + 1 + Math.floor(Math.random() * (total - 1))) % total;
    const myRoom = Math.floor(c.g / roomSize);
    for (let i = 0; i < 8; i++) {
      const t = Math.floor(Math.random() * total);
      if (Math.floor(t / roomSize) !== myRoom) return t;
    }
    return (c.g + roomSize) % total;
  }

  // ---- windows ---------------------------------------------------------------------------------

  windowStart(): void {
    this.#measuring = true;
    this.#windowStart = performance.now();
    this.#windowDelivered = 0;
    this.#windowExpected = this.tally.expected;
    this.#hist.reset();
    this.#crashLog = [];
    this.#crashes = 0;
    this.#maxLag = 0;
    this.#cpuStart = process.cpuUsage();
    this.#loop?.disable();
    this.#loop = monitorEventLoopDelay({ resolution: 5 });
    this.#loop.enable();
  }

  windowEnd(): WindowStats {
    this.#measuring = false;
    const cpu = process.cpuUsage(this.#cpuStart);
    this.#loop?.disable();
    const loopP99Ms = this.#loop === undefined ? 0 : this.#loop.percentile(99) / 1e6;
    this.#loop = undefined;
    let probesPending = 0;
    for (const r of this.#rooms) if (r.probe !== undefined) probesPending++;
    return {
      ms: performance.now() - this.#windowStart,
      delivered: this.#windowDelivered,
      expected: this.tally.expected - this.#windowExpected,
      hist: this.#hist.toSparse(),
      histMax: this.#hist.max,
      cpuUs: cpu.user + cpu.system,
      loopP99Ms,
      sendLagMs: this.#maxLag,
      crashLog: this.#crashLog,
      crashes: this.#crashes,
      probesPending,
    };
  }

  /** Deliveries so far (room + DM), for progress. */
  get delivered(): number {
    return this.tally.deliveredRoom + this.tally.deliveredDm;
  }

  // ---- faults ----------------------------------------------------------------------------------

  /** Crashes a random room or socket actor `perSecond` times a second (0 stops), each with a probe. */
  startFaults(perSecond: number): void {
    clearInterval(this.#faultTimer);
    this.#faultTimer = undefined;
    if (perSecond <= 0) return;
    let flip = false;
    this.#faultTimer = setInterval(() => {
      flip = !flip;
      this.#crashOne(flip);
    }, 1000 / perSecond);
  }

  #crashOne(roomCrash: boolean): void {
    if (!this.#measuring || this.#closing) return;
    // A room with a probe in flight is left alone until the probe arrives.
    let room: Room | undefined;
    for (let i = 0; i < 8 && room === undefined; i++) {
      const r = this.#rooms[Math.floor(Math.random() * this.#rooms.length)] as Room;
      if (r.probe === undefined && r.joined > 0) room = r;
    }
    if (room === undefined) return;
    const joinedMembers = room.members.filter((m) => m.joined && m.ws?.open);
    const sender = joinedMembers[Math.floor(Math.random() * joinedMembers.length)];
    if (sender === undefined) return;
    // The crash and, right behind it, the probe, in one write: the server reads them together, so
    // the probe is in the sender's socket actor's mailbox when it crashes (or passes the crash to the
    // room), and queues behind the crash. Sent apart, the probe could arrive after the restart, and
    // the figure would time the server's loop, not the recovery.
    const seq = ++sender.seq;
    const content = makeContent(process.hrtime.bigint(), TAG_PROBE, sender.g, seq, this.plan.payloadBytes);
    const entry: [number, number] = [nowNs(), 0];
    this.#crashLog.push(entry);
    this.#crashes++;
    room.probe = { entry, sender: sender.g, seq };
    sender.ws?.sendTogether([
      crashFrame(roomCrash ? room.name : undefined, this.plan.encoding),
      messageFrame(room.name, content, ref(sender, REF_ROOM), this.plan.encoding),
    ]);
    this.tally.sentRoom++;
    this.tally.expected += room.joined;
  }

  #probeArrived(room: Room, d: Decoded, recvNs: number): void {
    const p = room.probe;
    if (p === undefined || p.sender !== d.sender || p.seq !== d.seq) return;
    room.probe = undefined;
    p.entry[1] = recvNs;
  }

  // ---- failover --------------------------------------------------------------------------------

  /** From `atNs` (monotonic, e.g. a process kill) on, times each room's first delivery sent after it. */
  mark(atNs: number): void {
    this.#markNs = atNs;
    for (const r of this.#rooms) r.recoveredNs = 0;
  }

  /** Per room, ms from the mark to its first delivery of a message sent after it (-1: none yet). */
  recovery(): number[] {
    return this.#rooms.map((r) => (r.recoveredNs === 0 ? -1 : (r.recoveredNs - this.#markNs) / 1e6));
  }

  /**
   * Acknowledged room messages that a connection still open never got: for each open, joined
   * member, every acked id of its room after the one it joined at that it did not receive.
   */
  ackedLost(): number {
    let lost = 0;
    for (const r of this.#rooms) {
      for (const m of r.members) {
        if (!m.joined || m.ws?.open !== true) continue;
        for (const id of r.acked) if (id > m.joinId && (id > m.lastId || m.missing?.has(id) === true)) lost++;
      }
    }
    return lost;
  }

  /** Connections that ended while the load ran, by the port they were on. */
  droppedByPort(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.#conns) {
      if (c.ws === undefined || c.ws.open || c.closing || this.#closing) continue;
      out[c.port] = (out[c.port] ?? 0) + 1;
    }
    return out;
  }

  // ---- end -------------------------------------------------------------------------------------

  /** Closes every connection (close frames), stops timers. */
  close(): void {
    this.#closing = true;
    this.setRate(0);
    this.startFaults(0);
    this.#loop?.disable();
    for (const c of this.#conns) {
      c.closing = true;
      c.ws?.close();
    }
  }
}
