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
import { RoomStore } from './store.js';
import { type ConnMsg, closeIfOverHard, type World } from './world.js';

export interface Inbox {
  readonly store: RoomStore;
  /** Connections whose DMs are held back until they resume. */
  readonly gapped: WeakSet<SocketHandle<Session>>;
  /** The removal armed when the user's last connection went. */
  idle: ReturnType<typeof setTimeout> | undefined;
}

/** The inbox of `user`, made if there is none (and kept from going idle). */
export function inboxOf(world: World, user: string): Inbox {
  let inbox = world.inboxes.get(user);
  if (inbox === undefined) {
    const o = world.options;
    inbox = { store: new RoomStore(o.history, o.historyBytes), gapped: new WeakSet(), idle: undefined };
    world.inboxes.set(user, inbox);
  }
  if (inbox.idle !== undefined) {
    clearTimeout(inbox.idle);
    inbox.idle = undefined;
  }
  return inbox;
}

/** The inbox position a `welcome` announces. */
export function inboxPosition(inbox: Inbox): { epoch: string; id: number } {
  return { epoch: inbox.store.epoch, id: inbox.store.lastId };
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
  const soft = world.options.softLimit;
  let sent = 0;
  for (const [conn, target] of targets) {
    if (closeIfOverHard(world, target)) continue;
    if (inbox.gapped.has(target)) {
      world.counters.droppedForSlow++;
      continue;
    }
    if (target.bufferedAmount + target.pendingBytes > soft) {
      world.counters.droppedForSlow++;
      world.counters.gaps++;
      inbox.gapped.add(target);
      sendFrame(target, { type: 'gap', inbox: true, from: id });
      // Closed with 1013 if it stays over the soft limit for the grace period; its DMs wait.
      conn.send({ type: 'slow', room: '' });
      continue;
    }
    world.counters.deliveries++;
    dm.sendTo(target);
    sent++;
  }
  dm.compact();
  return sent;
}

/**
 * Answers `inbox` + `since` on one connection: the position, `recovered`, and the DMs after `since`
 * while they fit under the soft limit; what does not fit is a gap (`"inbox":true`) at the first id
 * not sent, as for rooms.
 */
export function resumeInbox(
  world: World,
  socket: SocketHandle<Session>,
  since: { epoch: string; id: number },
  ref: string | number | undefined,
): void {
  const inbox = inboxOf(world, socket.session.user);
  const store = inbox.store;
  const recovered = since.epoch === store.epoch && store.covers(since.id);
  const answer = { type: 'inbox', epoch: store.epoch, id: store.lastId, recovered } as const;
  sendFrame(socket, ref === undefined ? answer : { ...answer, ref });
  inbox.gapped.delete(socket);
  if (!recovered) return;
  const soft = world.options.softLimit;
  let queued = socket.bufferedAmount + socket.pendingBytes;
  let next = since.id + 1;
  for (const f of store.after(since.id)) {
    if (queued > soft) {
      world.counters.gaps++;
      inbox.gapped.add(socket);
      sendFrame(socket, { type: 'gap', inbox: true, from: next });
      return;
    }
    queued += f.sendTo(socket);
    next++;
  }
}

/** The user's last connection is going: its inbox goes too, unless the user is back within `roomIdleMs`. */
export function lastConnectionGone(world: World, user: string): void {
  const inbox = world.inboxes.get(user);
  if (inbox === undefined || inbox.idle !== undefined) return;
  inbox.idle = setTimeout(() => {
    if (world.users.count(user) === 0 && world.inboxes.get(user) === inbox) world.inboxes.delete(user);
    inbox.idle = undefined;
  }, world.options.roomIdleMs);
  inbox.idle.unref();
}
