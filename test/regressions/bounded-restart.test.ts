import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActorSystem, type Behavior, silentLogger, supervisor } from 'troupe';
import { settle } from 'troupe/testing';

test('bounded mailbox + keepMailbox:false: after a restart empties the mailbox, sendWait waiters get in and send works', async () => {
  const system = new ActorSystem({ logger: silentLogger });
  const got: string[] = [];
  let gate!: () => void;
  const worker: Behavior<string> = {
    receive(_s, msg) {
      if (msg === 'block')
        return new Promise<void>((r) => {
          gate = r;
        }).then(() => {
          throw new Error('crash');
        });
      got.push(msg);
      return undefined;
    },
  };
  const sup = await system.start(
    supervisor({
      children: [{ id: 'w', behavior: worker, mailbox: { capacity: 1, overflow: 'drop-newest' }, keepMailbox: false }],
    }),
  );
  const [child] = await (await import('troupe')).whichChildren(sup);
  const ref = child!.ref as unknown as import('troupe').Ref<string>;
  ref.send('block');
  await settle(system); // 'block' taken, handler pending
  ref.send('queued'); // fills capacity 1
  const waiting = ref.sendWait('waiter'); // waits for room
  gate(); // crash -> restart, 'queued' dropped (keepMailbox:false)
  await settle(system);
  let w: unknown = 'still waiting';
  void waiting.then((v) => {
    w = v;
  });
  await settle(system);
  const accepted = ref.send('after');
  await settle(system);
  assert.deepEqual({ w, accepted, got }, { w: true, accepted: true, got: ['waiter', 'after'] });
});
