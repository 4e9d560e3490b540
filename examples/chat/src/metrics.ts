/**
 * `/metrics` in Prometheus text format, with prom-client: connections, rooms, frames, messages and
 * deliveries, the room fan-out latency histogram, gaps and drops for slow consumers, buffered bytes,
 * errors and rate limiting, the runtime's metrics from `@troupe/uws/metrics` (call latency, actor
 * restarts and crashes, dead letters, mailbox depths, the scheduler), the mailbox sum and maximum,
 * and Node's own metrics (event loop lag among them). Counters the actors keep
 * as plain numbers are read at scrape time, so the hot path only increments numbers; each chat
 * instance has its own registry. A clustered chat adds the cluster's gauges (bus up, processes,
 * inbox hosts, rooms owned here) and its bus counters.
 */

import { actorMetrics } from '@troupe/uws/metrics';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ActorSystem } from 'troupe';
import { hostView, OWNER_PREFIX } from './clustered.js';
import type { Counters, World } from './world.js';

export interface ChatMetrics {
  readonly registry: Registry;
  /** Seconds a room spent writing one broadcast to its members. */
  readonly fanout: Histogram;
  /** Stops listening to the runtime's events (and removes the `troupe_` metrics from the registry). */
  close(): void;
}

const COUNTERS: ReadonlyArray<[keyof Counters, string, string]> = [
  ['framesIn', 'chat_frames_in_total', 'Client frames received.'],
  ['messagesIn', 'chat_messages_in_total', 'Room messages received.'],
  ['dmsIn', 'chat_dms_in_total', 'Direct messages received.'],
  ['deliveries', 'chat_deliveries_total', 'Room messages and DMs written to recipients.'],
  ['gaps', 'chat_gaps_total', 'Gap frames sent to slow consumers.'],
  ['droppedForSlow', 'chat_dropped_for_slow_total', 'Room messages not written to a slow consumer.'],
  ['slowClosed', 'chat_slow_closed_total', 'Connections closed with 1013 (slow consumer).'],
  ['rateLimited', 'chat_rate_limited_total', 'rate_limited answers.'],
  ['abuseClosed', 'chat_abuse_closed_total', 'Connections closed with 1008 (sustained abuse).'],
  ['errors', 'chat_errors_total', 'Error frames sent.'],
  ['roomCrashes', 'chat_room_crashes_injected_total', 'Room crashes injected through /_test/crash.'],
  ['shed', 'chat_shed_total', 'Room messages refused with rate_limited because the server was behind.'],
  [
    'acceptPaused',
    'chat_accept_paused_total',
    'Times the server stopped accepting connections because the process ran out of file descriptors.',
  ],
];

export function createMetrics(world: World, system: ActorSystem): ChatMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // A counter set from a plain number at scrape time.
  const counter = (name: string, help: string, value: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(value());
      },
    });
  for (const [key, name, help] of COUNTERS) counter(name, help, () => world.counters[key]);
  new Gauge({
    name: 'chat_connections',
    help: 'Open WebSocket connections.',
    registers: [registry],
    collect() {
      this.set(world.users.size);
    },
  });
  new Gauge({
    name: 'chat_rooms',
    help: 'Rooms running.',
    registers: [registry],
    collect() {
      this.set(world.rooms.size);
    },
  });
  new Gauge({
    name: 'chat_buffered_bytes',
    help: 'Bytes waiting to be written to clients, over all connections.',
    registers: [registry],
    collect() {
      let sum = 0;
      for (const user of world.users.keys()) for (const s of world.users.lookup(user).values()) sum += s.bufferedAmount;
      this.set(sum);
    },
  });
  const fanout = new Histogram({
    name: 'chat_fanout_seconds',
    help: 'Time a room spends writing one broadcast to all its members.',
    registers: [registry],
    buckets: [0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.05],
  });
  const cluster = world.cluster;
  if (cluster !== undefined) {
    const gauge = (name: string, help: string, value: () => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(value());
        },
      });
    gauge('chat_cluster_up', '1 while this process is connected to the cluster bus (NATS).', () =>
      cluster.cluster.connected ? 1 : 0,
    );
    gauge(
      'chat_cluster_nodes',
      'Chat processes in the cluster, this one included.',
      () => cluster.cluster.nodes().length + 1,
    );
    gauge(
      'chat_cluster_inbox_hosts',
      'Processes this one sees as inbox hosts (DM inboxes are placed over them).',
      () =>
        hostView(cluster)
          .split(',')
          .filter((x) => x !== '').length,
    );
    gauge(
      'chat_cluster_owned_rooms',
      'Rooms whose owner (the order of their messages) is in this process.',
      () => cluster.cluster.registry.held().filter((n) => n.startsWith(OWNER_PREFIX)).length,
    );
    const bus = (name: string, help: string, key: keyof ReturnType<typeof cluster.cluster.stats>) =>
      counter(name, help, () => cluster.cluster.stats()[key]);
    bus(
      'chat_bus_frames_out_total',
      'NATS messages this process sent for actors (room messages, DMs, signals).',
      'framesOut',
    );
    bus('chat_bus_frames_in_total', 'NATS messages that arrived for actors of this process.', 'framesIn');
    bus('chat_bus_malformed_total', 'NATS messages that could not be decoded.', 'malformed');
    bus('chat_bus_undeliverable_total', 'NATS messages for actors that were not (or no longer) here.', 'undeliverable');
  }
  // The runtime's own metrics (calls, crashes, restarts, dead letters, mailboxes, scheduler).
  const runtime = actorMetrics(system, { registry });
  const depth = new Gauge({
    name: 'troupe_mailbox_messages',
    help: 'Messages waiting in mailboxes: the sum over all actors, and the deepest one.',
    labelNames: ['stat'],
    registers: [registry],
    collect() {
      let sum = 0;
      let max = 0;
      const walk = (nodes: ReturnType<ActorSystem['inspect']>['roots']) => {
        for (const n of nodes) {
          sum += n.mailbox;
          if (n.mailbox > max) max = n.mailbox;
          walk(n.children);
        }
      };
      walk(system.inspect().roots);
      depth.set({ stat: 'sum' }, sum);
      depth.set({ stat: 'max' }, max);
    },
  });
  return { registry, fanout, close: () => runtime.close() };
}
