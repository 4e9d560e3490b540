import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActorSystem, silentLogger } from 'troupe';
import { settle } from 'troupe/testing';

test('an exit signal queued behind a polite stop still does not wait for a pending async handler', async () => {
  const system = new ActorSystem({ logger: silentLogger });
  // Handler that never settles (e.g. a hung I/O call).
  const ref = system.spawn((_m: string) => new Promise<void>(() => {}));
  ref.send('go');
  await settle(system);
  void system.stop(ref); // polite: waits for the handler (documented)
  system.exit(ref, { shutdown: 'now' } as never); // exit signal: documented not to wait
  await settle(system);
  assert.equal(ref.alive, false, 'exit signal should end the actor even though a stop is pending');
});

test('control: exit signal alone does not wait', async () => {
  const system = new ActorSystem({ logger: silentLogger });
  const ref = system.spawn((_m: string) => new Promise<void>(() => {}));
  ref.send('go');
  await settle(system);
  system.exit(ref, { shutdown: 'now' } as never);
  await settle(system);
  assert.equal(ref.alive, false);
});

test('same hole via ctx.stop() inside an async handler: a later exit signal waits for the handler', async () => {
  const system = new ActorSystem({ logger: silentLogger });
  const ref = system.spawn((_m: string, ctx) => {
    ctx.stop(); // stop after this message (normal)
    return new Promise<void>(() => {}); // ...but the handler hangs
  });
  ref.send('go');
  await settle(system);
  system.exit(ref, { shutdown: 'now' } as never);
  await settle(system);
  assert.equal(ref.alive, false, 'exit signal should end the actor');
});
