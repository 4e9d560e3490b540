/**
 * DM inboxes (PROTOCOL.md "DM inbox"): every user has an inbox of the last `--history` DMs sent to
 * it (and at most `--history-bytes` of them), numbered by `id` within an `epoch` and shared by all
 * of its connections. A DM goes into the inbox first, then to each connection that has room under
 * the soft limit; one that has none gets one `gap` frame with `"inbox":true` and the DMs after it
 * only when it resumes (`inbox` + `since`), so an acknowledged DM is never silently lost: it arrives
 * live or by resume. An inbox outlives its user's last connection by `roomIdleMs`, so a client that
 * reconnects resumes it.
 *
 * Inboxes are plain objects beside the registries, not actors: a DM is handled in the sender's
 * connection actor, one turn at a time, so ids are handed out in one order.
 */
import type { SocketHandle } from '@troupe/uws';
import type { Ref } from 'troupe';
import { Encoded, sendFrame } from './codec.js';
import type { Session } from './session.js';
import { epochText, History, newEpochNumber, writeReplay } from './store.js';
import { type ConnMsg, closeIfOverHard, type World } from './world.js';

export interface Inbox {
  readonly store: History;
  /** Connections whose DMs are held back until they resume; made on the first gap. */
  gapped: WeakSet<SocketHandle<Session>> | undefined;
  /** The removal armed when the user's last connection went. */
  idle: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The inbox of `user`, made if there is none (and kept from going idle). A user nobody has sent a
 * DM yet has no inbox, only the epoch its connections were welcomed with (`Session.inboxEpoch`):
 * most users of a chat never get one, and the welcome of every connection needs the position.
 */
export function inboxOf(world: World, user: string): Inbox {
  let inbox = world.inboxes.get(user);
  if (inbox === undefined) {
    const o = world.options;
    const epoch = welcomedEpoch(world, user);
    inbox = {
      store: new History(o.history, o.historyBytes, epoch === 0 ? undefined : epochText(epoch)),
      gapped: undefined,
      idle: undefined,
    };
    world.inboxes.set(user, inbox);
  }
  if (inbox.idle !== undefined) {
    clearTimeout(inbox.idle);
    inbox.idle = undefined;
  }
  return inbox;
}

/** The epoch the user's connections were welcomed with while it had no inbox, or 0. */
function welcomedEpoch(world: World, user: string): number {
  for (const socket of world.users.lookup(user).values()) {
    if (socket.session.inboxEpoch !== 0) return socket.session.inboxEpoch;
  }
  return 0;
}

/** The connections of `inbox` held back until they resume, made on the first gap. */
function gappedOf(inbox: Inbox): WeakSet<SocketHandle<Session>> {
  if (inbox.gapped === undefined) inbox.gapped = new WeakSet();
  return inbox.gapped;
}

/**
 * The inbox position a `welcome` announces to `session`'s connection (registered in `world.users`
 * already); a user without an inbox gets the epoch its other connections got (a new one if none),
 * and id 0.
 */
export function inboxPosition(world: World, session: Session): { epoch: string; id: number } {
  const held = world.inboxes.get(session.user);
  if (held !== undefined) {
    if (held.idle !== undefined) {
      clearTimeout(held.idle);
      held.idle = undefined;
    }
    return { epoch: held.store.epoch, id: held.store.lastId };
  }
  let epoch = welcomedEpoch(world, session.user);
  if (epoch === 0) epoch = newEpochNumber();
  session.inboxEpoch = epoch;
  return { epoch: epochText(epoch), id: 0 };
}

/**
 * Puts a DM in `to`'s inbox and sends it to every connection of `to` that has room; returns how many
 * got it now (the others get a gap and resume).
 */
export function deliverDm(
  world: World,
  to: string,
  targets: ReadonlyMap<Ref<ConnMsg>, SocketHandle<Session>>,
  from: string,
  content: string,
): number {
  const inbox = inboxOf(world, to);
  const store = inbox.store;
  const id = store.lastId + 1;
  const dm = new Encoded({ type: 'dm', from, content, ts: world.now(), id });
  store.append(dm, dm.jsonBytes());
  const sent = fanOutDm(world, inbox, targets, dm, id);
  dm.compact();
  return sent;
}

/** Whatever holds the connections whose DMs wait for a resume: an inbox, or (clustered) a user here. */
export interface HoldsGapped {
  gapped: WeakSet<SocketHandle<Session>> | undefined;
}

/**
 * Writes DM `id` to every connection in `targets` that has room under the soft limit; one that has
 * none gets a `gap` frame with `"inbox":true` and no DMs until it resumes. Returns how many got it.
 */
export function fanOutDm(
  world: World,
  holder: HoldsGapped,
  targets: ReadonlyMap<Ref<ConnMsg>, SocketHandle<Session>>,
  dm: Encoded,
  id: number,
): number {
  const soft = world.options.softLimit;
  let sent = 0;
  for (const [conn, target] of targets) {
    if (closeIfOverHard(world, target)) continue;
    if (holder.gapped?.has(target) === true) {
      world.counters.droppedForSlow++;
      continue;
    }
    if (target.bufferedAmount + target.pendingBytes > soft) {
      world.counters.droppedForSlow++;
      world.counters.gaps++;
      holder.gapped ??= new WeakSet();
      holder.gapped.add(target);
      sendFrame(target, { type: 'gap', inbox: true, from: id });
      // Closed with 1013 if it stays over the soft limit for the grace period; its DMs wait.
      conn.send({ type: 'slow', room: '' });
      continue;
    }
    world.counters.deliveries++;
    dm.sendTo(target);
    sent++;
  }
  return sent;
}

/**
 * Writes a resume's DMs (the first has id `first`) while the socket stays under the soft limit;
 * what does not fit is a gap (`"inbox":true`) at the first id not sent, as for rooms.
 */
export function writeInboxReplay(
  world: World,
  holder: HoldsGapped,
  conn: Ref<ConnMsg>,
  socket: SocketHandle<Session>,
  replay: readonly Encoded[],
  first: number,
  gapFrom: number,
): void {
  const cut = writeReplay(socket, replay.length, (i) => replay[i] as Encoded, first, world.options.softLimit);
  if (socket.closed) return;
  const from = cut === 0 ? gapFrom : cut;
  if (from === 0) return;
  world.counters.gaps++;
  holder.gapped ??= new WeakSet();
  holder.gapped.add(socket);
  sendFrame(socket, { type: 'gap', inbox: true, from });
  conn.send({ type: 'slow', room: '' });
}

/**
 * Answers `inbox` + `since` on one connection: the position, `recovered`, and the DMs after `since`
 * while they fit under the soft limit; what does not fit is a gap (`"inbox":true`) at the first id
 * not sent, as for rooms.
 */
export function resumeInbox(
  world: World,
  conn: Ref<ConnMsg>,
  socket: SocketHandle<Session>,
  since: { epoch: string; id: number },
  ref: string | number | undefined,
): void {
  const inbox = inboxOf(world, socket.session.user);
  const store = inbox.store;
  const recovered = since.epoch === store.epoch && store.covers(since.id);
  const answer = { type: 'inbox', epoch: store.epoch, id: store.lastId, recovered } as const;
  sendFrame(socket, ref === undefined ? answer : { ...answer, ref });
  inbox.gapped?.delete(socket);
  if (!recovered) return;
  const from = store.replayTo(socket, since.id, world.options.softLimit);
  if (from === 0) return;
  world.counters.gaps++;
  gappedOf(inbox).add(socket);
  sendFrame(socket, { type: 'gap', inbox: true, from });
  // As for a room replay: closed with 1013 if it is still over the soft limit after the grace period.
  conn.send({ type: 'slow', room: '' });
}

/** The user's last connection is going: its inbox goes too, unless the user is back within `roomIdleMs`. */
export function lastConnectionGone(world: World, user: string): void {
  const inbox = world.inboxes.get(user);
  // No inbox: its epoch goes with the last session (a reconnect would answer recovered:false either way).
  if (inbox === undefined || inbox.idle !== undefined) return;
  inbox.idle = setTimeout(() => {
    if (world.users.count(user) === 0 && world.inboxes.get(user) === inbox) world.inboxes.delete(user);
    inbox.idle = undefined;
  }, world.options.roomIdleMs);
  inbox.idle.unref();
}
