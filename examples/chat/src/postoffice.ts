/**
 * The inbox host, when the chat runs as a cluster: one actor per process, in the process group
 * `INBOX_HOSTS`, with two roles.
 *
 * - **Owner** of the DM inboxes that rendezvous hashing places on this process: it numbers each
 *   DM of such an inbox (one order cluster-wide), keeps the last `--history` of them, and knows
 *   which processes hold connections of the user (they attach). A DM to a user no process holds
 *   is answered `no_such_user`.
 * - **Post office** for the users connected here: it attaches them to their inbox's owner, tells
 *   their connections the inbox position for the welcome, writes each DM the owner sends to every
 *   local connection of the user (once per process), checks the ids (a hole is announced with a
 *   `gap`, `"inbox":true`), and passes `inbox` + `since` resumes to the owner.
 *
 * Every half second it compares the hosts it sees with the last time: when a process came or went,
 * each local user whose owner moved attaches to the new one, and inboxes no longer placed here are
 * dropped. Inboxes are durable (durable.ts): an owner reads an inbox from JetStream before it
 * answers for it, and acknowledges a DM once it is stored, so an inbox that moves keeps its epoch
 * and its DMs.
 *
 * A DM whose inbox owner went before it answered may have been stored just before: the post office
 * that sent it asks the inbox's next place (`ask`), which answers (`told`) once a record of its
 * own, begun after the question came, is stored: each write expects the subject's last sequence,
 * so what it holds then is all there is. The sender hears `ack` if the DM is in the inbox,
 * `unavailable` if it is not, `internal` if nobody can tell within `UNSURE_MS`.
 */
import type { SocketHandle } from '@troupe/uws';
import type { Behavior, Context, InfoMessage, MonitorRef, Ref } from 'troupe';
import { type ChatCluster, hostView, INBOX_HOSTS, inboxOwner, rendezvous } from './clustered.js';
import { Encoded, sendFrame } from './codec.js';
import { type Origin, type Stored, UnansweredWriteError } from './durable.js';
import { fanOutDm, writeInboxReplay } from './inbox.js';
import { type ClientRef, type ErrorCode, errorFrame, type Since } from './protocol.js';
import type { Session } from './session.js';
import { History, newEpoch, Origins } from './store.js';
import type { ConnMsg, World } from './world.js';

export type HostMsg =
  // From this process's connections.
  | { readonly type: 'hello'; readonly user: string; readonly conn: Ref<ConnMsg> }
  | { readonly type: 'bye'; readonly user: string }
  | {
      readonly type: 'send';
      readonly to: string;
      readonly from: string;
      readonly content: string;
      readonly conn: Ref<ConnMsg>;
      readonly ref?: ClientRef;
    }
  | {
      readonly type: 'resume';
      readonly user: string;
      readonly conn: Ref<ConnMsg>;
      readonly since: Since;
      readonly ref?: ClientRef;
    }
  // To an inbox's owner.
  | { readonly type: 'attach'; readonly user: string; readonly host: Ref<HostMsg> }
  | { readonly type: 'detach'; readonly user: string; readonly host: Ref<HostMsg> }
  | {
      readonly type: 'dm';
      readonly to: string;
      readonly from: string;
      readonly content: string;
      readonly host: Ref<HostMsg>;
      /** The post office's token: the DM's origin in the record, with `req`. */
      readonly token: string;
      readonly req: number;
    }
  /**
   * Which of these DMs (requests `reqs` of the post office `token`) are in the inbox: answered
   * with `told` once this owner has stored a record of its own. `anchor`: a stream sequence stored
   * before any of them was sent.
   */
  | {
      readonly type: 'ask';
      readonly user: string;
      readonly host: Ref<HostMsg>;
      readonly token: string;
      readonly reqs: readonly number[];
      readonly anchor: number;
    }
  | {
      readonly type: 'replay';
      readonly user: string;
      readonly since: Since;
      readonly host: Ref<HostMsg>;
      readonly req: number;
      /** The bytes of replay the connection's answer budget pays for (it writes no more). */
      readonly limit?: number;
    }
  /** The owner's answer to a `dm`: stored (in the record at stream sequence `seq`) and on its way, or why not. */
  | {
      readonly type: 'done';
      readonly req: number;
      readonly seq?: number;
      readonly error?: { readonly code: ErrorCode; readonly reason: string };
    }
  /**
   * The answer to `ask`: `stored` are [request, id]; `pending` are queued there (their `done`
   * follows); `known`: the owner holds every DM stored after the anchor, so the rest were not stored.
   */
  | {
      readonly type: 'told';
      readonly user: string;
      readonly owner: Ref<HostMsg>;
      readonly reqs: readonly number[];
      readonly stored: ReadonlyArray<readonly [req: number, id: number]>;
      readonly pending: readonly number[];
      readonly known: boolean;
    }
  // From an inbox's owner to the post offices of its user.
  | {
      readonly type: 'attached';
      readonly user: string;
      readonly owner: Ref<HostMsg>;
      readonly epoch: string;
      readonly id: number;
    }
  | { readonly type: 'deliver'; readonly user: string; readonly id: number; readonly json: Uint8Array }
  /** The inbox is placed elsewhere now: attach where this process's view says. */
  | { readonly type: 'moved'; readonly user: string; readonly owner: Ref<HostMsg> }
  | {
      readonly type: 'replayed';
      readonly req: number;
      readonly user: string;
      readonly epoch: string;
      readonly id: number;
      readonly recovered: boolean;
      readonly replay: readonly Uint8Array[];
      readonly first: number;
      readonly gapFrom: number;
    }
  | { readonly type: 'tick' }
  /** `--test-faults` only: SIGKILL this process once the next DMs of this inbox are stored, before they go on. */
  | { readonly type: 'die.after.store'; readonly user: string }
  /** The process is draining: leave the inbox hosts, so that the others take its inboxes. */
  | { readonly type: 'drain' }
  /**
   * From the inbox's previous place, when it lets the inbox go: the last id it stored. A process
   * that placed the inbox elsewhere for a moment (views of the cluster differ) may have stored DMs
   * that the new place, which read the inbox before, does not know: it reads the inbox again and
   * sends them on.
   */
  | { readonly type: 'handoff'; readonly user: string; readonly epoch: string; readonly id: number }
  // The owner's own bookkeeping: its loads and writes of the stream.
  | { readonly type: 'loaded'; readonly user: string; readonly stored: Stored | undefined }
  | { readonly type: 'load.failed'; readonly user: string; readonly reason: string }
  | { readonly type: 'written'; readonly user: string; readonly seq: number }
  | { readonly type: 'write.failed'; readonly user: string; readonly unanswered: boolean; readonly reason: string };

