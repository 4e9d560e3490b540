/**
 * Exit reasons on the wire. The atoms travel as themselves; an `Error` as its name, message and
 * stack (it arrives as a {@link RemoteError}); `{ shutdown: detail }` as itself when the detail is
 * data, else as its description.
 */
import { describeReason, type ExitReason } from 'troupe';

/** A reason, or `'kill'` for an untrappable kill signal. */
export type SignalReason = ExitReason | 'kill';

/** An `Error` exit reason that happened on another node: its name, message and stack are the original's. */
export class RemoteError extends Error {
  /** The node it was thrown on. */
  readonly node: string;
  constructor(name: string, message: string, stack: string | undefined, node: string) {
    super(message);
    this.name = name;
    this.node = node;
    if (stack !== undefined) this.stack = stack;
  }
}

const ATOMS: ReadonlySet<unknown> = new Set(['normal', 'shutdown', 'killed', 'noproc', 'noconnection', 'kill']);

/** The wire form of a reason. */
export function reasonToWire(reason: SignalReason): unknown {
  if (typeof reason === 'string') return reason;
  if (reason instanceof Error) return { error: [reason.name, reason.message, reason.stack ?? null] };
  return { shutdown: reason.shutdown };
}

/** A wire reason whose `shutdown` detail could not be encoded, as its description; anything else as it is. */
export function wireDescribed(wire: unknown): unknown {
  if (wire === null || typeof wire !== 'object' || !('shutdown' in wire)) return wire;
  return { shutdown: describeReason(wire as { shutdown: unknown }) };
}

/** The reason of a wire form from `node`; anything malformed is `noproc`'s opposite: a RemoteError saying so. */
export function reasonFromWire(wire: unknown, node: string): SignalReason {
  if (typeof wire === 'string') {
    return ATOMS.has(wire)
      ? (wire as SignalReason)
      : new RemoteError('Error', `unknown exit reason '${wire}'`, undefined, node);
  }
  if (wire !== null && typeof wire === 'object') {
    const w = wire as { error?: unknown; shutdown?: unknown };
    if (Array.isArray(w.error)) {
      const [name, message, stack] = w.error as unknown[];
      return new RemoteError(String(name), String(message), typeof stack === 'string' ? stack : undefined, node);
    }
    if ('shutdown' in w) return { shutdown: w.shutdown };
  }
  return new RemoteError('Error', 'a malformed exit reason', undefined, node);
}
