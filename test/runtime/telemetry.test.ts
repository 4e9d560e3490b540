/**
 * Telemetry events for dashboards: every settled `call` with its latency and outcome, and a
 * mailbox growing past 1,024 messages (then at each doubling). With no subscriber none is built.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActorSystem, type Reply, type SystemEvent, silentLogger } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type Msg =
  | { type: 'get'; reply: Reply<number> }
  | { type: 'ignore'; reply: Reply<number> }
  | { type: 'crash'; reply: Reply<number> };

describe('telemetry events', () => {
  it('reports each settled call with its latency on the system clock and how it ended', async () => {
    const clock = new SimulatedClock();
    const system = new ActorSystem({ clock, logger: silentLogger });
    const calls: Array<Extract<SystemEvent, { type: 'call' }>> = [];
    system.subscribe((e) => {
      if (e.type === 'call') calls.push(e);
    });
    let held: Reply<number> | undefined;
    const server = system.spawn((m: Msg) => {
      if (m.type === 'get') held = m.reply;
      else if (m.type === 'crash') throw new Error('crash');
    });
    const answered = server.call({ type: 'get' });
    await settle(system);
    clock.advance(30);
    held?.(7);
    assert.equal(await answered, 7);
    const ignored = assert.rejects(server.call({ type: 'ignore' }, { timeoutMs: 100 }));
    await settle(system);
    clock.advance(100);
    await ignored;
    const crashed = assert.rejects(server.call({ type: 'crash' }));
    await settle(system);
    await crashed;
    assert.deepEqual(
      calls.map(({ ref, requestType, ms, outcome }) => ({ ref, requestType, ms, outcome })),
      [
        { ref: server, requestType: 'get', ms: 30, outcome: 'replied' },
        { ref: server, requestType: 'ignore', ms: 100, outcome: 'timeout' },
        { ref: server, requestType: 'crash', ms: 0, outcome: 'exited' },
      ],
    );
    await system.shutdown();
  });

  it('reports a call to a dead actor, and a call an actor makes to itself, as calls of no duration', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const outcomes: string[] = [];
    system.subscribe((e) => {
      if (e.type === 'call') outcomes.push(`${e.requestType} ${e.outcome} ${e.ms}`);
    });
    const dead = system.spawn((_m: Msg) => {});
    system.kill(dead);
    await assert.rejects(dead.call({ type: 'get' }));
    const selfish = system.spawn((m: Msg, ctx) => {
      if (m.type === 'get') void ctx.self.call({ type: 'ignore' }).catch(() => {});
    });
    selfish.send({ type: 'get', reply: () => {} });
    await settle(system);
    assert.deepEqual(outcomes, ['get exited 0', 'ignore refused 0']);
    await system.shutdown();
  });

  it('reports a mailbox that reaches 1,024 messages, and each doubling after, once each', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const depths: number[] = [];
    system.subscribe((e) => {
      if (e.type === 'mailbox_depth') depths.push(e.depth);
    });
    const sink = system.spawn((_m: number) => {});
    for (let i = 0; i < 5_000; i++) sink.send(i);
    assert.deepEqual(depths, [1_024, 2_048, 4_096]);
    await settle(system);
    await system.shutdown();
  });

  it('reports each written crash report with the messages it shows, supervised or not', async () => {
    const system = new ActorSystem({ clock: new SimulatedClock(), logger: silentLogger });
    const reports: Array<[string, readonly unknown[]]> = [];
    system.subscribe((e) => {
      if (e.type === 'crash_report') reports.push([String(e.ref), e.messages]);
    });
    const lone = system.spawn(
      (msg: { n: number }) => {
        if (msg.n === 2) throw new Error('two');
      },
      { label: 'lone' },
    );
    lone.send({ n: 1 });
    lone.send({ n: 2 });
    await settle(system);
    assert.deepEqual(reports, [[String(lone), [{ n: 2 }]]], 'without a supervisor: the message that crashed it');
    await system.shutdown();
  });

  it('reports nothing, and times no call, while nobody subscribes', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const server = system.spawn((m: { type: 'get'; reply: Reply<number> }) => m.reply(1));
    const answer = server.call({ type: 'get' });
    const events: string[] = [];
    const unsubscribe = system.subscribe((e) => events.push(e.type));
    assert.equal(await answer, 1);
    unsubscribe();
    assert.deepEqual(events, [], 'a call made before the subscription was not timed, so it reports nothing');
    await system.shutdown();
  });
});
