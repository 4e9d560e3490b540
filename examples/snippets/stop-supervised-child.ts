/**
 * `system.stop(ref)` stops a supervised child for good only when its supervisor would not restart it
 * after that reason: a `temporary` child, or a `transient` one stopped with a clean reason. A
 * `permanent` child would only be restarted in place (an OTP supervisor restarts a permanent child
 * however it stopped), so the promise could never settle: `stop` refuses at once, stops nothing, and
 * says to use `terminateChild`, the verb that stops a child for good.
 * Run: `node --conditions=source --import tsx examples/snippets/stop-supervised-child.ts`.
 */
import {
  ActorSystem,
  type Behavior,
  describeReason,
  type ExitReason,
  type Ref,
  silentLogger,
  supervisor,
  terminateChild,
  whichChildren,
} from 'troupe';

function worker(name: string, log: string[]): Behavior<never> {
  return {
    receive() {},
    terminate(_state, reason) {
      log.push(`${name} stopped: ${describeReason(reason)}`);
    },
  };
}

export async function main(): Promise<{
  refused: string;
  dbAlive: boolean;
  terminated: unknown;
  job: ExitReason;
  log: string[];
  children: string[];
}> {
  const system = new ActorSystem({ logger: silentLogger });
  const log: string[] = [];
  const sup = await system.start(
    supervisor({
      children: [
        { id: 'db', behavior: worker('db', log) }, // permanent, the default
        { id: 'job', behavior: worker('job', log), restart: 'transient' },
      ],
    }),
    { label: 'app' },
  );
  const [db, job] = (await whichChildren(sup)).map((c) => c.ref as Ref<never>);
  if (db === undefined || job === undefined) throw new Error('children not running');

  // A permanent child: refused at once, with a TypeError that names terminateChild(sup, 'db').
  const refused = await system.stop(db).then(
    () => 'stopped',
    (e: unknown) => (e instanceof TypeError ? e.message : String(e)),
  );
  const dbAlive = db.alive; // true: nothing happened to it
  const terminated = await terminateChild(sup, 'db'); // { ok: true }: stopped for good, its spec kept

  // A transient child stopped with a clean reason is not restarted: stop resolves once it is dead.
  const jobReason = await system.stop(job); // 'normal'

  const children = (await whichChildren(sup)).map((c) => `${c.id} ${c.status}`);
  await system.shutdown();
  return { refused, dbAlive, terminated, job: jobReason, log, children };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
