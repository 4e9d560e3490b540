/**
 * Links: a two-way bond between two actors. When either dies, the other gets an exit signal with
 * its reason (`exit-signals.ts` applies OTP's rules). Linking to a dead actor delivers `noproc` at
 * once. A supervised actor that restarts in place keeps its links: its ref is the same.
 */
import type { ExitReason } from '../exit-reason.js';
import type { Cell } from './cell.js';
import { exitSignal } from './exit-signals.js';
import * as flags from './flags.js';

// Local copies: a local constant costs V8 nothing to read, an imported binding a module-cell load (flags.ts).
const P_DEAD = flags.P_DEAD;

/** Links `a` and `b` both ways. */
export function link(a: Cell, b: Cell): void {
  // A dead actor links to nothing (a late call from an async handler that outlived it).
  if (a === b || (a.flags & P_DEAD) !== 0) return;
  if ((b.flags & P_DEAD) !== 0) {
    exitSignal(a, b, 'noproc');
    return;
  }
  const mine = a.ensureExt();
  if (mine.links === undefined) mine.links = new Set();
  mine.links.add(b);
  const theirs = b.ensureExt();
  if (theirs.links === undefined) theirs.links = new Set();
  theirs.links.add(a);
}

/** Removes the link both ways; a no-op without one. */
export function unlink(a: Cell, b: Cell): void {
  a.ext?.links?.delete(b);
  b.ext?.links?.delete(a);
}

/** `cell` died: every linked actor gets the exit signal. */
export function breakLinks(cell: Cell, reason: ExitReason): void {
  const ext = cell.ext;
  const links = ext?.links;
  if (links === undefined) return;
  (ext as NonNullable<typeof ext>).links = undefined;
  for (const other of links) {
    other.ext?.links?.delete(cell);
    exitSignal(other, cell, reason);
  }
}
