/**
 * A room's relay (the clustered chat's per-process part of a room) against an owner played by the
 * test: what the relay keeps across its own restarts, what it undoes when no owner can be found,
 * and how it finds out that its owner dropped it. The cluster tests (test/chat-cluster) run the
 * same code over real NATS; these reach the paths a real cluster only hits by bad luck.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dynamicSupervisor, type Ref } from 'troupe';
import { settle } from 'troupe/testing';
import type { OwnerMsg } from '../../examples/chat/src/owner.js';
import { OWNER_CHECK_MS, OWNER_CHECKS, type RelayMsg, relay, UNSURE_MS } from '../../examples/chat/src/relay.js';
import { answerLostRequest } from '../../examples/chat/src/room.js';
import { ensureRoom, OWNER_SUP, RELAY_SUP } from '../../examples/chat/src/world.js';
import { harness } from './harness.js';

const EPOCH = 'e1';

/** A message as the owner stores and sends it (JSON bytes). */
function stored(id: number, content: string): Uint8Array {
  return Buffer.from(JSON.stringify({ type: 'message', room: 'lobby', from: 'carol', content, ts: 0, id }));
}

/**
 * A clustered world with the room owner played by a test actor: every message the relay sends it
 * lands in `toOwner`. `findable` says whether the cluster registry knows the owner.
 */
async function relayHarness() {
  const h = await harness();
  const toOwner: OwnerMsg[] = [];
  const spawnOwner = () =>
    h.system.spawn((m: OwnerMsg) => {
      toOwner.push(m);
    }) as unknown as Ref<OwnerMsg>;
  const owner = spawnOwner();
  /**
   * `throwOnce`: the registry's next lookup throws (a bug of the relay's own, as far as it knows).
   * `owner`: the one the registry finds (`replaceOwner` kills it and registers another).
   * `available`: whether the registry can claim (false just after a reconnect).
   */
  const state = { findable: true, throwOnce: false, owner, available: true };
  (h.world as { cluster: unknown }).cluster = {
    draining: false,
    cluster: {
      connected: true,
      registry: {
        get available() {
          return state.available;
        },
        whereis: () => {
          if (state.throwOnce) {
            state.throwOnce = false;
            throw new Error('injected: the registry lookup failed');
          }
          return state.findable ? state.owner : undefined;
        },
      },
    },
  };
  h.world.names.register(
    RELAY_SUP,
    await h.system.start(
      dynamicSupervisor({ child: { behavior: relay, restart: 'transient' }, maxRestarts: 1000, withinMs: 1000 }),
    ),
  );
  const relayOf = () => {
    const r = ensureRoom(h.world, 'lobby');
    if (r === undefined || typeof r === 'string') throw new Error(`no relay: ${String(r)}`);
    return r as unknown as Ref<RelayMsg>;
  };
  const run = () => settle(h.system);
  /** What the relay sent the owner since the last call. */
  const taken = () => toOwner.splice(0);
  /** The owner welcomes the relay (as it answers an `attach`). */
  const welcome = (id: number, missed: Uint8Array[] = [], first = 1) =>
    relayOf().send({ type: 'o.welcome', owner, epoch: EPOCH, id, members: 1, missed, first, gapFrom: 0 });
  const msg = (id: number, content: string, origin = 0) =>
    relayOf().send({ type: 'o.msg', id, json: stored(id, content), origin });
  /** A joined member: its join forwarded and answered. */
  const member = async (user: string) => {
    const c = h.conn(user);
    h.join('lobby', c);
    await run();
    relayOf().send({ type: 'o.joined', conn: c.ref as never, members: 1, epoch: EPOCH, id: 0 });
    await run();
    c.socket.frames.length = 0;
    return c;
  };
  const crash = async () => {
    relayOf().send({ type: 'crash' });
    await run();
  };
  /** The owner's process dies: the registry finds a new owner, which the relay attaches to. */
  const replaceOwner = async () => {
    h.system.kill(state.owner as Ref<never>);
    state.owner = spawnOwner();
    await run();
    h.clock.advance(1_000); // the relay looks again after a moment
    await run();
    return state.owner;
  };
  return { ...h, owner, state, relayOf, run, taken, welcome, msg, member, crash, replaceOwner };
}

