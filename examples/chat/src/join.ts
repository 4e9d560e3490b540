/**
 * What only a clustered chat runs: joining the cluster, its durable history, and the behaviours of
 * the relays, room owners and inbox host. `startChat` imports this module only with `--cluster`, so
 * a single process loads no NATS client, JetStream or cluster code: 4 MB less JS heap once the
 * chat's modules are loaded (11.2 against 15.3 MB), and a young generation that starts at 8 MB, not
 * 16 (bench/results/2026-12-03.md).
 */
import { joinCluster } from '@troupe/cluster';
import type { ActorSystem } from 'troupe';
import type { ChatCluster } from './clustered.js';
import { DurableHistory } from './durable.js';
import type { ChatOptions } from './options.js';
import { owner } from './owner.js';
import { inboxHost } from './postoffice.js';
import { relay } from './relay.js';

export { inboxHost, owner, relay };

/** Joins the cluster at `options.cluster` and opens its history; leaves again if it cannot be opened. */
export async function joinChatCluster(system: ActorSystem, options: ChatOptions): Promise<ChatCluster> {
  const c = await joinCluster(system, {
    servers: options.cluster ?? [],
    node: options.node,
    cluster: options.clusterName,
    heartbeatMs: options.heartbeatMs,
    downAfterMs: options.downAfterMs,
  });
  try {
    const history = await DurableHistory.open(c, options.clusterName, options.history);
    return { cluster: c, node: c.node, history, draining: false };
  } catch (e) {
    await c.leave();
    throw new Error(`the chat's history needs JetStream on the NATS server (nats-server -js): ${String(e)}`, {
      cause: e,
    });
  }
}
