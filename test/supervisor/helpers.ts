/** Shared fixtures for the supervisor tests: a worker that logs its life and exits on command. */
import {
  ActorSystem,
  type Behavior,
  type ExitReason,
  type Logger,
  type Ref,
  type Reply,
  type SupervisorRef,
  whichChildren,
} from 'troupe';
import { SimulatedClock } from 'troupe/testing';

export type WorkerMsg =
  | { type: 'exit'; reason: ExitReason }
  | { type: 'throw' }
  | { type: 'add'; n: number }
  | { type: 'get'; reply: Reply<number[]> }
  | { type: 'fail'; reply: Reply<number[]> }
  | { type: 'hang' };

export interface WorkerArgs {
  readonly name: string;
  readonly log: string[];
  /** Makes init throw while this returns true. */
  readonly failInit?: () => boolean;
  /** terminate never settles. */
  readonly hangTerminate?: boolean;
}

/** A worker that logs `init <name>` and `terminate <name> <reason>`, sums numbers, and exits on request. */
export const worker: Behavior<WorkerMsg, number[], WorkerArgs> = {
  init(_ctx, args) {
    args.log.push(`init ${args.name}`);
    if (args.failInit?.()) throw new Error(`init ${args.name} failed`);
    return [];
  },
  receive(seen, msg, ctx) {
    switch (msg.type) {
      case 'exit':
        ctx.stop(msg.reason);
        return seen;
      case 'throw':
        throw new Error('poison');
      case 'add':
        return [...seen, msg.n];
      case 'get':
        msg.reply(seen);
        return seen;
      case 'fail':
        throw new Error('poisoned request');
      case 'hang':
        return new Promise<number[]>(() => {});
    }
  },
};

/** Adds terminate logging; the args object is shared, so the closure reads it from the state holder. */
export function loggingWorker(args: WorkerArgs): Behavior<WorkerMsg, number[], WorkerArgs> {
  return {
    ...worker,
    terminate(_state, reason) {
      args.log.push(
        `terminate ${args.name} ${typeof reason === 'string' ? reason : reason instanceof Error ? 'error' : 'shutdown-detail'}`,
      );
      if (args.hangTerminate) return new Promise<void>(() => {});
      return undefined;
    },
  };
}

export interface Captured {
  readonly logger: Logger;
  readonly errors: Array<{ obj: object; msg: string | undefined }>;
}

export function captureLogger(): Captured {
  const errors: Array<{ obj: object; msg: string | undefined }> = [];
  return {
    errors,
    logger: {
      error(obj, msg) {
        errors.push({ obj, msg });
      },
      warn() {},
    },
  };
}

export function newSystem(): { system: ActorSystem; clock: SimulatedClock; captured: Captured } {
  const clock = new SimulatedClock();
  const captured = captureLogger();
  return { system: new ActorSystem({ clock, logger: captured.logger }), clock, captured };
}

/** The ref of a static supervisor's child, typed as a worker. */
export async function childRef(sup: SupervisorRef, id: string): Promise<Ref<WorkerMsg>> {
  const row = (await whichChildren(sup)).find((c) => c.id === id);
  if (row?.ref === undefined) throw new Error(`child ${id} is not running`);
  return row.ref as unknown as Ref<WorkerMsg>;
}