/** The relay of 'lobby' started, attached and welcomed at id `id`. */
async function attached(id = 0) {
  const r = await relayHarness();
  r.relayOf();
  await r.run();
  assert.equal(r.taken()[0]?.type, 'attach');
  r.welcome(id);
  await r.run();
  return r;
}

const types = (frames: Array<Record<string, unknown>>) => frames.map((f) => f.type);

test('a join the owner answers after the relay restarted is still answered, and its member gets nothing before it', async () => {
  const r = await attached();
  const alice = r.conn('alice');
  r.join('lobby', alice);
  await r.run();
  assert.deepEqual(
    r.taken().map((m) => m.type),
    ['present', 'join'],
  );
  await r.crash(); // the relay restarts (same ref, same mailbox) with alice's join unanswered
  assert.equal(r.taken()[0]?.type, 'attach', 'the restarted relay attaches again');
  r.msg(1, 'before her join was answered');
  r.relayOf().send({ type: 'o.joined', conn: alice.ref as never, members: 1, epoch: EPOCH, id: 1 });
  r.msg(2, 'after');
  await r.run();
  assert.deepEqual(types(alice.socket.frames), ['joined', 'message']);
  assert.equal(alice.socket.frames[1]?.content, 'after');
});

test('a message in flight when the relay restarts is still acknowledged to its sender', async () => {
  const r = await attached();
  const alice = await r.member('alice');
  r.taken();
  r.relayOf().send({ type: 'publish', conn: alice.ref, socket: alice.socket, content: 'hi', ref: 7 } as never);
  await r.run();
  const sent = r.taken().find((m) => m.type === 'publish') as Extract<OwnerMsg, { type: 'publish' }>;
  assert.ok(sent, 'the relay sent the message to its owner');
  await r.crash();
  r.msg(1, 'hi', sent.seq); // the owner's echo of it, already on its way
  await r.run();
  assert.deepEqual(
    alice.socket.frames.map((f) => [f.type, f.ref ?? f.content]),
    [
      ['message', 'hi'],
      ['ack', 7],
    ],
  );
});

test('a message lost to a relay crash shows as a gap: the relay does not forget the last id across a restart', async () => {
  const r = await attached();
  const alice = await r.member('alice');
  r.msg(1, 'one');
  await r.run();
  await r.crash();
  r.msg(3, 'three'); // 2 went with the crash
  await r.run();
  assert.deepEqual(
    alice.socket.frames.map((f) => (f.type === 'gap' ? `gap from ${f.from}` : f.content)),
    ['one', 'gap from 2'],
  );
});

test('a join held while no owner can be found is answered unavailable and makes no member', async () => {
  const r = await relayHarness();
  r.state.findable = false; // no owner in the registry, and none can start here (no owners supervisor)
  const alice = r.conn('alice');
  r.join('lobby', alice);
  await r.run();
  assert.deepEqual(
    alice.socket.frames.map((f) => f.code),
    ['unavailable'],
  );
  assert.equal(r.world.members.lookup('lobby').has(alice.ref as never), false, 'not a member');
  // An owner appears; bob joins. Alice, told unavailable, gets none of the room's messages.
  assert.equal(r.world.names.whereis(OWNER_SUP), undefined);
  r.state.findable = true;
  const bob = r.conn('bob');
  r.join('lobby', bob);
  await r.run();
  const sent = r.taken().map((m) => m.type);
  assert.deepEqual(sent, ['attach', 'join'], 'the owner hears of bob only');
  r.welcome(0);
  r.relayOf().send({ type: 'o.joined', conn: bob.ref as never, members: 1, epoch: EPOCH, id: 0 });
  r.msg(1, 'hello');
  await r.run();
  assert.deepEqual(
    alice.socket.frames.map((f) => f.code),
    ['unavailable'],
  );
  assert.deepEqual(types(bob.socket.frames), ['joined', 'message']);
});