export interface HostArgs {
  readonly world: World;
  readonly cluster: ChatCluster;
}

/** What an inbox's owner is sent. */
type ForOwner = Extract<HostMsg, { type: 'attach' | 'detach' | 'dm' | 'replay' | 'ask' }>;

/** A DM accepted and not stored yet, and the post office (its token and request) to answer. */
interface Pending {
  readonly dm: Encoded;
  readonly host: Ref<HostMsg>;
  readonly token: string;
  readonly req: number;
}

/** A request a post office passed to an inbox's owner and has no answer to yet. */
interface Request {
  readonly owner: Ref<HostMsg>;
  readonly conn: Ref<ConnMsg>;
  readonly ref: ClientRef | undefined;
  /** A DM's: to whom, and the highest stream sequence this post office had heard of when it sent it. */
  readonly dm?: { readonly to: string; readonly anchor: number };
  /** When it was sent (clock ms): unanswered after `ANSWER_MS`, the bus lost it or its answer. */
  readonly at: number;
}

/** A DM whose inbox owner went before it answered: stored or not, the inbox's next place says. */
interface Unsure {
  readonly to: string;
  readonly anchor: number;
  readonly conn: Ref<ConnMsg>;
  readonly ref: ClientRef | undefined;
  /** When it became unsure (clock ms): after `UNSURE_MS` its sender hears `internal`. */
  readonly since: number;
}

/**
 * An inbox this process owns. It is read from the stream before it answers anything; its history
 * is made on its first DM (most users never get one).
 */
interface Owned {
  epoch: string;
  store: History | undefined;
  /** The post offices (one per process) of the user's connections. */
  readonly hosts: Set<Ref<HostMsg>>;
  /** When its last post office detached (clock ms), or -1 while it has one. */
  idleSince: number;
  /** While it is read from the stream, what comes for it waits here. */
  stash: ForOwner[] | undefined;
  /** The read failed (NATS out of reach): tried again on the next tick. */
  failed: boolean;
  /** The stream sequence of its last record (0: none). */
  seq: number;
  readonly queue: Pending[];
  writing: Pending[] | undefined;
  /** Who sent its stored DMs (made with its history). */
  origins: Origins | undefined;
  /**
   * Questions (`ask`) waiting for a record of this owner's begun after they came (`asked`), and
   * those the record being stored answers (`asking`): what it holds once that is stored is all
   * there is (each write expects the subject's last sequence).
   */
  asked: Array<Extract<HostMsg, { type: 'ask' }>>;
  asking: Array<Extract<HostMsg, { type: 'ask' }>>;
  /**
   * DMs of a write that failed without an answer (they may be stored), and since when (clock ms):
   * checked by this owner's next record after the inbox is read again, or `internal` after
   * `UNSURE_MS`.
   */
  readonly recheck: Array<{ readonly p: Pending; readonly since: number }>;
  /** Read again after a failed write: DMs that came meanwhile are refused, not stored after it. */
  refuseStashed: boolean;
  /** The last id its post offices were sent (undefined before its first read). */
  told: number | undefined;
  /** A read must see at least this id (a handoff said so): an older answer is read again. */
  expect: number;
}

/** A user with connections in this process. */
interface Local {
  owner: Ref<HostMsg> | undefined;
  epoch: string | undefined;
  lastId: number;
  /** Connections waiting for the inbox position (their welcome). */
  readonly waiting: Ref<ConnMsg>[];
  gapped: WeakSet<SocketHandle<Session>> | undefined;
}

