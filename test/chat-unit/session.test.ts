import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addRoom,
  inRoom,
  newSession,
  recordLimited,
  removeRoom,
  roomCount,
  roomList,
  takeToken,
} from '../../examples/chat/src/session.js';

test("a session's rooms: none, one, several, in join order, each once, and back down to none", () => {
  const s = newSession('alice', 10, 0);
  assert.deepEqual([roomCount(s), roomList(s), inRoom(s, 'a')], [0, [], false]);
  addRoom(s, 'a');
  addRoom(s, 'a');
  assert.deepEqual([roomCount(s), roomList(s), inRoom(s, 'a'), inRoom(s, 'b')], [1, ['a'], true, false]);
  addRoom(s, 'b');
  addRoom(s, 'c');
  addRoom(s, 'b');
  assert.deepEqual([roomCount(s), roomList(s), inRoom(s, 'c')], [3, ['a', 'b', 'c'], true]);
  assert.equal(removeRoom(s, 'x'), false);
  assert.equal(removeRoom(s, 'b'), true);
  assert.equal(removeRoom(s, 'b'), false);
  assert.deepEqual(roomList(s), ['a', 'c']);
  assert.equal(removeRoom(s, 'a'), true);
  assert.deepEqual([roomCount(s), roomList(s), inRoom(s, 'c'), inRoom(s, 'a')], [1, ['c'], true, false]);
  assert.equal(removeRoom(s, 'c'), true);
  assert.equal(removeRoom(s, 'c'), false);
  assert.deepEqual([roomCount(s), roomList(s)], [0, []]);
});

test('the token bucket: a burst passes, then one frame per 1/rate, refilled up to the burst', () => {
  const s = newSession('bob', 3, 1000.4);
  const at = (ms: number) => takeToken(s, ms, 20, 3);
  assert.deepEqual([at(1000.5), at(1000.6), at(1000.7)], [0, 0, 0]);
  assert.equal(at(1000.8), 50, 'empty: a token is back in 1/20 s');
  assert.equal(at(1030.9), 20, 'a token 60% back after 30 ms');
  assert.equal(at(1050.9), 0);
  assert.equal(at(1050.95), 50);
  assert.deepEqual([at(9000), at(9000), at(9000), at(9000)], [0, 0, 0, 50], 'refilled to the burst, no more');
});

test('the yes/no facts and the rare parts of a session are kept, each on its own', () => {
  const s = newSession('carol', 3, 0);
  assert.deepEqual(
    [s.binary, s.abusive, s.welcomed, s.slowCheck, s.limitedAt, s.early, s.waits],
    [false, false, false, false, undefined, undefined, undefined],
  );
  s.welcomed = true;
  s.slowCheck = true;
  s.slowCheck = false;
  s.binary = true;
  assert.equal(recordLimited(s, 5, 2, 1_000), false);
  assert.deepEqual([s.binary, s.abusive, s.welcomed, s.slowCheck, s.limitedAt], [true, false, true, false, [5]]);
});

test('a fractional rate refills by its fractions, whatever the frames between', () => {
  const s = newSession('dave', 1, 0);
  assert.equal(takeToken(s, 0, 2.5, 1), 0);
  // A frame every millisecond for 400 ms: 2.5 thousandths of a token each, one token in all.
  let passed = 0;
  for (let t = 1; t <= 400; t++) if (takeToken(s, t, 2.5, 1) === 0) passed++;
  assert.equal(passed, 1);
});
