/**
 * `@troupe/cluster`: one Troupe actor system across processes and machines, on NATS. `joinCluster`
 * connects a system to a NATS server and names its node; membership keeps `system.nodes()` and the
 * `nodeup` / `nodedown` events current on every node; refs to actors on other nodes send, call,
 * link and monitor as local ones do.
 *
 * @module @troupe/cluster
 */
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection, NoRespondersError, RequestError } from '@nats-io/transport-node';
import type { ActorSystem } from 'troupe';
import { Distribution } from './distribution.js';
import { ProcessGroups } from './groups.js';
import { Membership } from './membership.js';
import { ClusterRegistry } from './registry.js';

export { RemoteRef } from './distribution.js';
export { type GroupName, ProcessGroups } from './groups.js';
export { RemoteError } from './reasons.js';
export { type ClusterName, ClusterRegistry, RegistryUnavailableError } from './registry.js';

/** Whether a request failed because NATS knows no subscriber for its subject. */
function noResponders(e: unknown): boolean {
  if (e instanceof NoRespondersError) return true;
  if (e instanceof RequestError) return e.isNoResponders();
  return false;
}

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
  /**
   * A node not heard from for this long is asked whether it still has a NATS connection, and
   * declared down at once if NATS says it has none (its process died). Between `heartbeatMs` and
   * `downAfterMs`; default two heartbeats (or `downAfterMs` less a heartbeat, if that is sooner).
   */
  readonly probeAfterMs?: number;
}

/** Counters of a node's cluster traffic since it joined. */
export interface ClusterStats {
  /** NATS messages this node sent for actors: messages, calls, replies, signals, group publishes. */
  readonly framesOut: number;
  /** Frames that arrived for this node. */
  readonly framesIn: number;
  /** Frames that could not be decoded (damaged, or not Troupe's). */
  readonly malformed: number;
  /** Frames for actors that were not (or no longer) here. */
  readonly undeliverable: number;
}

/** A system's membership of a cluster, from {@link joinCluster}. */
export interface Cluster {
  /** This node's name. */
  readonly node: string;
  /** The other live nodes. */
  nodes(): readonly string[];
  /** Whether the NATS connection is up; while it is down, remote sends and calls fail at once. */
  readonly connected: boolean;
  /** The cluster-wide registry of unique names. */
  readonly registry: ClusterRegistry;
  /** Process groups (OTP's `pg`): members cluster-wide, publish once per node. */
  readonly groups: ProcessGroups;
  /** Counters of this node's traffic, for metrics. */
  stats(): ClusterStats;
  /**
   * The node's NATS connection, for an application's own subjects, JetStream streams and KV
   * buckets beside the cluster's (`@troupe/cluster` uses subjects under the cluster's name and the
   * bucket `<cluster>-names`). Closed by {@link Cluster.leave}.
   */
  readonly connection: NatsConnection;
  /** Leaves: the other nodes see `nodedown` with `left` at once; the NATS connection closes. */
  leave(): Promise<void>;
}

/** Node and cluster names: one NATS subject token each, so no dots or wildcards. */
const NAME = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Joins `system` to a cluster through a NATS server. Resolves once connected; from then on
 * `system.node` is this node's name, `system.nodes()` lists the others, `system.subscribe`
 * listeners get `nodeup` / `nodedown` events, and refs to actors on other nodes (from messages,
 * the cluster registry or a process group) work as local ones do: `send`, `call`, links and
 * monitors.
 * @example
 * const cluster = await joinCluster(system, { servers: 'nats://127.0.0.1:4222', node: 'a' });
 * system.subscribe((e) => {
 *   if (e.type === 'nodedown') console.log(`${e.node} is down: ${e.reason}`);
 * });
 * await cluster.leave();
 */
