/**
 * skynet: a 10-ary tree of actors, 1,000,000 leaves (1,111,111 actors in all). Each actor is
 * spawned by its parent and sent its number and the size of its subtree; a leaf replies its number
 * to its parent, a parent sums its ten replies and replies the sum; every actor stops after it has
 * replied (as in the original skynet, where each goroutine or process ends once it has sent). The
 * figure is the total time, spawns included, in ms (lower is better). The target from the issue is
 * Troupe within 1.2x of the hand-written loop's time.
 */
import { ActorSystem, type Behavior, type Ref } from 'troupe';
import * as baseline from './baseline.js';
import { check, deferred, defineWorkload, ratioAtMost, type Sample } from './harness.js';

export interface SkynetParams {
  /** Leaf actors: a power of `arity`. */
  readonly leaves: number;
  readonly arity: number;
}

type Sum = { readonly type: 'sum'; readonly n: number };
type Start = { readonly type: 'start'; readonly num: number; readonly size: number; readonly parent: Ref<Sum> };
type NodeMsg = Start | Sum;
interface NodeState {
  sum: number;
  left: number;
  parent: Ref<Sum>;
}

function treeNode(arity: number): Behavior<NodeMsg, NodeState | undefined> {
  const node: Behavior<NodeMsg, NodeState | undefined> = {
    receive(state, msg, ctx) {
      switch (msg.type) {
        case 'start': {
          if (msg.size === 1) {
            msg.parent.send({ type: 'sum', n: msg.num });
            ctx.stop();
            return undefined;
          }
          const size = msg.size / arity;
          for (let i = 0; i < arity; i++) {
            ctx.spawn(node).send({ type: 'start', num: msg.num + i * size, size, parent: ctx.self });
          }
          return { sum: 0, left: arity, parent: msg.parent };
        }
        case 'sum': {
          const s = state as NodeState;
          s.sum += msg.n;
          if (--s.left === 0) {
            s.parent.send({ type: 'sum', n: s.sum });
            ctx.stop();
          }
          return undefined;
        }
        default: {
          const never: never = msg;
          return never;
        }
      }
    },
  };
  return node;
}

async function troupe(p: SkynetParams): Promise<Sample> {
  const system = new ActorSystem();
  const done = deferred<number>();
  const t0 = performance.now();
  const sink = system.spawn((msg: Sum) => done.resolve(msg.n));
  system.spawn(treeNode(p.arity)).send({ type: 'start', num: 0, size: p.leaves, parent: sink });
  const total = await done.promise;
  const ms = performance.now() - t0;
  check(total === (p.leaves * (p.leaves - 1)) / 2, `skynet sum ${total}`);
  check(system.stats().actors === 1, `skynet left ${system.stats().actors} actors alive`);
  await system.shutdown();
  return { skynet: ms };
}

export const skynet = defineWorkload<SkynetParams>({
  name: 'skynet',
  about: '10-ary tree of 1,000,000 leaf actors; leaves reply their number, parents sum; total ms',
  figures: [
    { name: 'skynet', unit: 'ms', better: 'lower', decimals: 1, target: ratioAtMost(1.05, '<= 1.05x baseline time') },
  ],
  params: { full: { leaves: 1_000_000, arity: 10 }, quick: { leaves: 100_000, arity: 10 } },
  troupe,
  baseline: baseline.skynet,
});
