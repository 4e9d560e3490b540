/**
 * `spawn` returns a ref at once; `start` resolves once `init` has finished and rejects with an
 * `InitError` when it fails. `init` may be async: messages sent meanwhile wait in the mailbox.
 * Run: `node --conditions=source --import tsx examples/snippets/start-and-init.ts`.
 */
import { ActorSystem, type Behavior, InitError, type Reply, silentLogger } from 'troupe';

type Config = { greeting: string };
type GreeterMsg = { type: 'greet'; name: string; reply: Reply<string> };

// Stands in for reading a file or opening a connection.
async function loadConfig(source: string): Promise<Config> {
  await new Promise((resolve) => setImmediate(resolve));
  if (source === 'missing.json') throw new Error(`cannot read ${source}`);
  return { greeting: 'Hello' };
}

// Behavior<M, S, A>: messages, state, and the argument `init` takes.
const greeter: Behavior<GreeterMsg, Config, string> = {
  async init(_ctx, source) {
    return loadConfig(source); // the resolved value is the first state
  },
  receive(config, msg) {
    msg.reply(`${config.greeting}, ${msg.name}!`);
  },
};

export async function main(): Promise<{ spawned: string; started: string; failure: string; cause: string }> {
  const system = new ActorSystem({ logger: silentLogger });

  // spawn: the ref comes back at once; this call waits in the mailbox until init is done.
  const early = system.spawn(greeter, { args: 'greeter.json' });
  const spawned = await early.call({ type: 'greet', name: 'spawn' });

  // start: resolves after init, so the actor is known to be ready.
  const ready = await system.start(greeter, { args: 'greeter.json' });
  const started = await ready.call({ type: 'greet', name: 'start' });

  // A failing init rejects start with an InitError whose cause is what init threw.
  let failure = '';
  let cause = '';
  try {
    await system.start(greeter, { args: 'missing.json' });
  } catch (e) {
    if (!(e instanceof InitError)) throw e;
    failure = e.name;
    cause = (e.cause as Error).message;
  }

  await system.shutdown();
  return { spawned, started, failure, cause };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
