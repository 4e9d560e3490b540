import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ActorSystem,
  dynamicSupervisor,
  key,
  type Ref,
  type Reply,
  restartChild,
  silentLogger,
  startChild,
  supervisor,
  terminateChild,
  whichChildren,
} from 'troupe';
import { settle } from 'troupe/testing';

type CacheMsg = { type: 'put'; value: string } | { type: 'get'; reply: Reply<string | undefined> } | { type: 'crash' };
const CACHE = key<CacheMsg>('cache');

const cache = {
  init: () => undefined as string | undefined,
  receive(value: string | undefined, msg: CacheMsg) {
    switch (msg.type) {
      case 'put':
        return msg.value;
      case 'get':
        msg.reply(value);
        return value;
      case 'crash':
        throw new Error('crash');
    }
  },
};

type ApiMsg = { type: 'read'; reply: Reply<string | undefined> };
const API = key<ApiMsg>('api');

/** A sibling that finds the cache by name at every request, never by a ref smuggled in. */
const api = {
  receive(_s: undefined, msg: ApiMsg, ctx: { system: ActorSystem }) {
    const c = ctx.system.whereis(CACHE);
    if (c === undefined) msg.reply('no cache');
    else void c.call({ type: 'get' }).then(msg.reply);
  },
};

describe('child names', () => {
  it('registers a child under its name, which lasts across restarts in place and is found by its siblings', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    await system.start(
      supervisor({
        children: [
          { id: 'cache', behavior: cache, name: CACHE, keepMailbox: true },
          { id: 'api', behavior: api, name: API },
        ],
      }),
    );
    const first = system.whereis(CACHE);
    assert.ok(first !== undefined);
    first.send({ type: 'put', value: 'v1' });
    const apiRef = system.whereis(API);
    assert.equal(await apiRef?.call({ type: 'read' }), 'v1');
    first.send({ type: 'crash' });
    await settle(system);
    assert.equal(system.whereis(CACHE), first, 'the same ref, still registered, after the restart');
    assert.equal(await apiRef?.call({ type: 'read' }), undefined, 'the new incarnation starts empty');
    await system.shutdown();
  });

  it('removes the name when the child stops for good, and registers the new ref when it is started again', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const sup = await system.start(supervisor({ children: [{ id: 'cache', behavior: cache, name: CACHE }] }));
    const before = system.whereis(CACHE);
    assert.deepEqual(await terminateChild(sup, 'cache'), { ok: true });
    assert.equal(system.whereis(CACHE), undefined);
    const r = await restartChild(sup, 'cache');
    assert.ok(r.ok);
    assert.notEqual(r.ref, before);
    assert.equal(system.whereis(CACHE), r.ref);
    await system.shutdown();
  });

  it('takes no stale exit notice for the next cell: a child restarted behind its own notice runs, and its name goes with it', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const stopper = {
      init: () => 0,
      receive(n: number, msg: 'stop', ctx: { stop(): void }) {
        if (msg === 'stop') ctx.stop();
        return n;
      },
    };
    const sup = await system.start(
      supervisor({ children: [{ id: 'w', behavior: stopper, name: 'svc', restart: 'transient' }] }),
    );
    const first = system.whereis('svc') as Ref<'stop'>;
    // The child stops itself before the supervisor's turn: the notice of its end queues behind
    // the terminate and the restart already in the supervisor's mailbox.
    first.send('stop');
    const t = terminateChild(sup, 'w');
    const r = restartChild(sup, 'w');
    assert.equal((await t).ok, true);
    const again = await r;
    await settle(system);
    assert.ok(again.ok);
    const second = system.whereis('svc');
    assert.equal(second, again.ref);
    assert.notEqual(second, first);
    const [row] = await whichChildren(sup);
    assert.deepEqual({ status: row?.status, ref: row?.ref }, { status: 'running', ref: second });
    // It is the running child: a restartChild is refused, and its end frees the name.
    assert.deepEqual(await restartChild(sup, 'w'), { ok: false, reason: 'running' });
    await system.stop(second as Ref<never>);
    await settle(system);
    const holder = system.whereis('svc');
    assert.ok(holder === undefined || holder.alive, `'svc' still names the dead ${String(holder)}`);
    await system.shutdown();
  });

  it("answers startChild with already_started and the holder when the child's name is taken", async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const holder = system.spawn(() => {}, { name: 'taken' });
    const sup = await system.start(supervisor({ children: [] }));
    const r = await startChild(sup, { id: 'w', behavior: () => {}, name: 'taken' });
    assert.deepEqual(r, { ok: false, reason: 'already_started', ref: holder });
    assert.deepEqual(await whichChildren(sup), [], 'nothing is left of the failed start');
    await system.shutdown();
  });

  it('leaves no spec behind when startChild fails, so a second startChild tries again (as OTP)', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    let attempts = 0;
    const flaky = {
      init: () => {
        if (++attempts === 1) throw new Error('not yet');
        return 0;
      },
      receive: () => {},
    };
    const sup = await system.start(supervisor({ children: [] }));
    const first = await startChild(sup, { id: 'flaky', behavior: flaky });
    assert.equal(first.ok, false);
    assert.equal(first.ok === false && first.reason, 'init_failed');
    assert.deepEqual(await whichChildren(sup), []);
    const second = await startChild(sup, { id: 'flaky', behavior: flaky });
    assert.equal(second.ok, true, 'tried again, not already_present');
    assert.equal(attempts, 2);
    await system.shutdown();
  });

  it('refuses a name in a dynamic supervisor’s template, which every child would share', () => {
    assert.throws(
      () => dynamicSupervisor({ child: { behavior: cache, name: 'cache' } as never }),
      /the child template takes no id .*no name/,
    );
  });

  it('refuses a name that is no name, saying what is accepted', () => {
    assert.throws(
      () => supervisor({ children: [{ id: 'w', behavior: cache, name: 42 as never }] }),
      /name must be a string, a key<M>\(\.\.\.\), a structured key such as \['user', 42\], or \{ via, key \}; got 42/,
    );
  });
});
