/**
 * What the default console logger prints for a person: a crash as one line of who and why, the
 * stack once, the last messages and a short state summary; a limit reached as one line, without
 * printing the stack again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ActorSystem, dynamicSupervisor, key, startChild, supervisor } from 'troupe';
import { settle } from 'troupe/testing';

let printed: string[] = [];
const realError = console.error;

before(() => {
  console.error = (...args: unknown[]) => {
    printed.push(args.map(String).join(' '));
  };
});
after(() => {
  console.error = realError;
});

type CacheMsg = { type: 'put'; value: number } | { type: 'crash' };

const cache = {
  init: () => ({ entries: 3 }),
  receive(state: { entries: number }, msg: CacheMsg) {
    if (msg.type === 'crash') throw new Error('cache exploded');
    return { entries: state.entries + 1 };
  },
};

describe('consoleLogger', () => {
  it('prints a supervised crash as one line of who and why, one stack, the last messages and the state', async () => {
    printed = [];
    const system = new ActorSystem();
    const CACHE = key<CacheMsg>('cache');
    await system.start(
      supervisor({ maxRestarts: 1, withinMs: 5_000, children: [{ id: 'cache', behavior: cache, name: CACHE }] }),
      { label: 'app' },
    );
    system.whereis(CACHE)?.send({ type: 'put', value: 1 });
    system.whereis(CACHE)?.send({ type: 'crash' });
    await settle(system);
    assert.equal(printed.length, 1);
    const lines = (printed[0] as string).split('\n');
    assert.equal(
      lines[0],
      "[troupe] 'cache' (child 'cache', Ref<2 cache>) of Ref<1 app> crashed: Error: cache exploded (restarts so far: 0)",
    );
    assert.match(lines[1] ?? '', /^ {4}at /, 'the stack follows at once');
    assert.equal((printed[0] as string).split('cache exploded').length - 1, 1, 'the error text appears once');
    assert.deepEqual(lines.slice(-4), [
      '  last messages, oldest first:',
      "    { type: 'put', value: 1 }",
      "    { type: 'crash' }",
      '  state: { entries: 4 }',
    ]);
    // The second crash is one more report, then one line for the limit: no second stack for it.
    printed = [];
    system.whereis(CACHE)?.send({ type: 'crash' });
    await settle(system);
    assert.equal(printed.length, 2);
    assert.equal(
      printed[1],
      "[troupe] supervisor Ref<1 app> reached its restart intensity (1 in 5000 ms) on child 'cache'; shutting down",
    );
    await system.shutdown();
  });

  it('names a dynamic child by its ref and its args, not by a bare number', async () => {
    printed = [];
    const system = new ActorSystem();
    const rooms = await system.start(
      dynamicSupervisor({
        child: {
          behavior: {
            init: (_ctx: unknown, args: { room: string }) => args.room,
            receive() {
              throw new Error('room exploded');
            },
          },
        },
      }),
      { label: 'rooms' },
    );
    const r = await startChild(rooms, { room: 'lobby' });
    assert.ok(r.ok);
    r.ref.send('boom' as never);
    await settle(system);
    assert.equal(
      (printed[0] as string).split('\n')[0],
      `[troupe] ${String(r.ref)} (args { room: 'lobby' }) of Ref<1 rooms> crashed: Error: room exploded (restarts so far: 0)`,
    );
    await system.shutdown();
  });

  it('prints an unsupervised crash with the phase and the message it crashed on', async () => {
    printed = [];
    const system = new ActorSystem();
    const parser = system.spawn(
      (m: string) => {
        throw new Error(`cannot parse ${m}`);
      },
      { label: 'parser' },
    );
    parser.send('input');
    await settle(system);
    const lines = (printed[0] as string).split('\n');
    assert.equal(lines[0], '[troupe] Ref<1 parser> crashed in receive: Error: cannot parse input');
    assert.match(lines[1] ?? '', /^ {4}at /);
    assert.equal(lines.at(-1), "  message: 'input'");
    await system.shutdown();
  });
});
