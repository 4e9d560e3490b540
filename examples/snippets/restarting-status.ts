/**
 * The supervisor verbs answer as OTP's do while a child's restart is under way: `whichChildren`
 * says `restarting` until the new incarnation's `init` has finished, `countChildren` does not count
 * it active, and `restartChild` / `deleteChild` answer `restarting`. A dynamic supervisor answers
 * `restartChild` and `deleteChild` at once with `dynamic_supervisor` (OTP's simple_one_for_one).
 * Run: `node --conditions=source --import tsx examples/snippets/restarting-status.ts`.
 */
import {
  ActorSystem,
  type Behavior,
  countChildren,
  deleteChild,
  dynamicSupervisor,
  key,
  restartChild,
  silentLogger,
  supervisor,
  whichChildren,
} from 'troupe';
import { settle } from 'troupe/testing';

const DB = key<'crash'>('db');

export async function main(): Promise<Record<string, unknown>> {
  const system = new ActorSystem({ logger: silentLogger });
  let connected: () => void = () => {};
  let starts = 0;
  const db: Behavior<'crash', number> = {
    async init() {
      // Each restart reconnects: the new incarnation is not up until the connection is.
      if (starts++ > 0) await new Promise<void>((r) => (connected = r));
      return starts;
    },
    receive() {
      throw new Error('connection lost');
    },
  };
  const sup = await system.start(supervisor({ children: [{ id: 'db', behavior: db, name: DB }] }));
  system.whereis(DB)?.send('crash');
  await settle(system);
  const out: Record<string, unknown> = {};
  out.status = (await whichChildren(sup))[0]?.status; // 'restarting': its init still waits
  out.active = (await countChildren(sup)).active; // 0
  out.restartChild = await restartChild(sup, 'db'); // { ok: false, reason: 'restarting' }
  out.deleteChild = await deleteChild(sup, 'db'); // { ok: false, reason: 'restarting' }
  connected();
  await settle(system);
  out.statusAfter = (await whichChildren(sup))[0]?.status; // 'running'

  const rooms = await system.start(dynamicSupervisor({ child: { behavior: () => {} } }));
  // Children of a dynamic supervisor are known by ref; these verbs are for specs kept by id.
  out.dynamic = await restartChild(rooms as never, '1'); // { ok: false, reason: 'dynamic_supervisor' }
  await system.shutdown();
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
