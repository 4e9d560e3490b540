/**
 * How an actor exits, the reason its links and monitors see, and whether `terminate` runs:
 * it does on `stop`, on a crash and on an exit signal; it does not on `kill` or after a failed
 * `init`. `normal`, `shutdown` and `{ shutdown: detail }` are clean exits; anything else is not.
 * Run: `node --conditions=source --import tsx examples/snippets/exit-reasons.ts`.
 */
import {
  ActorSystem,
  type Behavior,
  describeReason,
  type ExitReason,
  isCleanExit,
  type Ref,
  silentLogger,
} from 'troupe';
import { settle } from 'troupe/testing';

type Msg = { type: 'crash' } | { type: 'stop-yourself' };

export type Row = { how: string; reason: string; clean: boolean; terminated: boolean };

export async function main(): Promise<Row[]> {
  // Crash reports go to the logger; this example provokes crashes on purpose.
  const system = new ActorSystem({ logger: silentLogger });
  const terminated = new Set<number>();

  const worker: Behavior<Msg, undefined, { failInit: boolean }> = {
    init(_ctx, args) {
      if (args.failInit) throw new Error('bad config');
      return undefined;
    },
    receive(_state, msg, ctx) {
      if (msg.type === 'crash') throw new Error('boom');
      ctx.stop(); // after this message; default reason 'normal'
    },
    terminate(_state, _reason, ctx) {
      terminated.add(ctx.self.id);
    },
  };

  const rows: Row[] = [];
  async function exitOf(how: string, act: (ref: Ref<Msg>) => void, failInit = false): Promise<void> {
    const ref = system.spawn(worker, { args: { failInit } });
    await settle(system); // let init run
    act(ref);
    await settle(system);
    if (ref.alive) {
      rows.push({ how, reason: '(still alive)', clean: false, terminated: terminated.has(ref.id) });
      return;
    }
    const reason: ExitReason = await system.exited(ref);
    rows.push({ how, reason: describeReason(reason), clean: isCleanExit(reason), terminated: terminated.has(ref.id) });
  }

  await exitOf('system.stop(ref)', (ref) => void system.stop(ref));
  await exitOf('ctx.stop() in a handler', (ref) => ref.send({ type: 'stop-yourself' }));
  await exitOf(
    "system.stop(ref, { shutdown: 'maintenance' })",
    (ref) => void system.stop(ref, { shutdown: 'maintenance' }),
  );
  await exitOf('a handler throws', (ref) => ref.send({ type: 'crash' }));
  await exitOf("system.exit(ref, 'shutdown')", (ref) => system.exit(ref, 'shutdown'));
  await exitOf("system.exit(ref, 'normal')", (ref) => system.exit(ref, 'normal'));
  await exitOf('system.kill(ref)', (ref) => system.kill(ref));
  await exitOf('init throws', () => {}, true);

  await system.shutdown();
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table(await main());
}
