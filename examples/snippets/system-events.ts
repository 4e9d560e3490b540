/**
 * `system.subscribe(listener)` streams what happens in the system, for telemetry: actors spawned,
 * crashed, restarted and exited, dead letters, supervisors giving up, hot upgrades. With no
 * subscriber each emit point costs one boolean test. `system.onDrained(fn)` runs `fn` at the end of
 * every scheduler batch: output that actors buffer while handling a batch can be flushed there once.
 * Run: `node --conditions=source --import tsx examples/snippets/system-events.ts`.
 */
import { ActorSystem, describeReason, key, type SystemEvent, silentLogger, supervisor } from 'troupe';
import { settle } from 'troupe/testing';

function describeEvent(e: SystemEvent): string {
  switch (e.type) {
    case 'spawned':
      return `spawned ${e.ref} (${e.behavior}) by ${e.parent ?? 'nobody'}`;
    case 'crashed':
      return `crashed ${e.ref} in ${e.phase}: ${e.reason.message}`;
    case 'crash_report':
      return `crash_report ${e.ref}, last messages ${JSON.stringify(e.messages)}`;
    case 'restarted':
      return `restarted ${e.ref} as child '${e.childId}' of ${e.supervisor}, restart ${e.restarts}`;
    case 'exited':
      return `exited ${e.ref}: ${describeReason(e.reason)}`;
    case 'dead_letter':
      return `dead_letter to ${e.to} (${e.reason}): ${JSON.stringify(e.message)}`;
    case 'intensity_exceeded':
      return `intensity_exceeded in ${e.supervisor} on '${e.childId}' (${e.maxRestarts} in ${e.withinMs} ms)`;
    case 'upgraded':
      return `upgraded ${e.ref}: ${e.ok ? 'ok' : e.error?.message}`;
    case 'call':
      return `call ${e.requestType} to ${e.ref}: ${e.outcome} in ${e.ms} ms`;
    case 'mailbox_depth':
      return `mailbox_depth ${e.ref}: ${e.depth}`;
    case 'nodeup':
      return `nodeup ${e.node}`;
    case 'nodedown':
      return `nodedown ${e.node} (${e.reason})`;
  }
}

function parse(line: string): void {
  if (!line.startsWith('{')) throw new Error(`not an object: ${line}`);
}

const PARSER = key<string>('parser');

export async function main(): Promise<{ events: string[]; flushes: string[] }> {
  const system = new ActorSystem({ logger: silentLogger });
  const events: string[] = [];
  const unsubscribe = system.subscribe((e) => events.push(describeEvent(e)));

  await system.start(supervisor({ maxRestarts: 1, children: [{ id: 'parser', behavior: parse, name: PARSER }] }), {
    label: 'app',
  });
  const parser = system.whereis(PARSER); // Ref<string> | undefined
  if (parser === undefined) throw new Error('parser is not registered');
  parser.send('oops'); // crashed, dead_letter (the poison message), restarted
  await settle(system);
  parser.send('again'); // crashed, dead_letter, intensity_exceeded, exited x2
  await settle(system);
  await system.upgrade(system.spawn(parse, { label: 'v1' }), (_line: string) => {}); // spawned, upgraded
  unsubscribe();
  system.spawn(parse); // nobody listens any more

  // onDrained: buffer output during a batch, write it once at the end of the batch.
  const buffer: string[] = [];
  const flushes: string[] = [];
  const stop = system.onDrained(() => {
    if (buffer.length > 0) flushes.push(buffer.splice(0).join(' '));
  });
  const writer = system.spawn((word: string) => {
    buffer.push(word);
  });
  for (const word of ['one', 'batch', 'of', 'words']) writer.send(word);
  await settle(system);
  stop();

  await system.shutdown();
  return { events, flushes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
