import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActorSystem, type Behavior, type Ref, silentLogger, supervisor, whichChildren } from 'troupe';
import { settle } from 'troupe/testing';

test('a supervisor child that is killed (and restarted in place) does not leave its old children running', async () => {
  const system = new ActorSystem({ logger: silentLogger });
  let workers = 0;
  const worker: Behavior<string, number> = {
    init() {
      workers++;
      return 0;
    },
    receive: (s) => s,
  };
  const inner = supervisor({ children: [{ id: 'w', behavior: worker }] });
  const outer = await system.start(supervisor({ children: [{ id: 'inner', behavior: inner }] }));
  const innerRef = (await whichChildren(outer))[0]!.ref as Ref<never>;
  const before = system.stats().actors; // outer, inner, w
  assert.equal(before, 3);
  system.kill(innerRef);
  await settle(system);
  assert.equal(workers, 2, 'inner restarted and started a fresh worker');
  assert.equal(system.stats().actors, 3, 'the worker of the killed incarnation must be gone');
});
