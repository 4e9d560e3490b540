/**
 * `system.shutdown()` asks every live actor to stop with reason `shutdown`, one at a time, newest
 * first, so `terminate` runs; one still alive after `shutdownTimeoutMs` (default 5,000 ms, on the
 * system's clock) is killed before the next is asked. Afterwards the system spawns nothing.
 * Run: `node --conditions=source --import tsx examples/snippets/shutdown.ts`.
 */
import { ActorSystem, type Behavior, describeReason, SystemShutdownError } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

export async function main(): Promise<{ log: string[]; stuck: string; afterwards: string }> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock, shutdownTimeoutMs: 1_000 });
  const log: string[] = [];

  const polite = (name: string): Behavior<never> => ({
    receive() {},
    terminate(_state, reason) {
      log.push(`${name}: ${describeReason(reason)}`);
    },
  });
  system.spawn(polite('first'));
  system.spawn(polite('second'));
  system.spawn(polite('third'));
  // A terminate that never finishes: shutdown kills it when shutdownTimeoutMs runs out.
  const stuck = system.spawn<never, undefined>({
    receive() {},
    terminate: () => new Promise<void>(() => {}),
  });

  const done = system.shutdown(); // asks stuck, the newest, first, and waits for it
  await settle(system); // stuck's terminate hangs; the others have not been asked yet
  clock.advance(1_000); // the timeout: stuck is killed, then third, second and first are asked in turn
  await done;

  let afterwards = '';
  try {
    system.spawn(polite('late'));
  } catch (e) {
    if (e instanceof SystemShutdownError) afterwards = e.message;
  }
  return { log, stuck: describeReason(await system.exited(stuck)), afterwards };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
