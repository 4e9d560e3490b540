/** `one_for_one`: only the child that failed restarts. The default strategy. */
import type { Child } from './child.js';
import type { Strategy } from './strategy.js';

export const oneForOne: Strategy = {
  name: 'one_for_one',
  group(_children: readonly Child[], failed: Child): Child[] {
    return [failed];
  },
};
