/**
 * What the default console logger prints when a supervised child crashes: one line of who (its
 * name, its id, its supervisor) and why, the stack once, the last messages it handled and a short
 * summary of its state. This snippet catches the lines to show them; a program just lets them go
 * to stderr.
 * Run: `node --conditions=source --import tsx examples/snippets/crash-console.ts`.
 */
import { ActorSystem, type Behavior, key, supervisor } from 'troupe';
import { settle } from 'troupe/testing';

type CartMsg = { type: 'add'; item: string } | { type: 'checkout' };
const CART = key<CartMsg>('cart');

const cart: Behavior<CartMsg, { items: string[] }> = {
  init: () => ({ items: [] }),
  receive(state, msg) {
    if (msg.type === 'checkout') throw new Error('payment service is down');
    return { items: [...state.items, msg.item] };
  },
};

export async function main(): Promise<string[]> {
  const printed: string[] = [];
  const realError = console.error;
  console.error = (line: string) => void printed.push(line);
  try {
    const system = new ActorSystem(); // the default logger: consoleLogger
    await system.start(supervisor({ children: [{ id: 'cart', behavior: cart, name: CART }] }), { label: 'shop' });
    system.whereis(CART)?.send({ type: 'add', item: 'tea' });
    system.whereis(CART)?.send({ type: 'checkout' });
    await settle(system);
    await system.shutdown();
  } finally {
    console.error = realError;
  }
  // The stack's lines depend on where this file is; keep the rest.
  return (printed[0] ?? '').split('\n').filter((l) => !l.startsWith('    at '));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log((await main()).join('\n'));
}
