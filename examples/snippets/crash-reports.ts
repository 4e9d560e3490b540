/**
 * When a handler, `init` or `terminate` throws, the system writes a structured crash report to its
 * logger as `logger.error(report, message)`: pino's argument order, so a pino logger fits. The
 * crash never reaches the sender; the actor exits with the error as its reason.
 * Run: `node --conditions=source --import tsx examples/snippets/crash-reports.ts`.
 */
import { ActorSystem, type CrashReport, type Logger } from 'troupe';

type Entry = { level: 'error' | 'warn'; obj: object; msg: string | undefined };

// Any object with error(obj, msg) and warn(obj, msg) will do; here, one that keeps what it gets.
function memoryLogger(entries: Entry[]): Logger {
  return {
    error: (obj, msg) => entries.push({ level: 'error', obj, msg }),
    warn: (obj, msg) => entries.push({ level: 'warn', obj, msg }),
  };
}

function parse(line: string): void {
  if (!line.startsWith('{')) throw new Error(`not an object: ${line}`);
}

export async function main(): Promise<{
  msg: string | undefined;
  report: Omit<CrashReport, 'reason'> & { reason: string };
  sent: boolean;
  stats: { actors: number; deadLetters: number };
}> {
  const entries: Entry[] = [];
  const system = new ActorSystem({ logger: memoryLogger(entries) });
  const parser = system.spawn(parse, { label: 'parser' });
  parser.send('{"ok":true}');
  const sent = parser.send('oops'); // true: queued; the crash happens later, in the actor
  await system.exited(parser);

  const [first] = entries;
  const report = first?.obj as CrashReport;
  const { actors, deadLetters } = system.stats();
  await system.shutdown();
  return {
    msg: first?.msg,
    report: { ...report, reason: report.reason.message },
    sent,
    stats: { actors, deadLetters },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
