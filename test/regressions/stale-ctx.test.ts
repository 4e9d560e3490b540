import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActorSystem, type Behavior, type Context, type Ref, silentLogger, supervisor, whichChildren } from 'troupe';
import { settle } from 'troupe/testing';

test('a late continuation of a dead incarnation cannot stop the restarted incarnation', async () => {
  const system = new ActorSystem({ logger: silentLogger });
  let gate!: () => void;
  let inits = 0;
  const worker: Behavior<string, number> = {
    init() {
      inits++;
      return 0;
    },
    receive(s, msg, ctx: Context<string>) {
      if (msg === 'slow') {
        return new Promise<void>((r) => {
          gate = r;
        }).then(() => {
          ctx.stop();
          return s;
        });
      }
      return s;
    },
  };
  const sup = await system.start(supervisor({ children: [{ id: 'w', behavior: worker, restart: 'transient' }] }));
  const ref = (await whichChildren(sup))[0]!.ref as unknown as Ref<string>;
  ref.send('slow');
  await settle(system);
  system.exit(ref as Ref<never>, new Error('linked peer died')); // incarnation 1 ends, supervisor restarts it
  await settle(system);
  assert.equal(inits, 2, 'restarted');
  gate(); // incarnation 1's handler resumes and calls its ctx.stop()
  await settle(system);
  const [row] = await whichChildren(sup);
  assert.deepEqual({ alive: ref.alive, status: row?.status }, { alive: true, status: 'running' });
});
