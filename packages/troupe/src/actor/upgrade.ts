/**
 * Hot code upgrade, as OTP's code change: the request goes through the mailbox, so messages sent
 * before it run on the old code and messages sent after it on the new. Between two messages the
 * actor's state goes through `migrate` and the new behaviour adopts it; if `migrate` throws, the
 * old code keeps running and the caller is told why. An actor between incarnations starts its next
 * one on the new code.
 */
import { toError } from '../errors.js';
import { describeReason } from '../exit-reason.js';
import { SystemMessage } from '../mailbox/mailbox.js';
import type { Impl } from './behavior.js';
import type { Cell } from './cell.js';
import * as flags from './flags.js';

// Local copies: a local constant costs V8 nothing to read, an imported binding a module-cell load (flags.ts).
const NO_TURNS = flags.NO_TURNS;
const P_RESTARTING = flags.P_RESTARTING;
const PHASE = flags.PHASE;

/** The result of a hot upgrade. */
export type UpgradeResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'dead' }
  | { readonly ok: false; readonly reason: 'migrate_failed'; readonly error: Error };

/** @internal A pending hot upgrade, applied between two messages. */
export interface UpgradeRequest {
  readonly impl: Impl;
  readonly migrate: ((state: unknown) => unknown) | undefined;
  readonly done: (result: UpgradeResult) => void;
}

/** @internal A hot upgrade waiting in the mailbox, so it applies in order with the mail. */
export class UpgradeNotice extends SystemMessage {
  constructor(readonly req: UpgradeRequest) {
    super();
  }
}

/** @internal Queues a hot upgrade behind the mail already queued. */
export function requestUpgrade(cell: Cell, req: UpgradeRequest): void {
  const phase = cell.flags & PHASE;
  if (phase === P_RESTARTING) {
    // Between incarnations: the next one starts on the new code (init runs, so no migration).
    cell.impl = req.impl;
    req.done({ ok: true });
    return;
  }
  if ((phase & NO_TURNS) !== 0) {
    req.done({ ok: false, reason: 'dead' });
    return;
  }
  cell.deliverInfo(new UpgradeNotice(req));
}

/** @internal Applies an upgrade between two messages. */
export function applyUpgrade(cell: Cell, req: UpgradeRequest): void {
  const runtime = cell.runtime;
  let next: unknown;
  try {
    const migrated = req.migrate === undefined ? cell.state : req.migrate(cell.state);
    next = req.impl.adopt(cell.hook?.ctx ?? cell, migrated);
  } catch (e) {
    const error = toError(e);
    runtime.logger.error(
      { actor: cell.toString(), reason: error },
      `upgrade of ${cell.toString()} failed in migrate; the old code keeps running: ${describeReason(error)}`,
    );
    if (runtime.observed) runtime.emit({ type: 'upgraded', ref: cell as never, ok: false, error });
    req.done({ ok: false, reason: 'migrate_failed', error });
    return;
  }
  cell.impl = req.impl;
  cell.state = next;
  if (runtime.observed) runtime.emit({ type: 'upgraded', ref: cell as never, ok: true });
  req.done({ ok: true });
}
