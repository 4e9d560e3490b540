import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addRoom, inRoom, newSession, removeRoom, roomCount, roomList } from '../../examples/chat/src/session.js';

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