test('just after a reconnect, a relay that finds no owner starts none and answers unavailable', async () => {
  const r = await relayHarness();
  // The registry is not yet sure of this process's own names: a lookup of an owner here finds nobody.
  r.state.findable = false;
  r.state.available = false;
  let started = 0;
  r.world.names.register(
    OWNER_SUP,
    (await r.system.start(
      dynamicSupervisor({
        child: {
          behavior: {
            init: () => {
              started++;
              return undefined;
            },
            receive: (st: undefined) => st,
          },
          restart: 'temporary',
        },
      }),
    )) as never,
  );
  const alice = r.conn('alice');
  r.join('lobby', alice);
  await r.run();
  assert.deepEqual(
    alice.socket.frames.map((f) => f.code),
    ['unavailable'],
  );
  assert.equal(r.world.members.lookup('lobby').has(alice.ref as never), false, 'not a member');
  assert.deepEqual(r.taken(), [], 'no owner was asked');
  assert.equal(started, 0, 'no second owner started, to lose its claim to the one this process has');
});

test('a relay asks its owner whether it holds it after attaching; dropped, it attaches again and gets what it missed', async () => {
  const r = await attached();
  const alice = await r.member('alice');
  r.taken();
  r.msg(1, 'm1');
  await r.run();
  r.clock.advance(OWNER_CHECK_MS);
  await r.run();
  assert.deepEqual(
    r.taken().map((m) => m.type),
    ['check'],
    'the first question; the owner holds the relay and says nothing',
  );
  // Then the owner drops the relay (it saw this process go down, later than this process saw the
  // flap and attached again), and the messages from other relays stop coming here.
  r.clock.advance(OWNER_CHECK_MS);
  await r.run();
  assert.deepEqual(
    r.taken().map((m) => m.type),
    ['check'],
  );
  r.relayOf().send({ type: 'o.unknown', owner: r.owner });
  await r.run();
  const attach = r.taken()[0] as Extract<OwnerMsg, { type: 'attach' }>;
  assert.equal(attach.type, 'attach');
  assert.equal(attach.lastId, 1, 'it attaches with the last id it wrote');
  assert.deepEqual(attach.users, ['alice']);
  r.welcome(3, [stored(2, 'm2'), stored(3, 'm3')], 2);
  await r.run();
  assert.deepEqual(
    alice.socket.frames.map((f) => f.content),
    ['m1', 'm2', 'm3'],
  );
  // Asked OWNER_CHECKS times after this attach, and then no more: a quiet room costs nothing.
  for (let i = 0; i < OWNER_CHECKS + 2; i++) {
    r.clock.advance(OWNER_CHECK_MS);
    await r.run();
  }
  assert.equal(r.taken().filter((m) => m.type === 'check').length, OWNER_CHECKS);
});

/** A socket that throws on the next room message whose content is `content` (a bug in a write path). */
function throwOn(socket: { send: (data: string | Uint8Array) => unknown }, content: string) {
  const send = socket.send.bind(socket);
  let armed = true;
  socket.send = (data: string | Uint8Array) => {
    if (armed && String(data).includes(`"content":"${content}"`)) {
      armed = false;
      throw new Error(`injected: a write of ${content} failed`);
    }
    return send(data);
  };
}

const shown = (frames: Array<Record<string, unknown>>) =>
  frames.map((f) =>
    f.type === 'message'
      ? String(f.content)
      : f.type === 'gap'
        ? `gap ${f.from}`
        : `${String(f.type)}${f.code === undefined ? '' : ` ${String(f.code)}`}${f.ref === undefined ? '' : ` ${String(f.ref)}`}`,
  );

test('a refusal that arrives after the relay restarted, before it found its owner again, still answers the sender', async () => {
  const r = await attached();
  const alice = await r.member('alice');
  r.relayOf().send({ type: 'publish', conn: alice.ref, socket: alice.socket, content: 'hi', ref: 7 } as never);
  await r.run();
  const sent = r.taken().find((m) => m.type === 'publish') as Extract<OwnerMsg, { type: 'publish' }>;
  r.relayOf().send({ type: 'crash' });
  r.relayOf().send({ type: 'o.refused', owner: r.owner, seq: sent.seq });
  await r.run();
  assert.deepEqual(shown(alice.socket.frames), ['error unavailable 7']);
});

