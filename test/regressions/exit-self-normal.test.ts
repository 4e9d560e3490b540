import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActorSystem, type Context, type Ref, silentLogger } from 'troupe';
import { settle } from 'troupe/testing';

test('OTP: exit(self(), normal) in a process that does not trap exits makes it exit with normal', async () => {
  const system = new ActorSystem({ logger: silentLogger });
  const ref = system.spawn((_m: string, ctx: Context<string>) => ctx.exit(ctx.self as Ref<never>, 'normal'));
  const exited = system.exited(ref as Ref<never>);
  ref.send('go');
  await settle(system);
  assert.equal(ref.alive, false);
  assert.equal(await exited, 'normal');
});