interface HostState {
  readonly world: World;
  readonly cluster: ChatCluster;
  readonly owned: Map<string, Owned>;
  readonly local: Map<string, Local>;
  view: string;
  /** Requests waiting for an owner's answer, by number; answered `unavailable` if the owner goes. */
  readonly requests: Map<number, Request>;
  seq: number;
  /** Names this post office's DMs in the records (with their request numbers): unique across runs. */
  readonly token: string;
  /** The highest stream sequence of a record an owner told this post office of (`done`). */
  heard: number;
  /** DMs whose owner went before it answered, by request number; asked about last at `askedAt`. */
  readonly unsure: Map<number, Unsure>;
  askedAt: number;
  /** Fault injection: the process dies once the next DMs of this inbox are stored. */
  dieAfterStore: string | undefined;
  /** The owners this post office has sent to, monitored. */
  readonly owners: Map<Ref<HostMsg>, MonitorRef>;
}

const TICK_MS = 500;
/**
 * How long the sender of a DM whose owner went waits for the inbox's next place to say whether it
 * was stored: then it hears `internal`, which, unlike `unavailable`, does not say it was not.
 */
export const UNSURE_MS = 10_000;
/** How often a post office asks again about unsure DMs that got no answer. */
const ASK_AGAIN_MS = 2_000;
/** How long after its last post office left an inbox answers a DM `unavailable`, not `no_such_user`. */
const MOVING_MS = 2 * TICK_MS;
const RETRY_MS = 1_000;
/**
 * How long a request waits for its owner's answer while the owner lives: longer than an owner's
 * slowest answer (a write's timeout, then its recheck). Past it, the bus lost the request or its
 * answer (a NATS blip too short for the owner to be declared down): a DM is unsure (the inbox's
 * place says whether it was stored), a resume is answered `unavailable` (it applies nothing).
 */
export const ANSWER_MS = 30_000;

function attach(s: HostState, ctx: Context<HostMsg>, user: string, lu: Local): void {
  const owner = inboxOwner(s.cluster, user);
  // The one it leaves lets go of this process for the user (it may be alive, with an older view).
  if (lu.owner !== undefined && lu.owner !== owner) lu.owner.send({ type: 'detach', user, host: ctx.self });
  lu.owner = owner;
  if (owner === undefined) return;
  watchOwner(s, ctx, owner);
  owner.send({ type: 'attach', user, host: ctx.self });
}

function localOf(s: HostState, user: string): Local {
  let lu = s.local.get(user);
  if (lu === undefined) {
    lu = { owner: undefined, epoch: undefined, lastId: 0, waiting: [], gapped: undefined };
    s.local.set(user, lu);
  }
  return lu;
}

/** The local connections of `user` that take DMs now: a hole from `from` on, announced. */
function announceHole(s: HostState, user: string, lu: Local, from: number): void {
  for (const socket of s.world.users.lookup(user).values()) {
    if (lu.gapped?.has(socket) === true) continue;
    lu.gapped ??= new WeakSet();
    lu.gapped.add(socket);
    s.world.counters.gaps++;
    sendFrame(socket, { type: 'gap', inbox: true, from });
  }
}

function refOf(ref: ClientRef | undefined): { ref?: ClientRef } {
  return ref === undefined ? {} : { ref };
}

const UNREACHABLE = { code: 'unavailable', reason: 'the inbox cannot be reached now' } as const;

/** Answers a DM or a resume that cannot be served now with `unavailable` (nothing was applied). */
function refuse(m: { readonly host: Ref<HostMsg>; readonly req: number }): void {
  m.host.send({ type: 'done', req: m.req, error: UNREACHABLE });
}

/** Sends a request to an inbox's owner, watching the owner so that its death answers it. */
function request(
  s: HostState,
  ctx: Context<HostMsg>,
  owner: Ref<HostMsg>,
  conn: Ref<ConnMsg>,
  ref: ClientRef | undefined,
  to?: string,
): number {
  watchOwner(s, ctx, owner);
  const req = ++s.seq;
  const at = ctx.system.clock.now();
  s.requests.set(
    req,
    to === undefined ? { owner, conn, ref, at } : { owner, conn, ref, dm: { to, anchor: s.heard }, at },
  );
  return req;
}

/** Asks the inboxes' places about the DMs still unsure (again each tick: the bus may lose either way). */
function askUnsure(s: HostState, ctx: Context<HostMsg>): void {
  if (s.unsure.size === 0) return;
  s.askedAt = ctx.system.clock.now();
  const byUser = new Map<string, { reqs: number[]; anchor: number }>();
  for (const [req, u] of s.unsure) {
    const q = byUser.get(u.to);
    if (q === undefined) byUser.set(u.to, { reqs: [req], anchor: u.anchor });
    else {
      q.reqs.push(req);
      q.anchor = Math.min(q.anchor, u.anchor);
    }
  }
  for (const [user, q] of byUser) {
    const owner = inboxOwner(s.cluster, user);
    if (owner === undefined) continue;
    owner.send({ type: 'ask', user, host: ctx.self, token: s.token, reqs: q.reqs, anchor: q.anchor });
  }
}

/** An unsure DM whose outcome nobody could tell: `internal` (it may be in the inbox). */
function unknownOutcome(u: Unsure): void {
  answerError(u, {
    code: 'internal',
    reason: `the inbox of ${u.to} went before it confirmed this DM, and no owner could say whether it was stored (it may be in the inbox)`,
  });
}