test('a sender whose own message the relay crashed writing hears ack, and the others a gap, not a second copy', async () => {
  const r = await attached();
  const alice = await r.member('alice');
  const bob = await r.member('bob');
  r.relayOf().send({ type: 'publish', conn: alice.ref, socket: alice.socket, content: 'hi', ref: 7 } as never);
  await r.run();
  const sent = r.taken().find((m) => m.type === 'publish') as Extract<OwnerMsg, { type: 'publish' }>;
  throwOn(bob.socket, 'hi');
  r.msg(1, 'hi', sent.seq); // written to alice, then bob's write throws: the relay restarts
  await r.run();
  r.msg(2, 'next');
  await r.run();
  assert.deepEqual(shown(alice.socket.frames), ['hi', 'ack 7', 'gap 1']);
  assert.deepEqual(shown(bob.socket.frames), ['gap 1']);
});

test("a relay that crashes while repairing from its owner's welcome writes none twice, and announces the one it crashed on", async () => {
  const r = await attached();
  const alice = await r.member('alice');
  const bob = await r.member('bob');
  r.msg(1, 'm1');
  await r.run();
  r.taken();
  r.relayOf().send({ type: 'o.unknown', owner: r.owner });
  await r.run();
  assert.equal((r.taken()[0] as Extract<OwnerMsg, { type: 'attach' }>).lastId, 1);
  throwOn(bob.socket, 'm3');
  r.welcome(3, [stored(2, 'm2'), stored(3, 'm3')], 2); // m2 written, then a write of m3 throws
  await r.run();
  const again = r.taken().find((m) => m.type === 'attach') as Extract<OwnerMsg, { type: 'attach' }>;
  assert.equal(again.lastId, 3, 'the restarted relay attaches past the one it crashed writing');
  r.welcome(3);
  await r.run();
  // m3 reached alice and not bob: both hear a gap from 3 (each resumes from what it has).
  assert.deepEqual(shown(alice.socket.frames), ['m1', 'm2', 'm3', 'gap 3']);
  assert.deepEqual(shown(bob.socket.frames), ['m1', 'm2', 'gap 3']);
});

test('joins still unanswered are asked again when the relay attaches again, and each is answered once', async () => {
  const r = await attached();
  const bob = r.conn('bob');
  r.relayOf().send({ type: 'join', conn: bob.ref, socket: bob.socket, ref: 'r1' } as never);
  await r.run();
  const first = r.taken().find((m) => m.type === 'join') as Extract<OwnerMsg, { type: 'join' }>;
  assert.ok(first.n !== undefined, 'a join carries its number');
  // The owner does not hold the relay (the join may be lost with what it dropped): asked again.
  r.relayOf().send({ type: 'o.unknown', owner: r.owner });
  await r.run();
  const asked = r.taken().filter((m) => m.type === 'join') as Array<Extract<OwnerMsg, { type: 'join' }>>;
  assert.deepEqual(
    asked.map((m) => m.n),
    [first.n],
    'the same join, with its number',
  );
  const answer = { type: 'o.joined', conn: bob.ref, members: 1, epoch: EPOCH, id: 0, ref: 'r1', n: first.n };
  r.relayOf().send(answer as never);
  r.relayOf().send(answer as never); // the owner answers both copies
  await r.run();
  // bob joins again; a late copy of the first answer does not answer the second join.
  r.relayOf().send({ type: 'join', conn: bob.ref, socket: bob.socket, ref: 'r2' } as never);
  await r.run();
  const second = r.taken().find((m) => m.type === 'join') as Extract<OwnerMsg, { type: 'join' }>;
  r.relayOf().send(answer as never);
  r.relayOf().send({ ...answer, ref: 'r2', n: second.n } as never);
  await r.run();
  assert.deepEqual(shown(bob.socket.frames), ['joined r1', 'joined r2']);
});

// A relay that crashes on a client's request answers it `internal` (the dead letter, as startChat
// installs answerLostRequest); what it kept across the restart must not answer it a second time.

