/**
 * The event bus behind `system.subscribe`: every listener gets every `SystemEvent`. `observed` is
 * true while anyone listens, and every emit point in the runtime tests it first, so a system
 * nobody subscribes to builds no event objects at all.
 */
import type { SystemEvent } from '../actor/events.js';
import type { Logger } from '../logger.js';

/** @internal */
export class EventBus {
  observed = false;
  #listeners: Array<(e: SystemEvent) => void> = [];

  constructor(private readonly logger: Logger) {}

  subscribe(listener: (event: SystemEvent) => void): () => void {
    this.#listeners = [...this.#listeners, listener];
    this.observed = true;
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
      this.observed = this.#listeners.length > 0;
    };
  }

  emit(event: SystemEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch (e) {
        this.logger.error({ err: e }, 'event listener threw');
      }
    }
  }
}
