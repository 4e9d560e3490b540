/**
 * The system's event stream, for telemetry: spawned, exited, crashed, restarted, dead letters,
 * restart intensity exceeded, upgraded. Subscribing is optional; with no subscriber, each emit point
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
      readonly type: 'upgraded';
      readonly ref: Ref<never>;
      readonly ok: boolean;
      readonly error?: Error;
    };

/** The `type`s of {@link SystemEvent}. */
export type SystemEventType = SystemEvent['type'];
