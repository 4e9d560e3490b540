/**
 * Keyed timers: `ctx.startTimer(key, msg, ms)` replaces the timer the key had, and a timer that is
 * replaced or cancelled never delivers, even if its message was already queued (Akka's
 * `TimerScheduler`). Here a debounce: every edit restarts the 'save' timer, so one save happens
 * 500 ms after the last edit.
 * Run: `node --conditions=source --import tsx examples/snippets/keyed-timers.ts`.
 */
import { ActorSystem, type Behavior, type Reply } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type EditorMsg =
  | { type: 'edit'; text: string }
  | { type: 'save' }
  | { type: 'discard' }
  | { type: 'saved'; reply: Reply<string[]> };

type Editor = { text: string; saved: string[] };

const editor: Behavior<EditorMsg, Editor> = {
  init: () => ({ text: '', saved: [] }),
  receive(state, msg, ctx) {
    switch (msg.type) {
      case 'edit':
        ctx.startTimer('save', { type: 'save' }, 500); // the previous 'save' timer is gone
        return { ...state, text: msg.text };
      case 'save':
        return { ...state, saved: [...state.saved, state.text] };
      case 'discard':
        ctx.cancelTimer('save');
        return state;
      case 'saved':
        msg.reply(state.saved);
        return state;
    }
  },
};

export async function main(): Promise<Record<string, unknown>> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock });
  const ref = system.spawn(editor);
  for (const text of ['h', 'he', 'hel', 'hello']) {
    ref.send({ type: 'edit', text });
    await settle(system);
    clock.advance(200); // an edit every 200 ms: the timer never reaches 500
  }
  clock.advance(500);
  await settle(system);
  const afterTyping = await ref.call({ type: 'saved' }); // ['hello']: one save, after the last edit
  ref.send({ type: 'edit', text: 'hello!' });
  ref.send({ type: 'discard' });
  clock.advance(1_000);
  await settle(system);
  const afterDiscard = await ref.call({ type: 'saved' }); // still ['hello']
  await system.shutdown();
  return { afterTyping, afterDiscard };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
