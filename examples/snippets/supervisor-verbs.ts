/**
 * The supervisor verbs, OTP's, spelled the TypeScript way. Each is a `call` to the supervisor with
 * no timeout, and answers expected outcomes as results (`{ ok: false, reason: 'not_found' }`),
 * never as exceptions.
 * Run: `node --conditions=source --import tsx examples/snippets/supervisor-verbs.ts`.
 */
import {
  ActorSystem,
  countChildren,
  deleteChild,
  restartChild,
  startChild,
  supervisor,
  terminateChild,
  whichChildren,
} from 'troupe';

const idle = (_msg: never) => {};

export async function main(): Promise<Record<string, unknown>> {
  const system = new ActorSystem();
  const sup = await system.start(supervisor({ children: [{ id: 'a', behavior: idle }] }));
  const out: Record<string, unknown> = {};
  const show = (r: { ok: boolean; reason?: string }) => (r.ok ? 'ok' : r.reason);

  const started = await startChild(sup, { id: 'b', behavior: idle });
  out.startChild = show(started); // 'ok', with started.ref
  out['startChild again'] = show(await startChild(sup, { id: 'b', behavior: idle })); // 'already_started', with the running child's ref
  out['deleteChild running'] = show(await deleteChild(sup, 'b')); // 'running'
  out.terminateChild = show(await terminateChild(sup, 'b')); // 'ok': stopped, spec kept
  out.whichChildren = (await whichChildren(sup)).map((c) => `${c.id} ${c.status} ${c.ref ?? '-'}`);
  out['startChild stopped'] = show(await startChild(sup, { id: 'b', behavior: idle })); // 'already_present'
  const restarted = await restartChild(sup, 'b');
  out.restartChild = show(restarted); // 'ok': started again from its spec
  out['a new ref'] = started.ok && restarted.ok && started.ref !== restarted.ref; // true
  out['restartChild running'] = show(await restartChild(sup, 'b')); // 'running'
  await terminateChild(sup, 'b');
  out.deleteChild = show(await deleteChild(sup, 'b')); // 'ok': the spec is gone
  out['terminateChild unknown'] = show(await terminateChild(sup, 'nope')); // 'not_found'
  out.countChildren = await countChildren(sup);

  await system.shutdown();
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
