/**
 * A frame for many clients (examples/chat/src/codec.ts `Encoded`): encoded once per encoding for a
 * fan-out, and, once kept in a history, held as its JSON alone, which is what `--history-bytes`
 * counts, whatever encodings its readers speak.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unpack } from 'msgpackr';
import { Encoded } from '../../examples/chat/src/codec.js';
import { newSession } from '../../examples/chat/src/session.js';

/** A socket that keeps what it is sent, decoded, in its encoding (binary: MessagePack). */
function socket(binary: boolean) {
  const session = newSession('u', 100, 0);
  session.binary = binary;
  const got: unknown[] = [];
  return {
    got,
    s: {
      session,
      send(data: string | Uint8Array, isBinary?: boolean) {
        got.push(
          isBinary === true ? unpack(data as Uint8Array) : JSON.parse(Buffer.from(data as Uint8Array).toString()),
        );
        return 'queued';
      },
    } as never,
  };
}

test('a frame kept in a history holds only its JSON, and a MessagePack reader still gets it in a replay', () => {
  const frame = { type: 'message', room: 'r', from: 'a', content: 'x'.repeat(1_000), ts: 1, id: 7 } as const;
  const e = new Encoded(frame);
  const json = e.jsonBytes();
  const [text, bin] = [socket(false), socket(true)];
  // The live fan-out: one encoding each.
  e.sendTo(text.s);
  e.sendTo(bin.s);
  e.sendTo(bin.s);
  assert.ok(e.heldBytes > json, 'both encodings while it fans out');
  e.compact();
  assert.equal(e.heldBytes, json, 'in the history: its JSON bytes alone');
  // A replay to each kind of reader.
  e.sendTo(bin.s);
  e.sendTo(text.s);
  assert.equal(e.heldBytes, json, 'a replay to a MessagePack reader keeps nothing more');
  for (const got of [text.got, bin.got]) for (const f of got) assert.deepEqual(f, frame);
  assert.equal(bin.got.length, 3);
  // A frame that came as JSON from another process, fanned out to MessagePack readers.
  const relayed = Encoded.fromJson(Buffer.from(JSON.stringify(frame)));
  relayed.sendTo(bin.s);
  assert.deepEqual(bin.got.at(-1), frame);
});
