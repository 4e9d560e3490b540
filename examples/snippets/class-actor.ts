/**
 * An actor as a class extending `Actor`, in gen_server's shape: state in fields, `init(args)`,
 * `receive(msg)` and `terminate(reason)` as methods, the context as `this.ctx`. The constructor
 * takes no arguments; `spawn(Class, { args })` hands them to `init`.
 * Run: `node --conditions=source --import tsx examples/snippets/class-actor.ts`.
 */
import { Actor, ActorSystem, describeReason, type ExitReason, type Reply } from 'troupe';

type StackMsg =
  | { type: 'push'; item: string }
  | { type: 'pop'; reply: Reply<string | undefined> }
  | { type: 'size'; reply: Reply<number> };

const log: string[] = [];

// Actor<M, A>: M is the message type, A the type of `init`'s argument.
class Stack extends Actor<StackMsg, string[]> {
  items: string[] = [];

  override init(initial: string[]) {
    // this.ctx (and this.self) exist from here on; they are not set yet in the constructor.
    this.items = [...initial];
    log.push(`init ${this.self}`);
  }

  receive(msg: StackMsg) {
    switch (msg.type) {
      case 'push':
        this.items.push(msg.item);
        break;
      case 'pop':
        msg.reply(this.items.pop());
        break;
      case 'size':
        msg.reply(this.items.length);
        break;
      default: {
        const unhandled: never = msg;
        throw new Error(`unexpected message ${JSON.stringify(unhandled)}`);
      }
    }
  }

  override terminate(reason: ExitReason) {
    log.push(`terminate ${describeReason(reason)} with ${this.items.length} items`);
  }
}

export async function main(): Promise<{ popped: string | undefined; size: number; log: string[] }> {
  log.length = 0;
  const system = new ActorSystem();
  const stack = system.spawn(Stack, { args: ['a', 'b'], label: 'stack' });
  stack.send({ type: 'push', item: 'c' });
  const popped = await stack.call({ type: 'pop' });
  const size = await stack.call({ type: 'size' });
  await system.shutdown();
  return { popped, size, log: [...log] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
