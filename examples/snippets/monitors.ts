/**
 * Monitors watch without being tied: one `DOWN` message arrives when the watched actor exits,
 * with its reason (`noproc` at once if it was already dead), and the watcher never dies of it.
 * `demonitor` cancels a monitor. From outside any actor, `system.watch` takes a callback instead.
 * Run: `node --conditions=source --import tsx examples/snippets/monitors.ts`.
 */
import { ActorSystem, type Behavior, describeReason, type MonitorRef, type Ref, type Reply } from 'troupe';
import { settle } from 'troupe/testing';

type WatcherMsg =
  | { type: 'watch'; target: Ref<never>; reply: Reply<MonitorRef> }
  | { type: 'unwatch'; monitor: MonitorRef; reply: Reply<boolean> }
  | { type: 'log'; reply: Reply<string[]> };

const watcher: Behavior<WatcherMsg, string[]> = {
  init: () => [],
  receive(log, msg, ctx) {
    switch (msg.type) {
      case 'watch':
        msg.reply(ctx.monitor(msg.target));
        return;
      case 'unwatch':
        msg.reply(ctx.demonitor(msg.monitor));
        return;
      case 'log':
        msg.reply([...log]);
        return;
    }
  },
  info(log, msg) {
    if (msg.type === 'DOWN') log.push(`DOWN ${msg.actor}: ${describeReason(msg.reason)}`);
  },
};

export async function main(): Promise<{ watcher: string[]; outside: string[]; demonitored: boolean }> {
  const system = new ActorSystem();
  const idle = () => {};
  const w = system.spawn(watcher);
  const a = system.spawn(idle, { label: 'a' });
  const b = system.spawn(idle, { label: 'b' });

  const outside: string[] = [];
  system.monitor(a, (reason) => outside.push(`a exited: ${describeReason(reason)}`));

  await w.call({ type: 'watch', target: a });
  const onB = await w.call({ type: 'watch', target: b });
  const demonitored = await w.call({ type: 'unwatch', monitor: onB }); // true: no DOWN for b

  await system.stop(a, 'shutdown');
  await system.stop(b);
  await w.call({ type: 'watch', target: a }); // a is already dead: DOWN noproc
  await settle(system);

  const log = await w.call({ type: 'log' });
  await system.shutdown();
  return { watcher: log, outside, demonitored };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
