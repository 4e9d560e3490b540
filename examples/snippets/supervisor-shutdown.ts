/**
 * How a supervisor stops its children: one at a time, in reverse start order, each by its `shutdown`
 * spec. `brutal_kill` kills at once (no `terminate`); a number of milliseconds asks the child to stop
 * and kills it if its `terminate` has not finished by then; `infinity` waits as long as it takes
 * (the default for supervisors; workers default to 5,000 ms). A supervisor that is killed takes its
 * children down with it.
 * Run: `node --conditions=source --import tsx examples/snippets/supervisor-shutdown.ts`.
 */
import { ActorSystem, type Behavior, describeReason, supervisor, whichChildren } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

export async function main(): Promise<{
  log: string[];
  reasons: Record<string, string>;
  stoppedAtMs: number;
  afterKill: string;
}> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock });
  const log: string[] = [];

  const polite = (name: string): Behavior<never> => ({
    receive() {},
    terminate(_state, reason) {
      log.push(`${name} terminates at ${clock.now()} ms: ${describeReason(reason)}`);
    },
  });
  // Its terminate never finishes: the supervisor kills it when its shutdown time runs out.
  const stuck: Behavior<never> = {
    receive() {},
    terminate() {
      log.push(`stuck terminates at ${clock.now()} ms, and hangs`);
      return new Promise<void>(() => {});
    },
  };

  const sup = await system.start(
    supervisor({
      children: [
        { id: 'db', behavior: polite('db'), shutdown: 'infinity' },
        { id: 'stuck', behavior: stuck, shutdown: 2_000 },
        { id: 'metrics', behavior: polite('metrics'), shutdown: 'brutal_kill' },
      ],
    }),
  );
  const exits = (await whichChildren(sup)).map(async ({ id, ref }) => [
    id,
    ref === undefined ? 'not running' : describeReason(await system.exited(ref)),
  ]);

  const stopped = system.stop(sup, 'shutdown'); // metrics first, then stuck, then db
  await settle(system);
  clock.advance(2_000); // stuck's shutdown time runs out: it is killed, and db is asked next
  await stopped;
  const stoppedAtMs = clock.now();
  const reasons = Object.fromEntries(await Promise.all(exits));

  // Killed, a supervisor runs no terminate, but its children still go: each gets the exit signal
  // `killed`, an ordinary signal for them, so their terminate runs.
  const sup2 = await system.start(supervisor({ children: [{ id: 'w', behavior: polite('w') }] }));
  const [w] = await whichChildren(sup2);
  system.kill(sup2);
  const afterKill = w?.ref === undefined ? 'not running' : describeReason(await system.exited(w.ref));

  await system.shutdown();
  return { log, reasons, stoppedAtMs, afterKill };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
