/**
 * `upgradeChildren` moves supervised children to new code: a static supervisor's child by id, or
 * every child of a dynamic supervisor. It changes the spec too, so later restarts, `restartChild`
 * and new dynamic children run the new code. A running child switches between two of its messages
 * (with `migrate`); a child waiting to be restarted, or stopped, switches at its next start, where
 * `init` makes its state. A child whose `migrate` throws keeps its old code and is listed in `failed`.
 * Run: `node --conditions=source --import tsx examples/snippets/upgrade-children.ts`.
 */
import {
  ActorSystem,
  type Behavior,
  dynamicSupervisor,
  key,
  type Ref,
  type Reply,
  restartChild,
  silentLogger,
  startChild,
  supervisor,
  terminateChild,
  upgradeChildren,
} from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type Msg = { type: 'crash' } | { type: 'version'; reply: Reply<string> };

// Answers with the code it runs and the state it has: `v2 (v1, started)` is v2 code on v1's state.
function versioned(v: string): Behavior<Msg, string, string | undefined> {
  return {
    init: (_ctx, name) => (name === undefined ? `${v}, started` : `${v}, started as ${name}`),
    receive(state, msg) {
      if (msg.type === 'crash') throw new Error('crash');
      msg.reply(`${v} (${state})`);
    },
  };
}
const v1 = versioned('v1');
const v2 = versioned('v2');

// Typed names: whereis(LIVE) is a Ref<Msg>; a child started again by restartChild registers again.
const LIVE = key<Msg>('live');
const DORMANT = key<Msg>('dormant');
const STOPPED = key<Msg>('stopped');

export async function main(): Promise<Record<string, unknown>> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock, logger: silentLogger });
  const out: Record<string, unknown> = {};
  const ask = (ref: Ref<Msg>) => ref.call({ type: 'version' }, { timeoutMs: Number.POSITIVE_INFINITY });

  const sup = await system.start(
    supervisor({
      children: [
        { id: 'live', behavior: v1, name: LIVE },
        { id: 'dormant', behavior: v1, name: DORMANT, backoff: { initialMs: 1_000, jitter: 0 } },
        { id: 'stopped', behavior: v1, name: STOPPED },
      ],
    }),
  );
  const live = system.whereis(LIVE);
  const dormant = system.whereis(DORMANT);
  if (live === undefined || dormant === undefined) throw new Error('not started');
  dormant.send({ type: 'crash' }); // waits 1,000 ms to restart
  await terminateChild(sup, 'stopped');
  await settle(system);

  out.live = await upgradeChildren(sup, { id: 'live', behavior: v2, migrate: (s: string) => `${s}, migrated` });
  out.dormant = await upgradeChildren(sup, { id: 'dormant', behavior: v2 });
  out.stopped = await upgradeChildren(sup, { id: 'stopped', behavior: v2 }); // only the spec changes
  out.liveNow = await ask(live); // 'v2 (v1, started, migrated)'
  clock.advance(1_000);
  out.dormantNow = await ask(dormant); // 'v2 (v2, started)': restarted on the new code
  live.send({ type: 'crash' });
  out.liveRestarted = await ask(live); // 'v2 (v2, started)': the spec changed too
  const again = await restartChild(sup, 'stopped');
  if (!again.ok) throw new Error(again.reason);
  const stopped = system.whereis(STOPPED); // registered again by its new start
  out.stoppedRestarted = stopped && (await ask(stopped)); // 'v2 (v2, started)'

  // A dynamic supervisor: every child at once, then every new child.
  const rooms = await system.start(dynamicSupervisor({ child: { behavior: v1 } }));
  const refs: Ref<Msg>[] = [];
  for (const name of ['a', 'b', 'stubborn']) {
    const r = await startChild(rooms, name);
    if (r.ok) refs.push(r.ref);
  }
  const result = await upgradeChildren(rooms, {
    behavior: v2,
    migrate: (s: string) => {
      if (s.endsWith('stubborn')) throw new Error('cannot migrate');
      return `${s}, migrated`;
    },
  });
  out.dynamic = {
    ok: result.ok, // false: one failed
    upgraded: result.upgraded, // 2
    failed: result.failed.map((f) => `${f.ref}: ${f.error === 'dead' ? 'dead' : f.error.message}`),
  };
  out.versions = await Promise.all(refs.map(ask)); // the stubborn one still runs v1
  const fresh = await startChild(rooms, 'new');
  out.fresh = fresh.ok ? await ask(fresh.ref) : fresh.reason; // 'v2 (v2, started as new)'

  await system.shutdown();
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