test('a message the relay crashed on after numbering it is answered internal only, not unavailable later', async () => {
  const r = await attached();
  r.system.onDeadLetter(answerLostRequest);
  const alice = await r.member('alice');
  const bob = await r.member('bob');
  r.taken();
  // The relay numbers alice's message and puts it in flight, then fails reading her session (once).
  let fail = true;
  const failing = Object.create(alice.socket, {
    session: {
      get() {
        if (!fail) return alice.socket.session;
        fail = false;
        throw new Error('injected: the session could not be read');
      },
    },
  });
  r.relayOf().send({ type: 'publish', conn: alice.ref, socket: failing, content: 'hi', ref: 7 } as never);
  await r.run();
  assert.deepEqual(shown(alice.socket.frames), ['error internal 7']);
  // Bob's message, numbered after hers, is echoed: every earlier one still in flight is settled.
  r.relayOf().send({ type: 'publish', conn: bob.ref, socket: bob.socket, content: 'yo', ref: 8 } as never);
  await r.run();
  const sent = r.taken().find((m) => m.type === 'publish') as Extract<OwnerMsg, { type: 'publish' }>;
  r.msg(1, 'yo', sent.seq);
  await r.run();
  assert.deepEqual(shown(alice.socket.frames), ['error internal 7', 'yo'], 'one answer for ref 7');
  assert.deepEqual(shown(bob.socket.frames), ['yo', 'ack 8']);
});

test('a join the relay crashed on while it held it is answered internal only, and makes no member', async () => {
  const r = await relayHarness();
  r.system.onDeadLetter(answerLostRequest);
  r.state.findable = false;
  r.relayOf();
  await r.run();
  // Alice's join waits for an owner; looking for one throws: the relay restarts.
  r.state.throwOnce = true;
  const alice = r.conn('alice');
  r.relayOf().send({ type: 'join', conn: alice.ref, socket: alice.socket, ref: 3 } as never);
  await r.run();
  assert.deepEqual(shown(alice.socket.frames), ['error internal 3'], 'one answer for ref 3');
  assert.equal(r.world.members.lookup('lobby').has(alice.ref as never), false, 'not a member');
});

// When the owner goes, the messages it had not echoed may have been stored just before: the next
// owner's verdict decides what their senders hear (`unavailable` promises nothing was applied).

/** Alice and bob joined; alice's messages `contents` sent, in flight; answers what the owner got. */
async function inFlight(...contents: string[]) {
  return inFlightAt(0, ...contents);
}

/** The same, the relay welcomed at id `id`. */
async function inFlightAt(id: number, ...contents: string[]) {
  const r = await attached(id);
  const alice = await r.member('alice');
  const bob = await r.member('bob');
  r.taken();
  for (const [i, content] of contents.entries())
    r.relayOf().send({ type: 'publish', conn: alice.ref, socket: alice.socket, content, ref: i + 1 } as never);
  await r.run();
  const sent = r.taken().filter((m) => m.type === 'publish') as Array<Extract<OwnerMsg, { type: 'publish' }>>;
  assert.equal(sent.length, contents.length);
  return { ...r, alice, bob, sent };
}

test('a message the owner stored before it died is acknowledged with its id, not answered unavailable', async () => {
  const r = await inFlight('stored', 'lost');
  const next = await r.replaceOwner();
  assert.deepEqual(shown(r.alice.socket.frames), [], 'nothing said while nobody knows');
  const attach = r.taken().find((m) => m.type === 'attach') as Extract<OwnerMsg, { type: 'attach' }>;
  assert.equal(attach.unsureAfter, 0, 'it asks about what it sent after id 0');
  assert.equal(attach.unsureUpTo, (r.sent[1] as { seq: number }).seq, 'up to the last one in flight');
  assert.equal(typeof attach.token, 'string', 'with its token');
  // The new owner loaded 'stored' (id 1, from this relay's first message), not 'lost'.
  r.relayOf().send({
    type: 'o.welcome',
    owner: next,
    epoch: EPOCH,
    id: 1,
    members: 2,
    missed: [stored(1, 'stored')],
    first: 1,
    gapFrom: 0,
  });
  r.relayOf().send({
    type: 'o.verdict',
    owner: next,
    upTo: attach.unsureUpTo as number,
    stored: [[(r.sent[0] as { seq: number }).seq, 1]],
    pending: [],
    known: true,
  });
  await r.run();
  assert.deepEqual(shown(r.alice.socket.frames), ['stored', 'ack 1', 'error unavailable 2']);
  assert.equal(r.alice.socket.frames[1]?.id, 1, 'the ack carries the id it was stored with');
  assert.deepEqual(shown(r.bob.socket.frames), ['stored']);
});

