/**
 * A restart strategy decides which children restart when one fails. Each strategy is one small
 * file; the supervisor stops the others in the group (reverse start order, by their shutdown specs)
 * and restarts the whole group in start order.
 */
import type { Child } from './child.js';

/** The strategies of a static supervisor. */
export type StrategyName = 'one_for_one' | 'one_for_all' | 'rest_for_one';

/** @internal */
export interface Strategy {
  readonly name: StrategyName;
  /** The children to restart with `failed` (included), in start order. */
  group(children: readonly Child[], failed: Child): Child[];
}
