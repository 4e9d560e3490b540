/**
 * Links tie two actors' fates together, both ways. When one exits with any reason but `normal`,
 * the other dies with the same reason, unless it traps exits: then the signal arrives as an `EXIT`
 * message in its `info` handler instead. A `normal` exit kills no one; a trapping actor still hears
 * of it. Linking to an actor that is already dead delivers `noproc`.
 * Run: `node --conditions=source --import tsx examples/snippets/links-and-trapping.ts`.
 */
import { ActorSystem, type Behavior, describeReason, type Ref, type Reply, silentLogger } from 'troupe';
import { settle } from 'troupe/testing';

type WorkerMsg = { type: 'work'; n: number };

function worker(msg: WorkerMsg): void {
  if (msg.n < 0) throw new Error(`negative input ${msg.n}`);
}

type BossMsg =
  | { type: 'hire'; name: string; reply: Reply<Ref<WorkerMsg>> }
  | { type: 'link'; to: Ref<never> }
  | { type: 'log'; reply: Reply<string[]> };

// Traps exits: a linked worker's death is news, not a death sentence.
const boss: Behavior<BossMsg, string[]> = {
  init(ctx) {
    ctx.trapExit(); // or spawn with { trapExit: true }
    return [];
  },
  receive(log, msg, ctx) {
    switch (msg.type) {
      case 'hire':
        msg.reply(ctx.spawn(worker, { link: true, label: msg.name })); // spawn and link in one step
        return;
      case 'link':
        ctx.link(msg.to);
        return;
      case 'log':
        msg.reply([...log]);
        return;
    }
  },
  info(log, msg) {
    if (msg.type === 'EXIT') log.push(`EXIT from ${msg.from}: ${describeReason(msg.reason)}`);
  },
};

const buddyLog: string[] = [];

// Does not trap exits: it goes down with whatever it is linked to.
const buddy: Behavior<{ type: 'link'; to: Ref<never> }> = {
  receive(_state, msg, ctx) {
    ctx.link(msg.to);
  },
  terminate(_state, reason) {
    buddyLog.push(`buddy terminates: ${describeReason(reason)}`);
  },
};

export async function main(): Promise<{ boss: string[]; buddy: string[]; bossAlive: boolean }> {
  buddyLog.length = 0;
  const system = new ActorSystem({ logger: silentLogger });
  const chief = system.spawn(boss);
  const steady = await chief.call({ type: 'hire', name: 'steady' });
  const fragile = await chief.call({ type: 'hire', name: 'fragile' });
  const pal = system.spawn(buddy);
  pal.send({ type: 'link', to: fragile });
  await settle(system);

  fragile.send({ type: 'work', n: -1 }); // crashes: the boss gets EXIT, the buddy dies too
  await settle(system);
  await system.stop(steady); // a normal exit: the boss gets EXIT normal
  chief.send({ type: 'link', to: fragile }); // fragile is dead: EXIT noproc
  await settle(system);

  const log = await chief.call({ type: 'log' });
  const bossAlive = chief.alive;
  await system.shutdown();
  return { boss: log, buddy: [...buddyLog], bossAlive };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
