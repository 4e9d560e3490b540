/**
 * `@troupe/uws/metrics`: the system's events as prom-client metrics, read back from the registry's
 * Prometheus text. Simulated time, so latencies and counts are exact.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actorMetrics, OTHER_LABEL } from '@troupe/uws/metrics';
import { Registry } from 'prom-client';
import { ActorSystem, type Behavior, type Ref, type Reply, silentLogger, supervisor, whichChildren } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type Msg =
  | { type: 'get'; reply: Reply<number> }
  | { type: 'hold'; reply: Reply<number> }
  | { type: 'ignore'; reply: Reply<number> }
  | { type: 'crash'; reply: Reply<number> };

type WorkerMsg = { type: 'throw' } | { type: 'ping'; reply: Reply<'pong'> };
const worker: Behavior<WorkerMsg, null> = {
  init: () => null,
  receive(state, msg) {
    if (msg.type === 'throw') throw new Error('poison');
    msg.reply('pong');
    return state;
  },
};

/** The value of the sample `name{labels}` in Prometheus text (labels in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).sort().join();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]);
    if (got.sort().join() === want) return Number(m[3]);
  }
  return undefined;
}

/** The label sets of `name`'s samples. */
function labelsOf(text: string, name: string): Array<Record<string, string>> {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .map((l) => Object.fromEntries([...l.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])));
}

function setup() {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock, logger: silentLogger });
  const registry = new Registry();
  const metrics = actorMetrics(system, { registry });
  return { clock, system, registry, metrics };
}

