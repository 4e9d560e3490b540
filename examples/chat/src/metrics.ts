/**
 * `/metrics` in Prometheus text format: connections, rooms, frames and deliveries, errors, slow
 * consumers, actor restarts, mailbox depths, dead letters. Read from counters the actors keep and
 * from the runtime's introspection at scrape time, so the hot path only increments numbers.
 */
import type { ActorSystem } from 'troupe';
import type { World } from './world.js';

function line(out: string[], name: string, type: 'counter' | 'gauge', help: string, value: number): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
}

export function renderMetrics(world: World, system: ActorSystem): string {
  const c = world.counters;
  const out: string[] = [];
  const stats = system.stats();
  line(out, 'chat_connections', 'gauge', 'Open WebSocket connections.', world.users.size);
  line(out, 'chat_rooms', 'gauge', 'Rooms running.', world.rooms.size);
  line(out, 'chat_frames_in_total', 'counter', 'Client frames received.', c.framesIn);
  line(out, 'chat_messages_in_total', 'counter', 'Room messages received.', c.messagesIn);
  line(out, 'chat_dms_in_total', 'counter', 'Direct messages received.', c.dmsIn);
  line(out, 'chat_deliveries_total', 'counter', 'Room messages and DMs written to recipients.', c.deliveries);
  line(out, 'chat_gaps_total', 'counter', 'Gap frames sent to slow consumers.', c.gaps);
  line(out, 'chat_dropped_for_slow_total', 'counter', 'Room messages not sent to a slow consumer.', c.droppedForSlow);
  line(out, 'chat_slow_closed_total', 'counter', 'Connections closed with 1013.', c.slowClosed);
  line(out, 'chat_rate_limited_total', 'counter', 'rate_limited answers.', c.rateLimited);
  line(out, 'chat_abuse_closed_total', 'counter', 'Connections closed with 1008.', c.abuseClosed);
  line(out, 'chat_errors_total', 'counter', 'Error frames sent.', c.errors);
  line(out, 'troupe_actors', 'gauge', 'Live actors.', stats.actors);
  line(out, 'troupe_dead_letters_total', 'counter', 'Messages that could not be delivered.', stats.deadLetters);
  line(
    out,
    'troupe_scheduler_yields_total',
    'counter',
    'Times the scheduler yielded to the event loop with work left.',
    stats.yields,
  );
  return `${out.join('\n')}\n`;
}
