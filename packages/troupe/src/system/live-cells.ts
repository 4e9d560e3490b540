/**
 * The list of live actors, in spawn order: a doubly linked list through the cells themselves
 * (`prev`/`next`), so joining and leaving it allocate nothing. Shutdown walks it newest first;
 * `inspect` reads it oldest first.
 */
import type { Cell } from '../actor/internal.js';

/** @internal */
export class LiveCells {
  /** The newest live cell. */
  last: Cell | undefined = undefined;
  count = 0;

  add(cell: Cell): void {
    this.count++;
    const last = this.last;
    cell.prev = last;
    if (last !== undefined) last.next = cell;
    this.last = cell;
  }

  remove(cell: Cell): void {
    this.count--;
    const { prev, next } = cell;
    if (prev !== undefined) prev.next = next;
    if (next === undefined) this.last = prev;
    else next.prev = prev;
    cell.prev = cell.next = undefined;
  }

  /** Live cells, oldest first. */
  toArray(): Cell[] {
    const out: Cell[] = [];
    for (let c = this.last; c !== undefined; c = c.prev) out.push(c);
    return out.reverse();
  }
}
