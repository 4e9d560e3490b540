/**
 * OTP's restart policy, as a table of restart type x exit reason, measured on a real supervisor:
 * each cell starts a child with that restart type, makes it exit with that reason, and looks at
 * whether its ref is still alive (restarted in place) afterwards. `shouldRestart(restart, reason)`
 * is the rule the supervisor applies, exported for tools and tests.
 * Run: `node --conditions=source --import tsx examples/snippets/restart-matrix.ts`.
 */
import {
  ActorSystem,
  type Behavior,
  type ExitReason,
  key,
  type RestartType,
  shouldRestart,
  silentLogger,
  supervisor,
} from 'troupe';
import { settle } from 'troupe/testing';

const REASONS: Record<string, ExitReason | 'throw' | 'kill'> = {
  normal: 'normal',
  shutdown: 'shutdown',
  '{ shutdown }': { shutdown: 'detail' },
  killed: 'kill', // system.kill(ref)
  noproc: 'noproc',
  Error: 'throw', // the handler throws
};

// Exits with the reason it is sent.
const exitAs: Behavior<ExitReason | 'throw'> = {
  init: () => undefined,
  receive(_state, reason, ctx) {
    if (reason === 'throw') throw new Error('boom');
    ctx.stop(reason);
  },
};

const CHILD = key<ExitReason | 'throw'>('c');

async function restarted(restart: RestartType, how: ExitReason | 'throw' | 'kill'): Promise<boolean> {
  const system = new ActorSystem({ logger: silentLogger });
  await system.start(supervisor({ children: [{ id: 'c', behavior: exitAs, restart, name: CHILD }] }));
  const child = system.whereis(CHILD);
  if (child === undefined) throw new Error('c is not registered');
  if (how === 'kill') system.kill(child);
  else child.send(how);
  await settle(system);
  const alive = child.alive;
  await system.shutdown();
  return alive;
}

export async function main(): Promise<{ table: Record<string, Record<string, string>>; agrees: boolean }> {
  const table: Record<string, Record<string, string>> = {};
  let agrees = true;
  for (const restart of ['permanent', 'transient', 'temporary'] as const) {
    const row: Record<string, string> = {};
    for (const [name, how] of Object.entries(REASONS)) {
      const yes = await restarted(restart, how);
      row[name] = yes ? 'restarted' : '-';
      const reason: ExitReason = how === 'kill' ? 'killed' : how === 'throw' ? new Error('boom') : how;
      if (yes !== shouldRestart(restart, reason)) agrees = false;
    }
    table[restart] = row;
  }
  return { table, agrees };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
