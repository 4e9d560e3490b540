/**
 * The chat as a cluster (PROTOCOL.md "Cluster"): what a process needs to find the rest.
 *
 * - A room has one *owner* actor in the cluster (owner.ts), holding the room's name in the cluster
 *   registry (a fenced lease): it numbers the room's messages, keeps its history and counts its
 *   members cluster-wide. Every process with members of the room runs a *relay* (relay.ts) that
 *   holds the local members and their sockets; the owner sends each message once to each relay,
 *   which writes it to the local sockets.
 * - A user's DM inbox has one owner too: the inbox host (postoffice.ts) of the process chosen by
 *   rendezvous hashing of the user name over the processes of the cluster. Every process's host is
 *   also its post office: it writes the DMs of its users to their local connections.
 *
 * Nothing here holds sockets: a socket never leaves its process; refs, names and JSON bytes do.
 */
import type { Cluster } from '@troupe/cluster';
import { key, type Ref } from 'troupe';
import type { DurableHistory } from './durable.js';
import type { HostMsg } from './postoffice.js';

/** The process group of every process's inbox host: the processes an inbox may live on. */
export const INBOX_HOSTS = key<HostMsg>('chat.inbox-hosts');

/** The cluster-registry names of room owners start so. */
export const OWNER_PREFIX = 'chat.room.';

/** The cluster-registry name of a room's owner. */
export function ownerName(room: string): string {
  return `${OWNER_PREFIX}${room}`;
}

/** What a clustered chat process keeps of its cluster. */
export interface ChatCluster {
  readonly cluster: Cluster;
  readonly node: string;
  /** Room histories and inboxes in JetStream. */
  readonly history: DurableHistory;
  /** Draining (SIGTERM): this process hands its rooms over and claims none. */
  draining: boolean;
}

/** FNV-1a, 32 bits: a fast, well-spread hash of a short string. */
function fnv1a(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // A final mix, so that names that differ in their last character spread over every node.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * Rendezvous (highest random weight) hashing: the member whose (name, node) weighs most. Every
 * process that sees the same members picks the same one, and when a member joins or leaves only the
 * names that it wins or held move.
 */
export function rendezvous<T extends { readonly node: string }>(name: string, members: readonly T[]): T | undefined {
  const base = fnv1a(name, 0x811c9dc5);
  let best: T | undefined;
  let bestWeight = -1;
  for (const m of members) {
    const w = fnv1a(m.node, base);
    if (w > bestWeight || (w === bestWeight && best !== undefined && m.node < best.node)) {
      best = m;
      bestWeight = w;
    }
  }
  return best;
}

/** The inbox host that owns `user`'s inbox, as this process sees the cluster now. */
export function inboxOwner(c: ChatCluster, user: string): Ref<HostMsg> | undefined {
  return rendezvous(user, c.cluster.groups.members(INBOX_HOSTS));
}

/** The nodes of the inbox hosts, sorted: two processes with the same view place inboxes alike. */
export function hostView(c: ChatCluster): string {
  return c.cluster.groups
    .members(INBOX_HOSTS)
    .map((r) => r.node)
    .sort()
    .join(',');
}
