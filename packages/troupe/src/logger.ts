/**
 * Where the runtime writes, and what it writes when an actor crashes. The `Logger` shape matches
 * pino's (`logger.error(obj, msg)`), so a pino logger can be passed as it is. A crash report is a
 * structured record (`CrashReport`) with one readable line as its message.
 */
import { describeReason } from './exit-reason.js';

/**
 * Where the runtime writes. The shape matches pino's (`logger.error(obj, msg)`), so a pino logger
 * can be passed as it is.
 */
export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Writes one readable line per event to stderr. The default logger. */
export const consoleLogger: Logger = {
  error(obj, msg) {
    const r = (obj as { reason?: unknown }).reason;
    console.error(`[troupe] ${msg ?? 'error'}${r instanceof Error ? `: ${r.stack ?? r.message}` : ''}`);
  },
  warn(_obj, msg) {
    console.warn(`[troupe] ${msg ?? 'warning'}`);
  },
};

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
