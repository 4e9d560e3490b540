import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActorSystem, type Behavior, type Context, type Ref, silentLogger, supervisor, whichChildren } from 'troupe';
import { settle } from 'troupe/testing';

const seen: string[] = [];
const worker: Behavior<string, { inc: number }> = {
  init() {
    seen.push('init');
    return { inc: seen.filter((s) => s === 'init').length };
  },
  receive(s, msg, ctx: Context<string>) {
    seen.push(s === undefined ? `${msg}:NO-STATE` : `${msg}:inc${s.inc}`);
    if (msg === 'suicide') ctx.kill();
    return s;
  },
};

async function setup() {
  seen.length = 0;
  const system = new ActorSystem({ logger: silentLogger });
  const sup = await system.start(supervisor({ children: [{ id: 'w', behavior: worker }] }));
  const ref = (await whichChildren(sup))[0]!.ref as unknown as Ref<string>;
  await settle(system);
  return { system, sup, ref };
}

test('mail queued behind an exit signal is handled by the next incarnation, not by the ended one', async () => {
  const { system, sup, ref } = await setup();
  ref.send('a');
  ref.send('b');
  system.exit(ref as Ref<never>, new Error('peer died'));
  await settle(system);
  const [row] = await whichChildren(sup);
  assert.deepEqual({ seen, restarts: row!.restarts }, { seen: ['init', 'init', 'a:inc2', 'b:inc2'], restarts: 1 });
});

test('a handler that kills its own actor: the rest of the batch waits for the next incarnation', async () => {
  const { system, sup, ref } = await setup();
  ref.send('suicide');
  ref.send('b');
  await settle(system);
  const [row] = await whichChildren(sup);
  assert.deepEqual(
    { seen, restarts: row!.restarts },
    { seen: ['init', 'suicide:inc1', 'init', 'b:inc2'], restarts: 1 },
  );
});
