/**
 * Exit reasons, with OTP's vocabulary. `normal` and the shutdown family are clean exits: links
 * ignore `normal`, and transient children are not restarted after any of them. `killed` is what an
 * untrappable kill leaves behind; `noproc` is what a monitor reports for an actor that was already
 * gone; `noconnection` is what links and monitors report for an actor on another node that can no
 * longer be reached (its node went down). Anything else is an `Error`: a crash.
 */

/** Why an actor exited. */
export type ExitReason =
  | 'normal'
  | 'shutdown'
  | { readonly shutdown: unknown }
  | 'killed'
  | 'noproc'
  | 'noconnection'
  | Error;

/** `true` for `normal`, `shutdown` and `{ shutdown: detail }`: the exits OTP calls clean. */
export function isCleanExit(reason: ExitReason): boolean {
  return reason === 'normal' || reason === 'shutdown' || (typeof reason === 'object' && !(reason instanceof Error));
}

/** A one-line human description of a reason, for logs and error messages. */
export function describeReason(reason: ExitReason): string {
  if (typeof reason === 'string') return reason;
  if (reason instanceof Error) return `${reason.name}: ${reason.message}`;
  let detail: string;
  try {
    detail = JSON.stringify(reason.shutdown) ?? String(reason.shutdown);
  } catch {
    detail = String(reason.shutdown);
  }
  return `{ shutdown: ${detail} }`;
}

/** Checks that a value is a valid exit reason; throws a teaching TypeError otherwise. */
export function assertReason(reason: unknown, where: string): asserts reason is ExitReason {
  if (
    reason === 'normal' ||
    reason === 'shutdown' ||
    reason === 'killed' ||
    reason === 'noproc' ||
    reason === 'noconnection' ||
    reason instanceof Error ||
    (typeof reason === 'object' && reason !== null && 'shutdown' in reason)
  ) {
    return;
  }
  throw new TypeError(
    `${where}: the exit reason must be 'normal', 'shutdown', { shutdown: detail }, 'killed', 'noproc', 'noconnection' or an Error; got ${String(
      typeof reason === 'object' ? JSON.stringify(reason) : reason,
    )}`,
  );
}
