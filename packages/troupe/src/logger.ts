/**
 * Where the runtime writes, and what it writes when an actor crashes. The `Logger` shape matches
 * pino's (`logger.error(obj, msg)`), so a pino logger can be passed as it is. A crash report is a
 * structured record (`CrashReport`) with one readable line as its message.
 */
import { inspect } from 'node:util';
import { describeReason, type ExitReason } from './exit-reason.js';

/**
 * Where the runtime writes. The shape matches pino's (`logger.error(obj, msg)`), so a pino logger
 * can be passed as it is.
 */
export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * Writes to stderr for a person to read. The default logger. A crash is one line of who (its
 * registered name or child id, and the supervisors above it) and why, then the stack once, then
 * the last messages it handled and a short summary of its state; any other event is one line (and
 * the stack of an `err` a callback threw).
 */
export const consoleLogger: Logger = {
  error(obj, msg) {
    console.error(formatForConsole(obj, msg ?? 'error'));
  },
  warn(_obj, msg) {
    console.warn(`[troupe] ${msg ?? 'warning'}`);
  },
};

/** @internal How the console logger shows an event: crash reports in full, the rest as one line. */
export function formatForConsole(obj: object, msg: string): string {
  const o = obj as Record<string, unknown>;
  if (typeof o.childId === 'string' && Array.isArray(o.messages) && Array.isArray(o.path)) return childCrash(o);
  if (typeof o.phase === 'string' && typeof o.actor === 'string' && o.reason instanceof Error) return actorCrash(o);
  // An error another line already showed (the child's crash, when a limit is reached) is not repeated.
  const err = o.err;
  return `[troupe] ${msg}${err instanceof Error ? `\n${frames(err) || `    ${err.message}`}` : ''}`;
}

function childCrash(o: Record<string, unknown>): string {
  const names = (o.names as unknown[]).map(summary);
  // A dynamic child's id is its ref's: the ref and its args say which one it is.
  const ident = o.dynamic === true ? String(o.child) : `child '${String(o.childId)}'`;
  const detail = [o.dynamic === true ? '' : String(o.child), o.args === undefined ? '' : `args ${summary(o.args)}`]
    .filter((d) => d !== '')
    .join(', ');
  const who =
    names.length > 0
      ? `${names.join(', ')} (${detail === '' ? ident : `${ident}, ${detail}`})`
      : `${ident}${detail === '' ? '' : ` (${detail})`}`;
  const lines = [
    `[troupe] ${who} of ${(o.path as string[]).join(' > ')} crashed: ${describeReason(o.reason as ExitReason)} (restarts so far: ${String(o.restarts)})`,
  ];
  if (o.reason instanceof Error) {
    const f = frames(o.reason);
    if (f !== '') lines.push(f);
  }
  const messages = o.messages as unknown[];
  if (messages.length > 0) {
    lines.push('  last messages, oldest first:');
    for (const m of messages) lines.push(`    ${summary(m)}`);
  }
  if (o.state !== undefined) lines.push(`  state: ${summary(o.state)}`);
  return lines.join('\n');
}

function actorCrash(o: Record<string, unknown>): string {
  const reason = o.reason as Error;
  const lines = [`[troupe] ${String(o.actor)} crashed in ${String(o.phase)}: ${describeReason(reason)}`];
  const f = frames(reason);
  if (f !== '') lines.push(f);
  if ('message' in o) lines.push(`  message: ${summary(o.message)}`);
  return lines.join('\n');
}

/** The stack's frames, without the header line that repeats the error's name and message. */
function frames(e: Error): string {
  return (e.stack ?? '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .join('\n');
}

const SUMMARY_CHARS = 200;

/** A value on one line, cut short. */
function summary(v: unknown): string {
  const s = inspect(v, { depth: 2, breakLength: Number.POSITIVE_INFINITY, maxArrayLength: 10, maxStringLength: 80 });
  return s.length <= SUMMARY_CHARS ? s : `${s.slice(0, SUMMARY_CHARS)}…`;
}

/** A logger that drops everything (tests that provoke crashes on purpose). */
export const silentLogger: Logger = { error() {}, warn() {} };

/** What the system reports when an actor's handler, init or terminate throws. */
export interface CrashReport {
  readonly actor: string;
  readonly id: number;
  readonly label: string | undefined;
  readonly behavior: string;
  readonly phase: 'init' | 'receive' | 'terminate';
  readonly reason: Error;
  /** The message being handled when it crashed (for `receive`). */
  readonly message?: unknown;
}

/** @internal Writes a crash report as one error line with the report as its structured part. */
export function logCrash(logger: Logger, report: CrashReport): void {
  logger.error(report, `actor ${report.actor} crashed in ${report.phase}: ${describeReason(report.reason)}`);
}