describe('actorMetrics', () => {
  it('times every settled call in seconds of the system clock, by outcome and request type', async () => {
    const { clock, system, registry, metrics } = setup();
    let held: Reply<number> | undefined;
    const server = system.spawn((m: Msg) => {
      if (m.type === 'get') m.reply(1);
      else if (m.type === 'hold') held = m.reply;
      else if (m.type === 'crash') throw new Error('crash');
    });
    assert.equal(await server.call({ type: 'get' }), 1);
    const answered = server.call({ type: 'hold' });
    await settle(system);
    clock.advance(30);
    held?.(2);
    assert.equal(await answered, 2);
    const ignored = assert.rejects(server.call({ type: 'ignore' }, { timeoutMs: 100 }));
    await settle(system);
    clock.advance(100);
    await ignored;
    const late = assert.rejects(server.call({ type: 'ignore' }, { timeoutMs: 250 }));
    await settle(system);
    clock.advance(250);
    await late;
    await assert.rejects(server.call({ type: 'crash' }), /crash/);

    const text = await registry.metrics();
    const h = 'troupe_call_duration_seconds';
    assert.match(text, new RegExp(`^# TYPE ${h} histogram$`, 'm'));
    const get = { outcome: 'replied', request_type: 'get' };
    const hold = { outcome: 'replied', request_type: 'hold' };
    const timeout = { outcome: 'timeout', request_type: 'ignore' };
    assert.equal(sample(text, `${h}_count`, get), 1);
    assert.equal(sample(text, `${h}_sum`, get), 0);
    assert.equal(sample(text, `${h}_count`, hold), 1);
    assert.equal(sample(text, `${h}_sum`, hold), 0.03);
    assert.equal(sample(text, `${h}_bucket`, { ...hold, le: '0.025' }), 0);
    assert.equal(sample(text, `${h}_bucket`, { ...hold, le: '0.05' }), 1);
    assert.equal(sample(text, `${h}_count`, timeout), 2);
    assert.equal(sample(text, `${h}_sum`, timeout), 0.35);
    assert.equal(sample(text, `${h}_bucket`, { ...timeout, le: '0.1' }), 1);
    assert.equal(sample(text, `${h}_bucket`, { ...timeout, le: '0.25' }), 2);
    assert.equal(sample(text, `${h}_bucket`, { ...timeout, le: '+Inf' }), 2);
    assert.equal(sample(text, `${h}_count`, { outcome: 'exited', request_type: 'crash' }), 1);
    assert.equal(labelsOf(text, `${h}_count`).length, 4, 'no other series');
    metrics.close();
    await system.shutdown();
  });

  it(`keeps at most maxLabelValues request types (default 50) and counts the rest as '${OTHER_LABEL}'`, async () => {
    const { system, registry, metrics } = setup();
    const echo = system.spawn((m: { type: string; reply: Reply<number> }) => m.reply(0));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 55; i++) await echo.call({ type: `t${i}` });
    }
    await echo.call({} as never); // no string type
    const text = await registry.metrics();
    const name = 'troupe_call_duration_seconds_count';
    const types = labelsOf(text, name).map((l) => l.request_type);
    assert.equal(types.length, 51);
    assert.deepEqual(
      types.slice(0, 50),
      [...Array(50).keys()].map((i) => `t${i}`),
    );
    assert.equal(sample(text, name, { outcome: 'replied', request_type: 't49' }), 2);
    assert.equal(sample(text, name, { outcome: 'replied', request_type: OTHER_LABEL }), 11, 't50..t54 twice, and none');
    metrics.close();

    const small = new Registry();
    const three = actorMetrics(system, { registry: small, maxLabelValues: 3 });
    for (const type of ['a', 'b', 'a', 'c', 'd', 'e', 'b']) await echo.call({ type });
    const smallText = await small.metrics();
    assert.deepEqual(
      labelsOf(smallText, name).map((l) => l.request_type),
      ['a', 'b', 'c', OTHER_LABEL],
    );
    assert.equal(sample(smallText, name, { outcome: 'replied', request_type: 'a' }), 2);
    assert.equal(sample(smallText, name, { outcome: 'replied', request_type: OTHER_LABEL }), 2);
    three.close();
    await system.shutdown();
  });

  it('counts crashes, restarts, dead letters by reason and supervisors whose intensity was exceeded', async () => {
    const { system, registry, metrics } = setup();
    const tree = await system.start(
      supervisor({ strategy: 'one_for_one', children: [{ id: 'worker', behavior: worker }] }),
    );
    const fragile = await system.start(
      supervisor({ strategy: 'one_for_one', maxRestarts: 0, children: [{ id: 'worker', behavior: worker }] }),
    );
    const child = async (sup: typeof tree) => (await whichChildren(sup))[0]?.ref as unknown as Ref<WorkerMsg>;
    const w = await child(tree);
    w.send({ type: 'throw' });
    await settle(system);
    w.send({ type: 'throw' });
    await settle(system);
    assert.equal(await w.call({ type: 'ping' }), 'pong', 'restarted in place');
    const doomed = await child(fragile);
    doomed.send({ type: 'throw' });
    await settle(system);
    doomed.send({ type: 'throw' }); // its supervisor gave up: nobody restarted it
    const text = await registry.metrics();
    assert.equal(sample(text, 'troupe_actor_crashes_total'), 3);
    assert.equal(sample(text, 'troupe_actor_restarts_total'), 2);
    assert.equal(sample(text, 'troupe_supervisor_intensity_exceeded_total'), 1);
    assert.equal(sample(text, 'troupe_dead_letters_total', { reason: 'crashed' }), 3, 'each crashing message');
    assert.equal(sample(text, 'troupe_dead_letters_total', { reason: 'dead' }), 1);
    assert.deepEqual(
      labelsOf(text, 'troupe_dead_letters_total').map((l) => l.reason),
      ['crashed', 'dead'],
    );
    // Read at each scrape, cumulative across scrapes: not counted twice, not reset.
    w.send({ type: 'throw' });
    await settle(system);
    const again = await registry.metrics();
    assert.equal(sample(again, 'troupe_actor_crashes_total'), 4);
    assert.equal(sample(again, 'troupe_actor_restarts_total'), 3);
    assert.equal(sample(again, 'troupe_dead_letters_total', { reason: 'crashed' }), 4);
    assert.equal(sample(again, 'troupe_dead_letters_total', { reason: 'dead' }), 1);
    metrics.close();
    await system.shutdown();
  });

  it('reports the deepest mailbox since the last scrape and counts each depth event', async () => {
    const { system, registry, metrics } = setup();
    const sink = system.spawn((_m: number) => {});
    for (let i = 0; i < 5_000; i++) sink.send(i);
    const first = await registry.metrics();
    assert.equal(sample(first, 'troupe_mailbox_depth_events_total'), 3, '1024, 2048, 4096');
    assert.equal(sample(first, 'troupe_mailbox_depth_high_water'), 4_096);
    await settle(system);
    const second = await registry.metrics();
    assert.equal(sample(second, 'troupe_mailbox_depth_high_water'), 0, 'reset by the scrape');
    assert.equal(sample(second, 'troupe_mailbox_depth_events_total'), 3);
    for (let i = 0; i < 1_500; i++) sink.send(i);
    const third = await registry.metrics();
    assert.equal(sample(third, 'troupe_mailbox_depth_high_water'), 1_024);
    assert.equal(sample(third, 'troupe_mailbox_depth_events_total'), 4);
    metrics.close();
    await settle(system);
    await system.shutdown();
  });

  it('reads live actors, the run queue and the backlog at scrape time', async () => {
    const { system, registry, metrics } = setup();
    const sinks = [0, 1, 2].map(() => system.spawn((_m: number) => {}));
    for (const s of sinks) s.send(1);
    const busy = await registry.metrics(); // the gauges are collected before the scheduler runs
    assert.equal(sample(busy, 'troupe_actors'), 3);
    assert.equal(sample(busy, 'troupe_run_queue_length'), 3);
    await settle(system);
    await system.stop(sinks[0] as (typeof sinks)[number]);
    const idle = await registry.metrics();
    assert.equal(sample(idle, 'troupe_actors'), 2);
    assert.equal(sample(idle, 'troupe_run_queue_length'), 0);
    assert.equal(sample(idle, 'troupe_scheduler_backlog_seconds'), 0);
    assert.equal(typeof sample(idle, 'troupe_scheduler_turns_total'), 'number');
    assert.equal(typeof sample(idle, 'troupe_scheduler_yields_total'), 'number');
    metrics.close();
    await system.shutdown();
  });

  it('close() stops counting and removes its metrics from the registry, and can be called twice', async () => {
    const { system, registry, metrics } = setup();
    const mine = registry.getMetricsAsArray().map((m) => m.name);
    assert.equal(mine.length, 12);
    assert.ok(mine.every((n) => n.startsWith('troupe_')));
    metrics.close();
    metrics.close();
    assert.deepEqual(registry.getMetricsAsArray(), []);
    const again = actorMetrics(system, { registry, prefix: 'app_' }); // the names are free again
    assert.ok(registry.getSingleMetric('app_actor_restarts_total'));
    again.close();
    await system.shutdown();
  });

  it('refuses names already registered and bad options, saying what it accepts', async () => {
    const { system, registry, metrics } = setup();
    assert.throws(
      () => actorMetrics(system, { registry }),
      /already has troupe_call_duration_seconds, .*pass another prefix/,
    );
    assert.equal(registry.getMetricsAsArray().length, 12, 'nothing half-registered');
    assert.throws(
      () => actorMetrics(system, { registry, colour: 1 } as never),
      /unknown option 'colour'; accepted options are registry, prefix, maxLabelValues, buckets/,
    );
    assert.throws(() => actorMetrics(system, {} as never), /registry must be a prom-client Registry/);
    assert.throws(() => actorMetrics(system, { registry, prefix: 'a-b' }), /prefix must match/);
    assert.throws(
      () => actorMetrics(system, { registry, prefix: 'x_', maxLabelValues: -1 }),
      /maxLabelValues must be an integer >= 0/,
    );
    metrics.close();
    await system.shutdown();
  });
});