/** Answers an `ask` about DMs from `a.host`: which are stored, which still queued, whether the rest are not. */
function tell(ctx: Context<HostMsg>, inbox: Owned, a: Extract<HostMsg, { type: 'ask' }>): void {
  const origins = inbox.origins;
  const reqs = new Set(a.reqs);
  const pending: number[] = [];
  for (const p of [...(inbox.writing ?? []), ...inbox.queue])
    if (p.host === a.host && p.token === a.token && reqs.has(p.req)) pending.push(p.req);
  a.host.send({
    type: 'told',
    user: a.user,
    owner: ctx.self,
    reqs: a.reqs,
    stored: origins === undefined ? [] : origins.find(a.token, reqs),
    pending,
    // No history: nothing was ever stored in this epoch (or all of it expired: then not known).
    known: origins === undefined ? inbox.seq === 0 : origins.coversRecords(a.anchor),
  });
}

function watchOwner(s: HostState, ctx: Context<HostMsg>, owner: Ref<HostMsg>): void {
  if (owner !== ctx.self && !s.owners.has(owner)) s.owners.set(owner, ctx.monitor(owner as Ref<never>));
}

/** What a connection gets when a request it made cannot be answered. */
function answerError(
  r: Pick<Request, 'conn' | 'ref'>,
  error: { readonly code: ErrorCode; readonly reason: string },
): void {
  const frame =
    error.code === 'unavailable'
      ? errorFrame({ ...error, ...refOf(r.ref) }, RETRY_MS)
      : { type: 'error' as const, ...error, ...refOf(r.ref) };
  r.conn.send({ type: 'frame', frame });
}

function load(s: HostState, ctx: Context<HostMsg>, user: string): void {
  const self = ctx.self;
  s.cluster.history.load('u', user).then(
    (stored) => self.send({ type: 'loaded', user, stored }),
    (e: unknown) => self.send({ type: 'load.failed', user, reason: String(e) }),
  );
}

/** The inbox of `user` this process owns, made (and read from the stream) if there is none. */
function ownedOf(s: HostState, ctx: Context<HostMsg>, user: string): Owned {
  let inbox = s.owned.get(user);
  if (inbox === undefined) {
    inbox = {
      epoch: s.cluster.history.freshEpoch,
      store: undefined,
      hosts: new Set(),
      idleSince: -1,
      stash: [],
      failed: false,
      seq: 0,
      queue: [],
      writing: undefined,
      origins: undefined,
      asked: [],
      asking: [],
      recheck: [],
      refuseStashed: false,
      told: undefined,
      expect: 0,
    };
    s.owned.set(user, inbox);
    load(s, ctx, user);
  }
  return inbox;
}

/**
 * Stores the queued DMs of an inbox as one record, unless one is being stored already; with
 * `seal`, a record even with none (an owner's first, before it says what was not stored).
 */
function flushInbox(s: HostState, ctx: Context<HostMsg>, user: string, inbox: Owned, seal = false): void {
  if (inbox.writing !== undefined || (inbox.queue.length === 0 && !seal)) return;
  const batch = inbox.queue.splice(0);
  inbox.writing = batch;
  if (inbox.asked.length > 0) {
    inbox.asking = inbox.asked;
    inbox.asked = [];
  }
  const self = ctx.self;
  const lastId = (inbox.store?.lastId ?? 0) + batch.length;
  s.cluster.history
    .append(
      'u',
      user,
      inbox.epoch,
      lastId,
      batch.map((p) => p.dm.json()),
      inbox.seq,
      batch.map((p): Origin => [p.token, p.req]),
    )
    .then(
      (seq) => self.send({ type: 'written', user, seq }),
      (e: unknown) =>
        self.send({ type: 'write.failed', user, unanswered: e instanceof UnansweredWriteError, reason: String(e) }),
    );
}

