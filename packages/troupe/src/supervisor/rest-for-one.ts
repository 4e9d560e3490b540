/**
 * `rest_for_one`: when a child fails, the children started after it are stopped (reverse start
 * order) and they restart with it in start order; the ones started before it are untouched. For
 * chains where later children depend on earlier ones.
 */
import type { Child } from './child.js';
import type { Strategy } from './strategy.js';

export const restForOne: Strategy = {
  name: 'rest_for_one',
  group(children: readonly Child[], failed: Child): Child[] {
    const at = children.indexOf(failed);
    return children.filter((c, i) => c === failed || (i > at && c.status !== 'stopped'));
  },
};
