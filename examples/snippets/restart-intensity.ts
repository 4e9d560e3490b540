/**
 * Restart intensity: a supervisor allows at most `maxRestarts` restarts within any `withinMs`
 * (default 3 in 5,000 ms). One more, and it gives up: it stops its other children in reverse start
 * order and exits with `shutdown`. Its own supervisor then sees a child exit, and restarts it by its
 * spec, fresh children and all.
 * Run: `node --conditions=source --import tsx examples/snippets/restart-intensity.ts`.
 */
import {
  ActorSystem,
  type Behavior,
  describeReason,
  key,
  RestartWindow,
  type SupervisorRequest,
  silentLogger,
  supervisor,
  whichChildren,
} from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type Msg = { type: 'crash' };

// Typed names: whereis(INNER) is a SupervisorRef, whereis(A) a Ref<Msg>.
const INNER = key<SupervisorRequest>('inner');
const A = key<Msg>('a');

function logged(name: string, log: string[]): Behavior<Msg> {
  return {
    init() {
      log.push(`start ${name}`);
      return undefined;
    },
    receive() {
      throw new Error('boom');
    },
    terminate(_state, reason) {
      log.push(`stop ${name} (${describeReason(reason)})`);
    },
  };
}

export async function main(): Promise<{
  window: boolean[];
  log: string[];
  oldA: string;
  innerRestarts: number | undefined;
  sameInner: boolean;
  newA: boolean;
}> {
  // The window on its own: a pure function of the restart times (milliseconds on the clock).
  const w = new RestartWindow(3, 1_000);
  const window = [w.tryAdd(0), w.tryAdd(10), w.tryAdd(20), w.tryAdd(1_000), w.tryAdd(1_001)];
  // [true, true, true, false, true]: at 1,000 the restart at 0 is exactly withinMs old and still
  // counts; at 1,001 it is forgotten.

  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock, logger: silentLogger });
  const log: string[] = [];
  const inner = supervisor({
    maxRestarts: 2,
    withinMs: 1_000,
    children: [
      { id: 'a', behavior: logged('a', log), name: A },
      { id: 'b', behavior: logged('b', log) },
      { id: 'c', behavior: logged('c', log) },
    ],
  });
  const top = await system.start(supervisor({ children: [{ id: 'inner', behavior: inner, name: INNER }] }));
  const innerRef = system.whereis(INNER);
  const a = system.whereis(A);
  if (innerRef === undefined || a === undefined) throw new Error('not started');
  log.length = 0;

  for (let i = 0; i < 3; i++) {
    a.send({ type: 'crash' }); // the third crash within 1,000 ms is one restart too many
    await settle(system);
    clock.advance(100);
  }

  const escalation = [...log];
  const oldA = describeReason(await system.exited(a)); // the old a ended for good, with shutdown
  const [row] = await whichChildren(top);
  const newA = system.whereis(A); // the fresh a, registered by inner's new start
  await system.shutdown();
  return {
    window,
    log: escalation,
    oldA,
    innerRestarts: row?.restarts, // 1: top restarted inner (in place: same ref)
    sameInner: row?.ref === innerRef,
    newA: newA !== undefined && newA !== a, // inner's init started new children
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
