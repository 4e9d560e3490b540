/**
 * Property tests (fast-check) that throw random and adversarial frames at a live server: wrong
 * types, huge strings, deep nesting, invalid UTF-8 inside MessagePack, truncated MessagePack, random
 * bytes. Whatever arrives: the server never crashes, every frame gets exactly one protocol answer
 * (in order), the connection stays open, and another user sees nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { validate } from '../../examples/chat/src/protocol.js';
import { pack, startServer } from '../chat/client.js';

/** A frame on the wire: text or binary. */
type Wire = { readonly data: string | Buffer; readonly binary: boolean };

const MAX_CONTENT = 16_384;

/** Anything that is not a valid request (a valid one could have legitimate effects on others). */
function invalid(v: unknown): boolean {
  return !validate(v, MAX_CONTENT).ok;
}

const deepArray = fc.integer({ min: 100, max: 20_000 }).map((d) => '['.repeat(d) + ']'.repeat(d));
const deepObject = fc.integer({ min: 100, max: 5_000 }).map((d) => `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`);

/** A MessagePack str8 whose bytes are not UTF-8, inside a frame that is otherwise a message. */
const invalidUtf8 = fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => {
  const bad = Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x90, 0x28, 0xbc, ...bytes]);
  // fixmap of 3: type, room, content (content as str8 with the bad bytes)
  const head = pack({ type: 'message', room: 'lobby' });
  const map3 = Buffer.concat([Buffer.from([0x83]), head.subarray(1)]);
  return Buffer.concat([map3, pack('content'), Buffer.from([0xd9, bad.length]), bad]);
});

const wire: fc.Arbitrary<Wire> = fc.oneof(
  // Text that is rarely JSON.
  fc.string({ maxLength: 200 }).map((data) => ({ data, binary: false })),
  // JSON of random values and of near-miss frames.
  fc
    .oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({
        type: fc.constantFrom('join', 'leave', 'message', 'dm', 'who', 'ping', 'nope', 'JOIN', ''),
        room: fc.oneof(fc.string({ maxLength: 80 }), fc.integer(), fc.constant(null)),
        to: fc.oneof(fc.string({ maxLength: 80 }), fc.constant(undefined)),
        content: fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.constant(undefined)),
        since: fc.oneof(fc.constant(undefined), fc.record({ epoch: fc.anything(), id: fc.anything() })),
        ref: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 200 }), fc.anything()),
      }),
    )
    .filter(invalid)
    .map((v) => ({ data: JSON.stringify(v) ?? 'undefined', binary: false })),
  // The same as MessagePack.
  fc
    .jsonValue({ maxDepth: 4 })
    .filter(invalid)
    .map((v) => ({ data: pack(v), binary: true })),
  // Truncated MessagePack of a valid frame.
  fc.tuple(fc.string({ minLength: 1, maxLength: 50 }), fc.integer({ min: 1, max: 20 })).map(([content, cut]) => {
    const whole = pack({ type: 'message', room: 'lobby', content });
    return { data: whole.subarray(0, Math.max(1, whole.length - cut)), binary: true };
  }),
  // Random bytes.
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => ({ data: Buffer.from(b), binary: true })),
  invalidUtf8.map((data) => ({ data, binary: true })),
  // Deep nesting and huge strings (under the 64 KiB frame limit).
  deepArray.map((data) => ({ data, binary: false })),
  deepObject.map((data) => ({ data, binary: false })),
  fc.integer({ min: 17_000, max: 60_000 }).map((n) => ({
    data: JSON.stringify({ type: 'message', room: 'lobby', content: 'x'.repeat(n) }),
    binary: false,
  })),
  fc.integer({ min: 1, max: 60_000 }).map((n) => ({ data: JSON.stringify({ type: 'x'.repeat(n) }), binary: false })),
);

describe('chat server under random frames', () => {
  it('answers every frame with one protocol frame, stays up, keeps the connection, and shows others nothing', async (t) => {
    const server = await startServer(t, { rate: 1_000_000, burst: 1_000_000, maxContent: MAX_CONTENT });
    const fuzzer = await server.connect('fuzzer');
    const observer = await server.connect('observer');
    await observer.request({ type: 'join', room: 'lobby' });
    // Its own presence batch arrives after the batching window: wait for it, so that from here on
    // anything the observer receives was caused by the fuzzer.
    await observer.next((f) => f.type === 'presence', 'its own presence');
    await observer.sync();
    const observed = observer.all.length;
    let batches = 0;
    const codes = new Set<unknown>();
    await fc.assert(
      fc.asyncProperty(fc.array(wire, { minLength: 1, maxLength: 15 }), async (frames) => {
        batches++;
        const before = fuzzer.all.length;
        for (const f of frames) fuzzer.sendRaw(f.data, f.binary);
        // Frames are handled in order: once the pong of a ping sent after them is here, every
        // answer to them is too.
        await fuzzer.sync();
        const answers = fuzzer.all.slice(before, fuzzer.all.length - 1).map((r) => r.frame);
        assert.equal(answers.length, frames.length, `one answer per frame: ${JSON.stringify(answers).slice(0, 300)}`);
        for (const a of answers) {
          assert.equal(a.type, 'error', `an invalid frame gets an error: ${JSON.stringify(a).slice(0, 200)}`);
          codes.add(a.code);
        }
      }),
      { numRuns: 60, seed: 20261128, endOnFailure: true },
    );
    assert.ok(batches >= 60);
    // The generators reach every kind of refusal a malformed frame can earn.
    assert.deepEqual([...codes].sort(), ['bad_request', 'invalid_name', 'payload_too_large']);
    await observer.sync();
    assert.equal(observer.all.length, observed + 1, 'the observer saw nothing but its own pong');
    const health = await server.http('GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(fuzzer.ws.readyState, fuzzer.ws.OPEN);
  });
});
