/**
 * The system's event stream, for telemetry: spawned, exited, crashed, restarted, dead letters,
 * restart intensity exceeded, upgraded, calls settled (with their latency), mailboxes growing. Subscribing is optional; with no subscriber, each emit point
 * costs one boolean test (`bench/runtime` measures it).
 */

import type { ExitReason } from '../exit-reason.js';
import type { Ref } from './ref.js';

/** One thing that happened in an actor system. */
export type SystemEvent =
  | {
      readonly type: 'spawned';
      readonly ref: Ref<never>;
      readonly parent: Ref<never> | undefined;
      readonly behavior: string;
    }
  | { readonly type: 'exited'; readonly ref: Ref<never>; readonly reason: ExitReason }
  | {
      readonly type: 'crashed';
      readonly ref: Ref<never>;
      readonly phase: 'init' | 'receive' | 'terminate';
      readonly reason: Error;
    }
  | {
      /**
       * A crash report was written (by the actor's supervisor, or by the runtime for an actor without
       * one): the last messages it handled, oldest first; the last one crashed it when it crashed in
       * `receive`; none for a crash in `terminate`. Comes after the crash's `crashed` event (for a
       * `receive` crash), once the report is written.
       */
      readonly type: 'crash_report';
      readonly ref: Ref<never>;
      readonly messages: readonly unknown[];
    }
  | {
      readonly type: 'restarted';
      readonly ref: Ref<never>;
      readonly supervisor: Ref<never>;
      readonly childId: string;
      readonly restarts: number;
    }
  | {
      readonly type: 'dead_letter';
      readonly to: Ref<never>;
      readonly message: unknown;
      readonly reason: string;
    }
  | {
      readonly type: 'intensity_exceeded';
      readonly supervisor: Ref<never>;
      readonly childId: string;
      readonly maxRestarts: number;
      readonly withinMs: number;
    }
  | {
      /** A `call` settled: how long it took (system clock ms) and how it ended. */
      readonly type: 'call';
      readonly ref: Ref<never>;
      readonly requestType: string | undefined;
      readonly ms: number;
      readonly outcome: 'replied' | 'timeout' | 'exited' | 'refused';
    }
  | {
      /**
       * An actor's mailbox reached `depth` messages: emitted at 1,024 and at each doubling after it
       * (2,048, 4,096, ...), so a dashboard sees a mailbox that grows without one event per message.
       */
      readonly type: 'mailbox_depth';
      readonly ref: Ref<never>;
      readonly depth: number;
    }
  | {
      /** A node joined the cluster, or was seen again (see `@troupe/cluster`). */
      readonly type: 'nodeup';
      readonly node: string;
    }
  | {
      /** A node left (`left`), or stopped answering and was declared down (`noconnection`). */
      readonly type: 'nodedown';
      readonly node: string;
      readonly reason: 'left' | 'noconnection';
    }
  | {
      readonly type: 'upgraded';
      readonly ref: Ref<never>;
      readonly ok: boolean;
      readonly error?: Error;
    };

/** The `type`s of {@link SystemEvent}. */
export type SystemEventType = SystemEvent['type'];