export async function joinCluster(system: ActorSystem, options: ClusterOptions): Promise<Cluster> {
  const node = options.node ?? `${(process.env.HOSTNAME ?? 'host').replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}`;
  const cluster = options.cluster ?? 'troupe';
  const heartbeatMs = options.heartbeatMs ?? 250;
  const downAfterMs = options.downAfterMs ?? 1_000;
  if (!NAME.test(node)) throw new TypeError(`joinCluster: node must be 1-128 of A-Z a-z 0-9 _ -; got '${node}'`);
  if (!NAME.test(cluster))
    throw new TypeError(`joinCluster: cluster must be 1-128 of A-Z a-z 0-9 _ -; got '${cluster}'`);
  if (!(heartbeatMs > 0) || !Number.isFinite(heartbeatMs)) {
    throw new RangeError(`joinCluster: heartbeatMs must be a finite number > 0; got ${String(heartbeatMs)}`);
  }
  if (!(downAfterMs > heartbeatMs) || !Number.isFinite(downAfterMs)) {
    throw new RangeError(
      `joinCluster: downAfterMs must be finite and longer than heartbeatMs (${heartbeatMs}); got ${String(downAfterMs)}`,
    );
  }
  const probeAfterMs =
    options.probeAfterMs ?? Math.min(2 * heartbeatMs, Math.max(heartbeatMs, downAfterMs - heartbeatMs));
  if (!(probeAfterMs >= heartbeatMs && probeAfterMs <= downAfterMs) || !Number.isFinite(probeAfterMs)) {
    throw new RangeError(
      `joinCluster: probeAfterMs must be between heartbeatMs (${heartbeatMs}) and downAfterMs (${downAfterMs}); got ${String(probeAfterMs)}`,
    );
  }
  const servers = [...(typeof options.servers === 'string' ? [options.servers] : options.servers)];
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: node,
      // A cluster node keeps trying for as long as it runs: NATS coming back is the normal case.
      maxReconnectAttempts: -1,
      reconnectTimeWait: Math.min(1_000, downAfterMs),
    });
  } catch (e) {
    throw new Error(`joinCluster: cannot reach the NATS server at ${servers.join(', ')}: ${String(e)}`, { cause: e });
  }
  const boot = randomBytes(6).toString('hex');
  const dist = new Distribution(system, nc, { cluster, node, boot, downAfterMs });
  let membership: Membership | undefined;
  const hooks = system.attachDistribution({ node, nodes: () => membership?.nodes() ?? [], remote: dist });
  dist.start(hooks);
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
      answer: (subject) => {
        const sub = nc.subscribe(subject, {
          callback: (err, msg) => {
            if (err === null) msg.respond();
          },
        });
        return () => sub.unsubscribe();
      },
      ask: (subject, timeoutMs) => {
        if (!dist.connected) return Promise.resolve('unknown');
        return nc.request(subject, undefined, { timeout: timeoutMs }).then(
          () => 'here',
          (e: unknown) => (noResponders(e) ? 'gone' : 'unknown'),
        );
      },
    },
    { cluster, node, boot, heartbeatMs, downAfterMs, probeAfterMs, now: () => performance.now() },
    {
      up: (n, b, rejoined) => {
        dist.peerUp(n, b, rejoined);
        hooks.nodeUp(n);
      },
      down: (n, b, reason) => {
        dist.peerDown(n, b);
        registry.nodeDown(n, b);
        hooks.nodeDown(n, reason);
      },
    },
  );
  const m = membership;
  // Half of downAfterMs: this node stops answering for its names well before the others may free them.
  // And at once when its connection drops: the others may then be told by NATS that it has none
  // (probeAfterMs), and free them sooner.
  const current = () => dist.connected && m.lastEcho >= 0 && performance.now() - m.lastEcho <= downAfterMs / 2;
  const registry = new ClusterRegistry(system, nc, dist, { bucket: `${cluster}-names`, downAfterMs, current });
  const groups = new ProcessGroups(system, dist, cluster);
  membership.start();
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') dist.connected = false;
      else if (s.type === 'reconnect') {
        dist.connected = true;
        m.beat();
        groups.reconnected();
        void registry.reconnected();
      }
    }
  })().catch(() => {});
  try {
    await Promise.all([membership.echoed, registry.open()]);
  } catch (e) {
    membership.stop();
    hooks.detach();
    // Waits for the registry's open to settle: a watch still being made when the connection closes leaks its timer.
    await registry.close();
    await nc.close();
    throw new Error(
      `joinCluster: the cluster registry needs JetStream on the NATS server (nats-server -js): ${String(e)}`,
      { cause: e },
    );
  }
  let left = false;
  return {
    node,
    nodes: () => membership?.nodes() ?? [],
    get connected() {
      return dist.connected && !left;
    },
    registry,
    groups,
    connection: nc,
    stats: () => ({
      framesOut: dist.framesOut,
      framesIn: dist.framesIn,
      malformed: dist.malformed,
      undeliverable: dist.undeliverable,
    }),
    async leave() {
      if (left) return;
      left = true;
      await registry.close();
      groups.close();
      membership?.stop();
      dist.close();
      hooks.detach();
      await nc.drain().catch(() => nc.close());
    },
  };
}
