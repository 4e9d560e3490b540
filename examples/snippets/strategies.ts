/**
 * The three strategies of a static supervisor, with four children a, b, c, d started in that order
 * and b crashing. `one_for_one` restarts b alone; `one_for_all` stops the others (reverse start
 * order) and restarts all four (start order); `rest_for_one` does the same for the children started
 * after b. A temporary sibling caught in a group restart is stopped and forgotten, not restarted.
 * Run: `node --conditions=source --import tsx examples/snippets/strategies.ts`.
 */
import {
  ActorSystem,
  type Behavior,
  describeReason,
  key,
  type RestartType,
  type StrategyName,
  silentLogger,
  supervisor,
  whichChildren,
} from 'troupe';
import { settle } from 'troupe/testing';

type Msg = { type: 'crash' };

// b's typed name: system.whereis(B) is a Ref<Msg>.
const B = key<Msg>('b');

// Logs its start and its terminate; crashes on request.
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

async function crashB(strategy: StrategyName, restartOfD: RestartType = 'permanent') {
  const system = new ActorSystem({ logger: silentLogger });
  const log: string[] = [];
  const sup = await system.start(
    supervisor({
      strategy,
      children: [
        { id: 'a', behavior: logged('a', log) },
        { id: 'b', behavior: logged('b', log), name: B },
        { id: 'c', behavior: logged('c', log) },
        { id: 'd', behavior: logged('d', log), restart: restartOfD },
      ],
    }),
  );
  log.length = 0; // forget the first starts
  system.whereis(B)?.send({ type: 'crash' });
  await settle(system);
  const ids = (await whichChildren(sup)).map((c) => c.id);
  const restart = [...log];
  await system.shutdown();
  return { log: restart, ids };
}

export async function main(): Promise<Record<string, string[]>> {
  const oneForOne = await crashB('one_for_one');
  const oneForAll = await crashB('one_for_all');
  const restForOne = await crashB('rest_for_one');
  const temporary = await crashB('one_for_all', 'temporary'); // d is temporary
  return {
    one_for_one: oneForOne.log,
    one_for_all: oneForAll.log,
    rest_for_one: restForOne.log,
    'one_for_all, d temporary': temporary.log,
    'children afterwards': temporary.ids,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
