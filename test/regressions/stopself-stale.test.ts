import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ActorSystem,
  type Behavior,
  type Context,
  describeReason,
  type Ref,
  silentLogger,
  supervisor,
  whichChildren,
} from 'troupe';
import { settle } from 'troupe/testing';

test('a ctx.stop() of a crashed incarnation does not leak into the next one', async () => {
  const system = new ActorSystem({ logger: silentLogger });
  const reasons: string[] = [];
  const worker: Behavior<string, number> = {
    init: () => 0,
    receive(s, msg, ctx: Context<string>) {
      if (msg === 'stop-then-throw') {
        ctx.stop();
        throw new Error('oops');
      }
      return s;
    },
    terminate(_s, reason) {
      reasons.push(describeReason(reason));
    },
  };
  const sup = await system.start(supervisor({ children: [{ id: 'w', behavior: worker, restart: 'transient' }] }));
  const ref = (await whichChildren(sup))[0]!.ref as unknown as Ref<string>;
  ref.send('stop-then-throw'); // incarnation 1 crashes (Error) -> restarted
  await settle(system);
  system.exit(ref as Ref<never>, new Error('linked peer failed')); // incarnation 2 must end with this error
  await settle(system);
  const [row] = await whichChildren(sup);
  assert.deepEqual(
    { reasons, status: row!.status, restarts: row!.restarts },
    { reasons: ['Error: oops', 'Error: linked peer failed'], status: 'running', restarts: 2 },
  );
});