/** What an inbox's owner does with a message for it, once the inbox is read. */
function asOwner(s: HostState, ctx: Context<HostMsg>, user: string, inbox: Owned, msg: ForOwner): void {
  const world = s.world;
  switch (msg.type) {
    case 'attach':
      inbox.hosts.add(msg.host);
      inbox.idleSince = -1;
      msg.host.send({ type: 'attached', user, owner: ctx.self, epoch: inbox.epoch, id: inbox.store?.lastId ?? 0 });
      return;

    case 'detach':
      inbox.hosts.delete(msg.host);
      // Kept for roomIdleMs, so that the user's reconnect finds it in memory.
      if (inbox.hosts.size === 0) inbox.idleSince = ctx.system.clock.now();
      return;

    case 'dm': {
      if (inbox.hosts.size === 0 && inbox.idleSince >= 0 && ctx.system.clock.now() - inbox.idleSince < MOVING_MS) {
        // Its last post office left a moment ago: it may have moved to the inbox's new place, which
        // this process does not see yet. Try again (a retry finds the place, or no_such_user).
        refuse(msg);
        return;
      }
      if (inbox.hosts.size === 0) {
        world.counters.errors++;
        msg.host.send({
          type: 'done',
          req: msg.req,
          error: { code: 'no_such_user', reason: `${user} is not connected` },
        });
        return;
      }
      const id = (inbox.store?.lastId ?? 0) + (inbox.writing?.length ?? 0) + inbox.queue.length + 1;
      const dm = new Encoded({ type: 'dm', from: msg.from, content: msg.content, ts: world.now(), id });
      dm.jsonBytes();
      inbox.queue.push({ dm, host: msg.host, token: msg.token, req: msg.req });
      flushInbox(s, ctx, user, inbox);
      return;
    }

    case 'ask':
      // Answered once a record begun from now on is stored (an empty one if nothing else is
      // written): another owner's write could land until then.
      inbox.asked.push(msg);
      flushInbox(s, ctx, user, inbox, true);
      return;

    case 'replay': {
      const store = inbox.store;
      const lastId = store?.lastId ?? 0;
      const since = msg.since;
      const recovered = since.epoch === inbox.epoch && (store === undefined ? since.id === 0 : store.covers(since.id));
      const { frames: replay, gapFrom } =
        recovered && store !== undefined
          ? store.framesAfter(since.id, Math.min(world.options.softLimit, msg.limit ?? Number.POSITIVE_INFINITY))
          : { frames: [], gapFrom: 0 };
      msg.host.send({
        type: 'replayed',
        req: msg.req,
        user,
        epoch: inbox.epoch,
        id: lastId,
        recovered,
        replay,
        first: since.id + 1,
        gapFrom,
      });
      return;
    }
  }
}

