import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryObjects } from 'node:v8';
import { ActorSystem, type Reply, silentLogger } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';
import { TimeoutQueue } from '../../packages/troupe/src/actor/call.js';

test('call timeouts: the queue of a timeoutMs is forgotten once it is idle (no leak per distinct timeoutMs)', async () => {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ logger: silentLogger, clock });
  const echo = system.spawn((m: { type: 'get'; reply: Reply<number> }) => m.reply(1));
  const before = queryObjects(TimeoutQueue, { format: 'count' }) as number;
  // A caller passing "time left until my deadline" gives every call its own timeoutMs.
  for (let i = 0; i < 10_000; i++) await echo.call({ type: 'get' }, { timeoutMs: 5 + i / 1e6 });
  clock.advance(10); // every call answered; every timeout timer fires and finds its queue empty
  await settle(system);
  const after = queryObjects(TimeoutQueue, { format: 'count' }) as number;
  assert.ok(after - before < 100, `${after - before} TimeoutQueue objects still live after all calls settled`);
  await system.shutdown(); // keeps the system (a long-running server) reachable until here
});
