import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActorSystem, type Behavior, dynamicSupervisor, silentLogger, startChild } from 'troupe';
import { settle } from 'troupe/testing';

test('killing a dynamic supervisor while a child is in its async init takes that child down too', async () => {
  const system = new ActorSystem({ logger: silentLogger });
  let gate!: () => void;
  const worker: Behavior<string, number> = {
    init: () =>
      new Promise<number>((r) => {
        gate = () => r(0);
      }),
    receive: (s) => s,
  };
  const sup = await system.start(dynamicSupervisor({ child: { behavior: worker } }));
  void startChild(sup, undefined).catch(() => {});
  await settle(system);
  assert.equal(system.stats().actors, 2); // supervisor + starting child
  system.kill(sup as never);
  await settle(system);
  gate();
  await settle(system);
  assert.equal(system.stats().actors, 0, 'no actor should outlive its killed supervisor');
});
