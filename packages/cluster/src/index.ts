/**
 * `@troupe/cluster`: one Troupe actor system across processes and machines, on NATS. This first
 * part is membership: `joinCluster` connects a system to a NATS server, names its node, and keeps
 * `system.nodes()` and the `nodeup` / `nodedown` events of `system.subscribe` current on every
 * node. Remote refs, links and monitors across nodes, a cluster registry and process groups build
 * on it.
 */
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { ActorSystem } from 'troupe';
import { Membership } from './membership.js';

/** Options of {@link joinCluster}. Only `servers` is required. */
export interface ClusterOptions {
  /** The NATS server(s), e.g. `nats://127.0.0.1:4222`. */
  readonly servers: string | readonly string[];
  /** This node's name, unique in the cluster. Default: the host name and the process id. */
  readonly node?: string;
  /** Nodes with the same `cluster` see each other; others share the NATS server unseen. Default `troupe`. */
  readonly cluster?: string;
  /** How often this node says it is alive. Default 250 ms. */
  readonly heartbeatMs?: number;
  /** A node not heard from for this long is declared down. Default 1,000 ms (four heartbeats). */
  readonly downAfterMs?: number;
}

/** A system's membership of a cluster, from {@link joinCluster}. */
export interface Cluster {
  /** This node's name. */
  readonly node: string;
  /** The other live nodes. */
  nodes(): readonly string[];
  /** Leaves: the other nodes see `nodedown` with `left` at once; the NATS connection closes. */
  leave(): Promise<void>;
}

const NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Joins `system` to a cluster through a NATS server. Resolves once connected; from then on
 * `system.node` is this node's name, `system.nodes()` lists the others, and `system.subscribe`
 * listeners get `nodeup` / `nodedown` events.
 * @example
 * const cluster = await joinCluster(system, { servers: 'nats://127.0.0.1:4222', node: 'a' });
 * system.subscribe((e) => {
 *   if (e.type === 'nodedown') console.log(`${e.node} is down: ${e.reason}`);
 * });
 * await cluster.leave();
 */
export async function joinCluster(system: ActorSystem, options: ClusterOptions): Promise<Cluster> {
  const node = options.node ?? `${(process.env.HOSTNAME ?? 'host').replace(/[^A-Za-z0-9_.-]/g, '-')}-${process.pid}`;
  const cluster = options.cluster ?? 'troupe';
  const heartbeatMs = options.heartbeatMs ?? 250;
  const downAfterMs = options.downAfterMs ?? 1_000;
  if (!NAME.test(node)) throw new TypeError(`joinCluster: node must be 1-128 of A-Z a-z 0-9 _ . -; got '${node}'`);
  if (!NAME.test(cluster))
    throw new TypeError(`joinCluster: cluster must be 1-128 of A-Z a-z 0-9 _ . -; got '${cluster}'`);
  if (!(heartbeatMs > 0) || !Number.isFinite(heartbeatMs)) {
    throw new RangeError(`joinCluster: heartbeatMs must be a finite number > 0; got ${String(heartbeatMs)}`);
  }
  if (!(downAfterMs > heartbeatMs) || !Number.isFinite(downAfterMs)) {
    throw new RangeError(
      `joinCluster: downAfterMs must be finite and longer than heartbeatMs (${heartbeatMs}); got ${String(downAfterMs)}`,
    );
  }
  const nc: NatsConnection = await connect({
    servers: [...(typeof options.servers === 'string' ? [options.servers] : options.servers)],
    name: node,
  });
  let membership: Membership | undefined;
  const hooks = system.attachDistribution({ node, nodes: () => membership?.nodes() ?? [] });
  membership = new Membership(
    {
      publish: (subject, data) => nc.publish(subject, data),
      subscribe: (subject, onMessage) => {
        const sub = nc.subscribe(subject, {
          callback: (err, msg) => {
            if (err === null) onMessage(msg.data);
          },
        });
        return () => sub.unsubscribe();
      },
    },
    { cluster, node, boot: randomUUID(), heartbeatMs, downAfterMs, now: () => performance.now() },
    { up: (n) => hooks.nodeUp(n), down: (n, reason) => hooks.nodeDown(n, reason) },
  );
  membership.start();
  let left = false;
  return {
    node,
    nodes: () => membership?.nodes() ?? [],
    async leave() {
      if (left) return;
      left = true;
      membership?.stop();
      hooks.detach();
      await nc.drain().catch(() => nc.close());
    },
  };
}
