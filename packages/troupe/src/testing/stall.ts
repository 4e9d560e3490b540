/**
 * What `troupe/testing` does when a `SimulatedClock` finds the program waiting for it with nothing
 * else left to run (see `timers/simulated-clock.ts`): every call still waiting in a system its tools
 * have seen (`settle`, `createProbe`) is rejected with a `SimulatedTimeError` that names the call and
 * the pending timers, instead of hanging until Node's test runner cancels the test. A probe's
 * `within` registers its own wait (see `probe.ts`).
 */
import type { Cell } from '../actor/internal.js';
import type { CallDetails } from '../errors.js';
import { type ActorSystem, runtimeOf } from '../system/system.js';
import { onStall, SimulatedClock, SimulatedTimeError } from '../timers/simulated-clock.js';

/** A call waiting on a cell, as the actor layer keeps it (its `CallList`). */
type PendingCall = NonNullable<NonNullable<NonNullable<Cell['ext']>['calls']>['head']>;

const watched = new WeakSet<ActorSystem>();

/** @internal Rejects `system`'s waiting calls when its simulated clock stalls. Once per system; a no-op on other clocks. */
export function watchForStalls(system: ActorSystem): void {
  if (watched.has(system)) return;
  watched.add(system);
  const clock = system.clock;
  if (clock instanceof SimulatedClock) onStall(clock, (pendingInMs) => failWaitingCalls(system, pendingInMs));
}

function failWaitingCalls(system: ActorSystem, pendingInMs: readonly number[]): number {
  const waiting: PendingCall[] = [];
  for (let cell: Cell | undefined = runtimeOf(system).live.last; cell !== undefined; cell = cell.prev) {
    const calls = cell.ext?.calls;
    if (calls === undefined) continue;
    for (let c = calls.head; c !== undefined; c = c.next) waiting.push(c);
  }
  // Oldest actor first, as they were spawned: the order the errors reach their callers in.
  for (const c of waiting.reverse()) c.fail(new SimulatedTimeError(pendingInMs, describeCall(c.details())));
  return waiting.length;
}

/** `call { type: 'get' } to Ref<3 counter>`, as the runtime's call errors name a call. */
function describeCall(call: CallDetails): string {
  const t = call.requestType;
  if (t === undefined) return `call to ${call.target}`;
  return `call { type: ${typeof t === 'string' ? `'${t}'` : String(t)} } to ${call.target}`;
}
