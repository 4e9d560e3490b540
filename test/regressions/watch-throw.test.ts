import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActorSystem, silentLogger } from 'troupe';
import { settle } from 'troupe/testing';

test('a throwing system.watch callback does not break the exit of the watched actor', async () => {
  const system = new ActorSystem({ logger: silentLogger });
  const ref = system.spawn((_m: string) => {});
  const seen: string[] = [];
  system.watch(ref, () => {
    throw new Error('listener bug');
  });
  system.watch(ref, (r) => void seen.push(String(r)));
  const exited = system.exited(ref);
  let threw: unknown;
  try {
    system.kill(ref);
  } catch (e) {
    threw = e;
  }
  await settle(system);
  let r: unknown = 'never';
  void exited.then((v) => {
    r = v;
  });
  await settle(system);
  assert.deepEqual(
    { threw: threw === undefined ? 'no' : String(threw), seen, exited: r },
    { threw: 'no', seen: ['killed'], exited: 'killed' },
  );
});

test('a throwing watch callback when the actor crashes inside the scheduler does not escape as uncaught', async () => {
  const system = new ActorSystem({ logger: silentLogger });
  const ref = system.spawn((_m: string) => {
    throw new Error('boom');
  });
  system.watch(ref, () => {
    throw new Error('listener bug');
  });
  const uncaught: unknown[] = [];
  const h = (e: unknown) => uncaught.push(e);
  process.on('uncaughtException', h);
  ref.send('x');
  await settle(system);
  process.off('uncaughtException', h);
  assert.deepEqual(uncaught.map(String), [], 'nothing should escape to uncaughtException (would crash the process)');
});
