import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ActorSystem,
  type Behavior,
  countChildren,
  dynamicSupervisor,
  silentLogger,
  spawnChild,
  startChild,
} from 'troupe';
import { settle } from 'troupe/testing';

test('maxChildren holds when startChild (async init) and spawnChild interleave', async () => {
  const system = new ActorSystem({ logger: silentLogger });
  let gate!: () => void;
  const worker: Behavior<string, number, number> = {
    init: (_c, n) =>
      n === 1
        ? new Promise<number>((r) => {
            gate = () => r(0);
          })
        : 0,
    receive: (s) => s,
  };
  const sup = await system.start(dynamicSupervisor({ child: { behavior: worker }, maxChildren: 1 }));
  const first = startChild(sup, 1);
  await settle(system);
  const second = spawnChild(sup, 2);
  gate();
  const r1 = await first;
  const counts = await countChildren(sup);
  assert.deepEqual(
    { first: r1.ok, second: second.ok, active: counts.active, actors: system.stats().actors - 1 },
    { first: true, second: false, active: 1, actors: 1 },
  );
});