test('a message still queued at an owner that dropped the relay goes back in flight: its echo acknowledges it', async () => {
  const r = await inFlight('queued');
  r.relayOf().send({ type: 'o.unknown', owner: r.owner });
  await r.run();
  const attach = r.taken().find((m) => m.type === 'attach') as Extract<OwnerMsg, { type: 'attach' }>;
  assert.equal(attach.unsureAfter, 0);
  const seq = (r.sent[0] as { seq: number }).seq;
  r.welcome(0);
  r.relayOf().send({ type: 'o.verdict', owner: r.owner, upTo: seq, stored: [], pending: [seq], known: true });
  await r.run();
  assert.deepEqual(shown(r.alice.socket.frames), [], 'no answer yet: it is on its way');
  r.msg(1, 'queued', seq);
  await r.run();
  assert.deepEqual(shown(r.alice.socket.frames), ['queued', 'ack 1']);
});

test('an owner that cannot tell whether a message was stored gets it answered internal, never unavailable', async () => {
  const r = await inFlight('unknown');
  const next = await r.replaceOwner();
  r.relayOf().send({
    type: 'o.welcome',
    owner: next,
    epoch: EPOCH,
    id: 0,
    members: 2,
    missed: [],
    first: 1,
    gapFrom: 0,
  });
  r.relayOf().send({ type: 'o.verdict', owner: next, upTo: 1, stored: [], pending: [], known: false });
  await r.run();
  assert.deepEqual(shown(r.alice.socket.frames), ['error internal 1']);
});

test('unsure messages that no owner answers for within UNSURE_MS are answered internal, once', async () => {
  const r = await inFlight('m1');
  r.state.findable = false; // the owner dies and no other can be found or started
  await r.replaceOwner();
  assert.deepEqual(shown(r.alice.socket.frames), []);
  r.clock.advance(UNSURE_MS);
  await r.run();
  assert.deepEqual(shown(r.alice.socket.frames), ['error internal 1']);
  // A verdict that comes later answers nobody again.
  r.state.findable = true;
  r.clock.advance(1_000);
  await r.run();
  r.relayOf().send({ type: 'o.verdict', owner: r.state.owner, upTo: 1, stored: [[1, 1]], pending: [], known: true });
  await r.run();
  assert.deepEqual(shown(r.alice.socket.frames), ['error internal 1']);
});

test('unsure messages survive a relay crash: the restarted relay asks the next owner about them', async () => {
  const r = await inFlight('m1');
  r.state.findable = false;
  await r.replaceOwner();
  await r.crash();
  r.state.findable = true;
  r.clock.advance(1_000);
  await r.run();
  const attach = r.taken().find((m) => m.type === 'attach') as Extract<OwnerMsg, { type: 'attach' }>;
  assert.equal(attach.unsureAfter, 0, 'the restarted relay still asks');
  r.relayOf().send({
    type: 'o.verdict',
    owner: r.state.owner,
    upTo: attach.unsureUpTo as number,
    stored: [[(r.sent[0] as { seq: number }).seq, 4]],
    pending: [],
    known: true,
  });
  await r.run();
  assert.deepEqual(shown(r.alice.socket.frames), ['ack 1']);
});

