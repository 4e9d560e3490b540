/**
 * `system.upgrade(ref, behavior, { migrate })` with a change of state: `migrate(oldState)` makes the
 * new state. Without `migrate` the state is kept as it is; a class actor upgraded to another class
 * becomes a new instance with the old instance's fields copied onto it. A `migrate` that throws
 * leaves the old code running and the result says why; an actor that is dead answers `dead`.
 * Run: `node --conditions=source --import tsx examples/snippets/upgrade-migrate.ts`.
 */
import { Actor, ActorSystem, type Behavior, type Reply, silentLogger } from 'troupe';

type CounterMsg = { type: 'inc' } | { type: 'get'; reply: Reply<string> };

const v1: Behavior<CounterMsg, number> = {
  init: () => 0,
  receive(count, msg) {
    if (msg.type === 'inc') return count + 1;
    msg.reply(`v1: ${count}`);
    return count;
  },
};

// v2 keeps its count in an object, with a step.
type V2State = { count: number; step: number };
const v2: Behavior<CounterMsg, V2State> = {
  init: () => ({ count: 0, step: 1 }),
  receive(s, msg) {
    if (msg.type === 'inc') return { ...s, count: s.count + s.step };
    msg.reply(`v2: ${s.count} by ${s.step}`);
    return s;
  },
};

class Tally extends Actor<CounterMsg> {
  count = 0;
  receive(msg: CounterMsg) {
    if (msg.type === 'inc') this.count++;
    else msg.reply(`Tally: ${this.count}`);
  }
}

class TallyWithHistory extends Actor<CounterMsg> {
  count = 0; // overwritten by the old instance's count
  history: number[] = []; // a new field: keeps its initialiser
  receive(msg: CounterMsg) {
    if (msg.type === 'inc') this.history.push(++this.count);
    else msg.reply(`TallyWithHistory: ${this.count} after [${this.history.join()}]`);
  }
}

export async function main(): Promise<Record<string, unknown>> {
  const system = new ActorSystem({ logger: silentLogger }); // a failed migrate is logged too
  const out: Record<string, unknown> = {};

  const counter = system.spawn(v1);
  counter.send({ type: 'inc' });
  counter.send({ type: 'inc' });
  out.migrated = await system.upgrade(counter, v2, { migrate: (count: number): V2State => ({ count, step: 10 }) });
  counter.send({ type: 'inc' });
  out.afterMigrate = await counter.call({ type: 'get' }); // 'v2: 12 by 10'

  const failed = await system.upgrade(counter, v1, {
    migrate: () => {
      throw new Error('no way back');
    },
  });
  out.failed = failed.ok ? 'ok' : `${failed.reason}: ${failed.reason === 'migrate_failed' ? failed.error.message : ''}`;
  out.afterFailure = await counter.call({ type: 'get' }); // still v2

  const tally = system.spawn(Tally);
  tally.send({ type: 'inc' });
  await system.upgrade(tally, TallyWithHistory); // fields copied: count stays 1
  tally.send({ type: 'inc' });
  out.classes = await tally.call({ type: 'get' }); // 'TallyWithHistory: 2 after [2]'

  system.kill(counter);
  out.dead = await system.upgrade(counter, v1); // { ok: false, reason: 'dead' }

  try {
    await system.upgrade(tally, { recieve() {} }); // misuse throws at once, before anything is queued
  } catch (e) {
    out.misuse = (e as Error).message;
  }

  await system.shutdown();
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
