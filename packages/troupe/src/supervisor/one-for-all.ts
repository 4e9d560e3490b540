/**
 * `one_for_all`: when one child fails, every other child is stopped (reverse start order) and all
 * restart in start order. For children that cannot work without each other.
 */
import type { Child } from './child.js';
import type { Strategy } from './strategy.js';

export const oneForAll: Strategy = {
  name: 'one_for_all',
  group(children: readonly Child[], failed: Child): Child[] {
    return children.filter((c) => c === failed || c.status !== 'stopped');
  },
};
