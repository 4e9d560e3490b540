/**
 * When a supervised child exits abnormally, its supervisor writes a `SupervisorReport` to the
 * system logger, as `logger.error(report, message)`: which supervisor, which child, why, the spec as
 * it was given, the last messages the child handled (the last one is the poison message when it
 * crashed) and how often it had been restarted. A clean exit (`normal`, `shutdown`) is not reported.
 * Reaching the restart intensity is logged too.
 * Run: `node --conditions=source --import tsx examples/snippets/supervisor-reports.ts`.
 */
import { ActorSystem, type Logger, type Ref, type SupervisorReport, supervisor, whichChildren } from 'troupe';
import { settle } from 'troupe/testing';

type Entry = { obj: object; msg: string | undefined };

function parse(line: string): void {
  if (!line.startsWith('{')) throw new Error(`not an object: ${line}`);
}

export async function main(): Promise<{
  msg: string | undefined;
  report: Omit<SupervisorReport, 'reason' | 'spec'> & { reason: string; spec: string };
  gaveUp: string | undefined;
  entries: number;
}> {
  const entries: Entry[] = [];
  const logger: Logger = { error: (obj, msg) => entries.push({ obj, msg }), warn() {} };
  const system = new ActorSystem({ logger });
  const sup = await system.start(
    supervisor({ maxRestarts: 1, children: [{ id: 'parser', behavior: parse, reportMessages: 2 }] }),
    { label: 'app' },
  );
  const parser = (await whichChildren(sup))[0]?.ref as unknown as Ref<string>;

  parser.send('{"a":1}');
  parser.send('{"b":2}');
  parser.send('oops'); // crashes it: report 1, restart 1
  await settle(system);
  parser.send('again'); // crashes it again: report 2, and one restart too many
  await settle(system);

  const report = entries[0]?.obj as SupervisorReport;
  return {
    msg: entries[0]?.msg,
    report: { ...report, reason: String(report.reason), spec: report.spec.id },
    gaveUp: entries.at(-1)?.msg,
    entries: entries.length, // 3: two reports and the intensity line; no CrashReport for supervised actors
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
