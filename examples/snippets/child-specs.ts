/**
 * A child spec says what a supervisor starts, how it restarts it and how it stops it. Only `id` and
 * `behavior` are required; every other field has a default. Specs are checked when `supervisor()`
 * is called, so a mistake throws a teaching error before anything starts; `startChild` checks the
 * spec it is given and answers a bad one as a result.
 * Run: `node --conditions=source --import tsx examples/snippets/child-specs.ts`.
 */
import { ActorSystem, type ChildSpec, startChild, supervisor, whichChildren } from 'troupe';

type CacheMsg = { type: 'put'; key: string; value: string };

const cache = {
  init: (_ctx: unknown, mode: string) => new Map<string, string>([['mode', mode]]),
  receive(entries: Map<string, string>, msg: CacheMsg) {
    entries.set(msg.key, msg.value);
  },
};

// Every field, each set to its default except the two required ones and `args`.
const full: ChildSpec<string> = {
  id: 'cache', // required: unique among the supervisor's children
  behavior: cache, // required: anything spawn accepts, or another supervisor's behaviour
  args: 'warm', // passed to init at every start and restart; default undefined
  restart: 'permanent', // 'permanent' | 'transient' | 'temporary'
  shutdown: 5_000, // ms to wait for terminate before a kill; 'infinity' for a supervisor
  type: 'worker', // 'supervisor' when behavior comes from supervisor() or dynamicSupervisor()
  // mailbox: { capacity, overflow } bounds it as for spawn; left out, it is unbounded
  keepMailbox: true, // queued mail survives a restart; false drops it, as OTP does
  backoff: false, // restart at once; or { initialMs, maxMs?, factor?, jitter?, resetAfterMs? }
  restartLimit: false, // no limit of its own; or { maxRestarts, withinMs }
  trapExit: false, // start every incarnation with exits trapped
  reportMessages: 3, // the last 3 handled messages go into crash reports
  label: 'cache', // for logs and toString(): Ref<2 cache>; default the id
};

function errorOf(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

export async function main(): Promise<{ defaults: string[]; mistakes: string[]; atRunTime: string }> {
  const system = new ActorSystem();
  const sup = await system.start(
    supervisor({
      children: [full, { id: 'minimal', behavior: cache }, { id: 'nested', behavior: supervisor({ children: [] }) }],
    }),
  );
  const defaults = (await whichChildren(sup)).map((c) => `${c.id}: ${c.type} ${c.ref}`);

  const mistakes = [
    errorOf(() => supervisor({ children: [{ id: 'a', behavior: cache, resart: 'permanent' } as ChildSpec] })),
    errorOf(() => supervisor({ children: [{ id: 'a', behavior: cache, restart: 'sometimes' as 'permanent' }] })),
    errorOf(() => supervisor({ children: [{ id: 'a', behavior: cache, shutdown: -1 }] })),
    errorOf(() => supervisor({ children: [{ id: 'a', behavior: 'cache' }] })),
    errorOf(() =>
      supervisor({
        children: [
          { id: 'a', behavior: cache },
          { id: 'a', behavior: cache },
        ],
      }),
    ),
  ];

  // At run time the same check answers as a result: startChild never throws at its caller.
  const r = await startChild(sup, { id: 'late', behavior: cache, shutdown: 'never' as 'infinity' });
  const atRunTime = r.ok ? 'started' : `${r.reason}: ${'error' in r ? r.error.message : ''}`;

  await system.shutdown();
  return { defaults, mistakes, atRunTime };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
