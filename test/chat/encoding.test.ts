import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { is, join, type Received, startServer, unpack } from './client.js';

/** A MessagePack map at the top (fixmap, map16, map32): no msgpackr-only record extension. */
function isPlainMap(r: Received): boolean {
  const b = r.raw?.[0];
  return b !== undefined && ((b & 0xf0) === 0x80 || b === 0xde || b === 0xdf);
}

describe('chat encodings', () => {
  it('answers a client that sent MessagePack in MessagePack, and in JSON again once it sends JSON', async (t) => {
    const srv = await startServer(t);
    const c = await srv.connect('alice');
    assert.equal(c.all[0]?.binary, false, 'JSON until the client sends binary');

    c.send({ type: 'ping', ref: 'p1' }, 'msgpack');
    const pong = await c.nextReceived();
    assert.deepEqual(pong.frame, { type: 'pong', ref: 'p1' });
    assert.equal(pong.binary, true);
    assert.ok(isPlainMap(pong), 'a plain MessagePack map, readable by any client');

    c.send({ type: 'join', room: 'lobby', ref: 'j1' }, 'msgpack');
    const joined = await c.nextReceived(is('joined'));
    assert.equal(joined.binary, true);
    assert.equal(joined.frame.ref, 'j1');
    c.send({ type: 'nonsense', ref: 'e1' }, 'msgpack');
    const err = await c.nextReceived(is('error'));
    assert.deepEqual([err.binary, err.frame.code, err.frame.ref], [true, 'bad_request', 'e1'], 'errors too');

    c.send({ type: 'ping', ref: 'p2' }, 'json');
    const back = await c.nextReceived(is('pong'));
    assert.deepEqual([back.binary, back.frame.ref], [false, 'p2']);
    c.send({ type: 'message', room: 'lobby', content: 'json again', ref: 'm1' }, 'json');
    const msg = await c.nextReceived(is('message'));
    const ack = await c.nextReceived(is('ack'));
    assert.deepEqual([msg.binary, ack.binary], [false, false]);

    c.send({ type: 'ping', ref: 3 }, 'msgpack');
    const again = await c.nextReceived(is('pong'));
    assert.deepEqual([again.binary, again.frame.ref], [true, 3], 'a numeric ref survives MessagePack');
  });

  it('delivers a room broadcast and a dm to each member in its own encoding', async (t) => {
    const ts = 1_732_760_000_000;
    const srv = await startServer(t, {}, { now: () => ts });
    const json = await srv.connect('jay');
    const mp = await srv.connect('pat', 'msgpack');
    await join(json, 'lobby');
    await join(mp, 'lobby'); // sent as MessagePack: pat is a MessagePack client from here on
    assert.equal(mp.all.at(-1)?.binary, true);

    const content = 'héllo 😀 \u0000 "quoted"';
    json.send({ type: 'message', room: 'lobby', content, ref: 'm1' });
    const a = await json.nextReceived(is('message'));
    const b = await mp.nextReceived(is('message'));
    assert.equal(a.binary, false);
    assert.equal(b.binary, true);
    const expected = { type: 'message', room: 'lobby', from: 'jay', content, ts, id: 1 };
    assert.deepEqual(a.frame, expected);
    assert.deepEqual(b.frame, expected);
    assert.deepEqual(unpack(b.raw as Buffer), expected);

    mp.send({ type: 'message', room: 'lobby', content: 'from pat' });
    assert.equal((await json.nextReceived(is('message', { id: 2 }))).binary, false);
    assert.equal((await mp.nextReceived(is('message', { id: 2 }))).binary, true);

    mp.send({ type: 'dm', to: 'jay', content: 'psst' });
    json.send({ type: 'dm', to: 'pat', content: 'psst back' });
    const toJson = await json.nextReceived(is('dm'));
    const toMp = await mp.nextReceived(is('dm'));
    assert.deepEqual([toJson.binary, toJson.frame.from], [false, 'pat']);
    assert.deepEqual([toMp.binary, toMp.frame.from], [true, 'jay']);
    assert.ok(isPlainMap(toMp));
  });

  it('sends presence in each member encoding', async (t) => {
    const srv = await startServer(t, { presenceMs: 1 });
    const json = await srv.connect('jay');
    const mp = await srv.connect('pat', 'msgpack');
    await join(json, 'lobby');
    await join(mp, 'lobby');
    const a = await json.nextReceived((f) => f.type === 'presence' && (f.joins as string[]).includes('pat'));
    const b = await mp.nextReceived((f) => f.type === 'presence' && (f.joins as string[]).includes('pat'));
    assert.deepEqual([a.binary, b.binary], [false, true]);
  });
});