export const inboxHost: Behavior<HostMsg, HostState, HostArgs> = {
  name: 'post office',
  summary: (s) => `${s.owned.size} inboxes owned, ${s.local.size} local users, ${s.requests.size} requests waiting`,
  init(ctx, { world, cluster }) {
    cluster.cluster.groups.join(INBOX_HOSTS, ctx.self);
    ctx.sendAfter(ctx.self, { type: 'tick' }, TICK_MS);
    const s: HostState = {
      world,
      cluster,
      owned: new Map(),
      local: new Map(),
      view: hostView(cluster),
      requests: new Map(),
      seq: 0,
      token: newEpoch(),
      heard: 0,
      unsure: new Map(),
      askedAt: 0,
      dieAfterStore: undefined,
      owners: new Map(),
    };
    // After a restart: the users connected here attach again (and their connections are welcomed).
    for (const user of world.users.keys()) attach(s, ctx, user, localOf(s, user));
    return s;
  },

  receive(s, msg, ctx) {
    const world = s.world;
    switch (msg.type) {
      case 'hello': {
        const lu = localOf(s, msg.user);
        if (lu.epoch !== undefined) {
          msg.conn.send({ type: 'welcome', inbox: { epoch: lu.epoch, id: lu.lastId } });
          return s;
        }
        lu.waiting.push(msg.conn);
        if (lu.owner === undefined) attach(s, ctx, msg.user, lu);
        return s;
      }

      case 'bye': {
        if (world.users.count(msg.user) > 0) return s;
        const lu = s.local.get(msg.user);
        if (lu === undefined) return s;
        s.local.delete(msg.user);
        lu.owner?.send({ type: 'detach', user: msg.user, host: ctx.self });
        return s;
      }

      case 'resume': {
        const owner = s.local.get(msg.user)?.owner;
        if (owner === undefined || !s.cluster.cluster.connected) {
          answerError({ conn: msg.conn, ref: msg.ref }, UNREACHABLE);
          return s;
        }
        const req = request(s, ctx, owner, msg.conn, msg.ref);
        // A replay travels no further than the connection's answer budget lets it be written.
        const budget = world.users.lookup(msg.user).get(msg.conn)?.session.answerBudget;
        const limit = budget !== undefined && Number.isFinite(budget) ? { limit: budget } : {};
        owner.send({ type: 'replay', user: msg.user, since: msg.since, host: ctx.self, req, ...limit });
        return s;
      }

      case 'send': {
        // The inbox's owner numbers the DM, stores it, and sends it to every process of the user.
        const owner = inboxOwner(s.cluster, msg.to);
        if (owner === undefined || !s.cluster.cluster.connected) {
          answerError({ conn: msg.conn, ref: msg.ref }, UNREACHABLE);
          return s;
        }
        const req = request(s, ctx, owner, msg.conn, msg.ref, msg.to);
        owner.send({
          type: 'dm',
          to: msg.to,
          from: msg.from,
          content: msg.content,
          host: ctx.self,
          token: s.token,
          req,
        });
        return s;
      }

      case 'done': {
        if (msg.seq !== undefined && msg.seq > s.heard) s.heard = msg.seq;
        const r = s.requests.get(msg.req);
        if (r === undefined) return s;
        s.requests.delete(msg.req);
        if (msg.error !== undefined) answerError(r, msg.error);
        else if (r.ref !== undefined) r.conn.send({ type: 'frame', frame: { type: 'ack', ref: r.ref } });
        return s;
      }

      case 'told': {
        const stored = new Set(msg.stored.map(([req]) => req));
        const pending = new Set(msg.pending);
        for (const req of msg.reqs) {
          const u = s.unsure.get(req);
          if (u === undefined) continue;
          s.unsure.delete(req);
          if (stored.has(req)) {
            if (u.ref !== undefined) u.conn.send({ type: 'frame', frame: { type: 'ack', ref: u.ref } });
          } else if (pending.has(req)) {
            // Queued there: its `done` follows (and its owner is watched, as any request's).
            watchOwner(s, ctx, msg.owner);
            s.requests.set(req, {
              owner: msg.owner,
              conn: u.conn,
              ref: u.ref,
              dm: { to: u.to, anchor: u.anchor },
              at: ctx.system.clock.now(),
            });
          } else if (msg.known) answerError(u, UNREACHABLE);
          else unknownOutcome(u);
        }
        return s;
      }

      case 'attach':
      case 'detach':
      case 'dm':
      case 'replay':
      case 'ask': {
        const user = msg.type === 'dm' ? msg.to : msg.user;
        if (msg.type === 'detach' && !s.owned.has(user)) return s;
        const inbox = ownedOf(s, ctx, user);
        if (inbox.stash !== undefined) {
          // Loading: attaches wait; while NATS does not answer, DMs and resumes are refused (and
          // questions dropped: asked again next tick).
          if (inbox.failed && msg.type === 'ask') return s;
          if (inbox.failed && (msg.type === 'dm' || msg.type === 'replay')) refuse(msg);
          else inbox.stash.push(msg);
          return s;
        }
        asOwner(s, ctx, user, inbox, msg);
        return s;
      }

      case 'loaded': {
        const inbox = s.owned.get(msg.user);
        if (inbox === undefined || inbox.stash === undefined) return s;
        const stash = inbox.stash;
        inbox.stash = undefined;
        inbox.failed = false;
        const stored = msg.stored;
        if (inbox.expect > 0 && (stored?.lastId ?? 0) < inbox.expect) {
          // Read before the previous place's last write was stored: read again (once).
          inbox.expect = 0;
          inbox.stash = stash;
          load(s, ctx, msg.user);
          return s;
        }
        inbox.expect = 0;
        const told = inbox.told;
        const epochBefore = inbox.epoch;
        if (stored !== undefined) {
          const o = world.options;
          const store = new History(o.history, o.historyBytes, stored.epoch);
          const origins = new Origins(o.history);
          store.startAfter(stored.lastId - stored.frames.length);
          origins.startAfter(store.lastId, stored.records[0] ?? stored.seq + 1);
          for (let i = 0; i < stored.frames.length; i++) {
            const f = stored.frames[i] as Buffer;
            store.append(Encoded.fromJson(f), f.byteLength);
            const from = stored.origins[i];
            origins.push(from?.[0], from?.[1] ?? 0, stored.records[i] ?? 0);
          }
          inbox.store = store;
          inbox.origins = origins;
          inbox.epoch = stored.epoch;
          inbox.seq = stored.seq;
        } else {
          inbox.store = undefined;
          inbox.origins = undefined;
          inbox.epoch = s.cluster.history.freshEpoch;
          inbox.seq = 0;
        }
        // Read again (a handoff, or a write another owner fenced): what that owner stored after
        // what this one sent its post offices goes to them now, in order.
        const store = inbox.store;
        if (told !== undefined && store !== undefined && store.epoch === epochBefore && store.lastId > told) {
          // From the oldest still held: a post office that sees the ids jump announces the hole.
          let id = Math.max(told, store.oldestId - 1);
          for (const e of store.after(id)) {
            id++;
            const json = e.json();
            for (const host of inbox.hosts) host.send({ type: 'deliver', user: msg.user, id, json });
          }
        }
        inbox.told = inbox.store?.lastId ?? 0;
        // After a failed write, a DM that waited for this read may be one whose sender has
        // already been told by another place that it is not stored (this process looked dead to
        // the sender's): refused, never stored now.
        const refuseDms = inbox.refuseStashed;
        inbox.refuseStashed = false;
        for (const m of stash) {
          if (refuseDms && m.type === 'dm') refuse(m);
          else asOwner(s, ctx, msg.user, inbox, m);
        }
        // A write that failed without an answer may have been stored: this owner's next record
        // settles it (and until then its DMs wait); so are questions that came meanwhile.
        if (inbox.recheck.length > 0 || inbox.asked.length > 0) flushInbox(s, ctx, msg.user, inbox, true);
        return s;
      }

      case 'load.failed': {
        const inbox = s.owned.get(msg.user);
        if (inbox?.stash === undefined) return s;
        // Tried again on the next tick; attaches keep waiting, requests are refused.
        inbox.failed = true;
        inbox.stash = inbox.stash.filter((m) => {
          if (m.type !== 'dm' && m.type !== 'replay') return true;
          refuse(m);
          return false;
        });
        return s;
      }

      case 'written': {
        const inbox = s.owned.get(msg.user);
        if (inbox === undefined) return s;
        const batch = inbox.writing ?? [];
        if (s.dieAfterStore === msg.user && batch.length > 0) process.kill(process.pid, 'SIGKILL');
        inbox.writing = undefined;
        inbox.seq = msg.seq;
        const o = world.options;
        inbox.store ??= new History(o.history, o.historyBytes, inbox.epoch);
        inbox.origins ??= new Origins(o.history);
        const store = inbox.store;
        const origins = inbox.origins;
        for (const p of batch) {
          const id = store.lastId + 1;
          store.append(p.dm, p.dm.jsonBytes());
          origins.push(p.token, p.req, msg.seq);
          const json = p.dm.json();
          for (const host of inbox.hosts) host.send({ type: 'deliver', user: msg.user, id, json });
          inbox.told = id;
          p.dm.compact();
          // Stored, and on its way to every process of the user: acknowledged (PROTOCOL.md).
          p.host.send({ type: 'done', req: p.req, seq: msg.seq });
        }
        // A write that failed without an answer: stored if this owner's read holds it.
        for (const { p } of inbox.recheck.splice(0)) {
          const found = origins.find(p.token, new Set([p.req])).length > 0;
          if (found) p.host.send({ type: 'done', req: p.req, seq: msg.seq });
          else refuse(p);
        }
        for (const a of inbox.asking.splice(0)) tell(ctx, inbox, a);
        flushInbox(s, ctx, msg.user, inbox, inbox.asked.length > 0);
        return s;
      }

      case 'write.failed': {
        const inbox = s.owned.get(msg.user);
        if (inbox === undefined) return s;
        // The queued DMs were not stored, and a refused write (fenced: another owner added to the
        // inbox; or JetStream said no) was not either: said to the senders. A write that got no
        // answer (in time) may have been stored: the inbox is read again from the stream, and
        // the next record of this owner settles it.
        for (const p of inbox.queue) refuse(p);
        const since = ctx.system.clock.now();
        if (!msg.unanswered) for (const p of inbox.writing ?? []) refuse(p);
        else for (const p of inbox.writing ?? []) inbox.recheck.push({ p, since });
        inbox.writing = undefined;
        inbox.refuseStashed = true;
        // Questions wait for a record begun after the read.
        inbox.asked = [...inbox.asking.splice(0), ...inbox.asked];
        inbox.queue.length = 0;
        inbox.stash = [];
        load(s, ctx, msg.user);
        return s;
      }

      case 'attached': {
        const lu = s.local.get(msg.user);
        if (lu === undefined || lu.owner !== msg.owner) return s;
        if (lu.epoch !== undefined && lu.epoch !== msg.epoch) {
          // The inbox moved and lost its history: the connections hear a gap, resume, and learn
          // the new epoch.
          announceHole(s, msg.user, lu, lu.lastId + 1);
        } else if (lu.epoch !== undefined && msg.id > lu.lastId) {
          // Its new place holds DMs this process was never sent (stored by the old place after
          // this process left it): a hole, announced; the connections resume it.
          announceHole(s, msg.user, lu, lu.lastId + 1);
        }
        // Never backwards in one epoch: a DM the old place sent is not sent twice by the new one.
        lu.lastId = lu.epoch === msg.epoch ? Math.max(lu.lastId, msg.id) : msg.id;
        lu.epoch = msg.epoch;
        for (const conn of lu.waiting.splice(0))
          conn.send({ type: 'welcome', inbox: { epoch: msg.epoch, id: msg.id } });
        return s;
      }

      case 'moved': {
        const lu = s.local.get(msg.user);
        if (lu !== undefined && lu.owner === msg.owner) attach(s, ctx, msg.user, lu);
        return s;
      }

      case 'deliver': {
        const lu = s.local.get(msg.user);
        if (lu === undefined) return s;
        // Sent already (by the inbox's previous place), or behind a hole announced: not again.
        if (msg.id <= lu.lastId) return s;
        if (msg.id !== lu.lastId + 1) announceHole(s, msg.user, lu, lu.lastId + 1);
        lu.lastId = msg.id;
        fanOutDm(world, lu, world.users.lookup(msg.user), Encoded.fromJson(msg.json), msg.id);
        return s;
      }

      case 'replayed': {
        const r = s.requests.get(msg.req);
        if (r === undefined) return s;
        s.requests.delete(msg.req);
        const lu = s.local.get(msg.user);
        const socket = world.users.lookup(msg.user).get(r.conn);
        if (lu === undefined || socket === undefined) return s;
        const answer = { type: 'inbox', epoch: msg.epoch, id: msg.id, recovered: msg.recovered } as const;
        sendFrame(socket, r.ref === undefined ? answer : { ...answer, ref: r.ref });
        lu.gapped?.delete(socket);
        if (msg.recovered) {
          writeInboxReplay(
            world,
            lu,
            r.conn,
            socket,
            msg.replay.map((j) => Encoded.fromJson(j)),
            msg.first,
            msg.gapFrom,
          );
        }
        return s;
      }

      case 'drain':
        s.cluster.cluster.groups.leave(INBOX_HOSTS, ctx.self);
        return s;

      case 'die.after.store':
        if (world.options.testFaults) s.dieAfterStore = msg.user;
        return s;

      case 'handoff': {
        const inbox = s.owned.get(msg.user);
        // Not read here yet: its first read sees what the previous place stored.
        if (inbox === undefined) return s;
        if (inbox.stash !== undefined || inbox.writing !== undefined) {
          // Being read (the answer must reach that id), or written (a write after the other's is
          // fenced, and the inbox is read again).
          inbox.expect = Math.max(inbox.expect, msg.id);
          return s;
        }
        if (msg.epoch !== inbox.epoch || msg.id <= (inbox.store?.lastId ?? 0)) return s;
        inbox.expect = msg.id;
        inbox.stash = [];
        load(s, ctx, msg.user);
        return s;
      }

      case 'tick': {
        ctx.sendAfter(ctx.self, { type: 'tick' }, TICK_MS);
        if (s.requests.size > 0) {
          // In the order they were sent (a request set again goes last, with its new time).
          const at = ctx.system.clock.now();
          let lost = false;
          for (const [req, r] of s.requests) {
            if (at - r.at < ANSWER_MS) break;
            s.requests.delete(req);
            if (r.dm === undefined) answerError(r, UNREACHABLE);
            else {
              s.unsure.set(req, { to: r.dm.to, anchor: r.dm.anchor, conn: r.conn, ref: r.ref, since: at });
              lost = true;
            }
          }
          if (lost) askUnsure(s, ctx);
        }
        if (s.unsure.size > 0) {
          const at = ctx.system.clock.now();
          for (const [req, u] of s.unsure) {
            if (at - u.since < UNSURE_MS) continue;
            s.unsure.delete(req);
            unknownOutcome(u);
          }
          // Again now and then (the bus may lose a question or its answer): each question costs
          // the inbox a record.
          if (at - s.askedAt >= ASK_AGAIN_MS) askUnsure(s, ctx);
        }
        // The hosts once per tick, not once per user: this runs over every inbox owned here.
        const hosts = s.cluster.cluster.groups.members(INBOX_HOSTS);
        const view = hostView(s.cluster);
        const now = ctx.system.clock.now();
        if (view !== s.view) {
          s.view = view;
          const live = new Set(hosts);
          // Users whose inbox is placed elsewhere now attach there.
          for (const [user, lu] of s.local) {
            if (rendezvous(user, hosts) !== lu.owner) attach(s, ctx, user, lu);
          }
          for (const inbox of s.owned.values()) {
            // Post offices of processes that are gone.
            for (const h of inbox.hosts) if (!live.has(h)) inbox.hosts.delete(h);
            if (inbox.hosts.size === 0 && inbox.idleSince < 0) inbox.idleSince = now;
          }
        }
        // Inboxes placed elsewhere now: dropped once nothing depends on this copy; until then their
        // post offices are told to look again (views of the cluster differ for a moment, so one may
        // still see this process as the place: it attaches again, and is told again next tick).
        for (const [user, inbox] of s.owned) {
          if (rendezvous(user, hosts) === ctx.self || inbox.stash !== undefined) continue;
          const settled = inbox.asked.length === 0 && inbox.recheck.length === 0;
          if (inbox.hosts.size === 0 && inbox.writing === undefined && inbox.queue.length === 0 && settled) {
            s.owned.delete(user);
            const next = rendezvous(user, hosts);
            const id = inbox.store?.lastId ?? 0;
            if (next !== undefined && id > 0) next.send({ type: 'handoff', user, epoch: inbox.epoch, id });
          } else for (const h of inbox.hosts) h.send({ type: 'moved', user, owner: ctx.self });
        }
        for (const [user, inbox] of s.owned) {
          // DMs of an unanswered write that no read and record could settle in time (NATS away).
          while (inbox.recheck.length > 0 && now - (inbox.recheck[0] as { since: number }).since >= UNSURE_MS) {
            const { p } = inbox.recheck.shift() as { p: Pending };
            p.host.send({
              type: 'done',
              req: p.req,
              error: { code: 'internal', reason: `the inbox of ${user} could not tell whether this DM was stored` },
            });
          }
          // Requests stashed while it is read (an attach not counted as a host yet) wait on it too.
          const busy =
            inbox.writing !== undefined ||
            inbox.queue.length > 0 ||
            inbox.recheck.length > 0 ||
            inbox.stash !== undefined;
          if (inbox.failed) {
            inbox.failed = false;
            load(s, ctx, user);
          } else if (!busy && inbox.idleSince >= 0 && now - inbox.idleSince >= world.options.roomIdleMs)
            s.owned.delete(user);
        }
        return s;
      }
    }
  },

  info(s, msg: InfoMessage, ctx) {
    if (msg.type !== 'DOWN') return s;
    // An inbox owner went (its process died or left): a resume it did not answer is `unavailable`,
    // a DM is unsure (it may have been stored just before), and its users attach to their
    // inboxes' new place.
    const owner = msg.actor as Ref<HostMsg>;
    if (s.owners.get(owner) !== msg.monitor) return s;
    s.owners.delete(owner);
    const now = ctx.system.clock.now();
    for (const [req, r] of s.requests) {
      if (r.owner !== owner) continue;
      s.requests.delete(req);
      // A DM it did not answer may be stored: the inbox's next place says (a resume applies nothing).
      if (r.dm === undefined) answerError(r, UNREACHABLE);
      else s.unsure.set(req, { to: r.dm.to, anchor: r.dm.anchor, conn: r.conn, ref: r.ref, since: now });
    }
    askUnsure(s, ctx);
    s.view = hostView(s.cluster);
    for (const [user, lu] of s.local) if (lu.owner === owner) attach(s, ctx, user, lu);
    return s;
  },
};