test('a verdict answers only the messages asked about: one unsure since waits for the next verdict', async () => {
  const r = await inFlight('first');
  r.relayOf().send({ type: 'o.unknown', owner: r.owner });
  await r.run();
  const asked = r.taken().find((m) => m.type === 'attach') as Extract<OwnerMsg, { type: 'attach' }>;
  const first = r.sent[0] as { seq: number };
  assert.equal(asked.unsureUpTo, first.seq);
  // 'second' goes to the owner after that attach; then a late o.unknown (to a check the owner
  // answered before the attach reached it) makes it unsure too, and the relay asks again.
  r.relayOf().send({ type: 'publish', conn: r.alice.ref, socket: r.alice.socket, content: 'second', ref: 2 } as never);
  await r.run();
  const second = r.taken().find((m) => m.type === 'publish') as Extract<OwnerMsg, { type: 'publish' }>;
  r.relayOf().send({ type: 'o.unknown', owner: r.owner });
  await r.run();
  const again = r.taken().find((m) => m.type === 'attach') as Extract<OwnerMsg, { type: 'attach' }>;
  assert.equal(again.unsureUpTo, second.seq);
  // The first verdict knew nothing of 'second' (it had not reached the owner): it answers 'first' only.
  r.relayOf().send({ type: 'o.verdict', owner: r.owner, upTo: first.seq, stored: [], pending: [], known: true });
  await r.run();
  assert.deepEqual(shown(r.alice.socket.frames), ['error unavailable 1']);
  // The second verdict: 'second' is queued there, and its echo acknowledges it.
  r.relayOf().send({
    type: 'o.verdict',
    owner: r.owner,
    upTo: second.seq,
    stored: [],
    pending: [second.seq],
    known: true,
  });
  r.msg(1, 'second', second.seq);
  await r.run();
  assert.deepEqual(shown(r.alice.socket.frames), ['error unavailable 1', 'second', 'ack 2']);
});

test('a message sent before the room changed epochs is asked about from the new epoch’s start', async () => {
  const r = await inFlightAt(5, 'm1');
  // The owner answers with a new epoch (the room lost its history) before it echoes m1.
  r.relayOf().send({
    type: 'o.welcome',
    owner: r.owner,
    epoch: 'e2',
    id: 0,
    members: 2,
    missed: [],
    first: 1,
    gapFrom: 0,
  });
  await r.run();
  await r.replaceOwner();
  const attach = r.taken().find((m) => m.type === 'attach') as Extract<OwnerMsg, { type: 'attach' }>;
  assert.equal(attach.epoch, 'e2');
  assert.equal(attach.unsureAfter, 0, 'not the id it had seen in the old epoch');
});

test('a relay whose members all left takes a join after its owner went: to the next owner, not refused as moving', async () => {
  const r = await attached();
  const bob = await r.member('bob');
  r.relayOf().send({ type: 'leave', conn: bob.ref as never, socket: bob.socket as never });
  await r.run();
  assert.deepEqual(types(bob.socket.frames), ['left']);
  r.taken();
  // The owner's process dies while nobody is in the room here; the relay stays (idle, not closed).
  const next = await r.replaceOwner();
  r.clock.advance(1_000);
  await r.run();
  // A user joins here well before the relay would close as idle: the join is taken to the next
  // owner, not answered `unavailable` until the relay goes (roomIdleMs).
  const carol = r.conn('carol');
  r.join('lobby', carol);
  await r.run();
  assert.deepEqual(
    carol.socket.frames.map((f) => f.code),
    [],
    'not refused',
  );
  assert.deepEqual(
    r.taken().map((m) => m.type),
    ['attach', 'join'],
    'attached to the next owner, and the join sent there',
  );
  assert.equal(r.state.owner, next);
});

test('a late message from the owner a relay left is not written twice, and a welcome behind it does not move its ids back', async () => {
  const r = await attached();
  const alice = await r.member('alice');
  r.msg(1, 'one');
  await r.run();
  // The owner's process is taken for dead (a flap); the next owner's welcome repairs id 2, which
  // the old one stored and had not sent yet.
  const next = await r.replaceOwner();
  r.relayOf().send({
    type: 'o.welcome',
    owner: next,
    epoch: EPOCH,
    id: 2,
    members: 1,
    missed: [stored(2, 'two')],
    first: 2,
    gapFrom: 0,
  });
  await r.run();
  // The old owner's copy of id 2 comes late (o.msg names no owner).
  r.msg(2, 'two');
  await r.run();
  // A welcome from an owner whose view is behind (it read the stream before id 2 was stored).
  r.relayOf().send({
    type: 'o.welcome',
    owner: next,
    epoch: EPOCH,
    id: 1,
    members: 1,
    missed: [],
    first: 2,
    gapFrom: 0,
  });
  await r.run();
  r.msg(3, 'three');
  await r.run();
  assert.deepEqual(
    alice.socket.frames.filter((f) => f.type === 'message').map((f) => [f.id, f.content]),
    [
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ],
  );
  assert.deepEqual(
    types(alice.socket.frames).filter((t) => t === 'gap'),
    [],
  );
});
