/**
 * Actors on other nodes. The runtime knows a remote actor only as a `Ref` that a distribution layer
 * (`@troupe/cluster`) made, and hands every link, monitor and exit signal that names one to that
 * layer, which carries it across and reports back what happened over there (`DistributionHooks`).
 * A system that never joins a cluster has no layer: every check here is one `instanceof` that a
 * local ref passes first.
 */
import type { ExitReason } from '../exit-reason.js';
import type { MonitorRef } from './messages.js';
import type { Ref } from './ref.js';

/** Who a remote monitor tells: a local actor (a `DOWN` message), or a callback (`system.monitor`). */
export type RemoteWatcher = Ref<never> | ((reason: ExitReason, ref: Ref<never>) => void);

/**
 * What a distribution layer does for the refs it made, when an actor or the system names one. For
 * distribution layers such as `@troupe/cluster`, not for applications.
 */
export interface RemoteActors {
  /** True for a ref this layer made (and so carries). */
  owns(ref: Ref<never>): boolean;
  /** `local` links to `remote` (OTP's link/1): both end up linked, or `local` gets `noproc`. */
  link(local: Ref<never>, remote: Ref<never>): void;
  /** Removes the link both ways. */
  unlink(local: Ref<never>, remote: Ref<never>): void;
  /** Watches `remote`: the layer answers with `DistributionHooks.down` (or calls the callback) once. */
  monitor(id: MonitorRef, watcher: RemoteWatcher, remote: Ref<never>): void;
  /** Drops the monitor `id` of `remote`: no `DOWN` for it arrives from now on. */
  demonitor(id: MonitorRef, remote: Ref<never>): void;
  /** An exit signal (`'kill'`: an untrappable kill) from `from` (undefined: the system) to `remote`. */
  exit(from: Ref<never> | undefined, remote: Ref<never>, reason: ExitReason | 'kill'): void;
}

/** What a distribution layer tells the system about its node (see `system.attachDistribution`). */
export interface DistributionLayer {
  /** This node's name, unique in its cluster. */
  readonly node: string;
  /** The other live nodes. */
  nodes(): readonly string[];
  /** The layer's refs to actors on other nodes; without it, only local refs exist. */
  readonly remote?: RemoteActors;
}

/** How a distribution layer reports nodes and remote actors' doings to the system. */
export interface DistributionHooks {
  nodeUp(node: string): void;
  nodeDown(node: string, reason: 'left' | 'noconnection'): void;
  /**
   * An exit signal from the remote actor `from` reaches the local actor `to`, by OTP's rules (kills
   * it, becomes an `EXIT` message if it traps exits, or is ignored if `normal`); `'kill'` kills it
   * untrappably. False if `to` is not a live local actor.
   */
  exitSignal(to: Ref<never>, from: Ref<never>, reason: ExitReason | 'kill'): boolean;
  /**
   * The remote actor `remote` watched by monitor `id` of the local actor `watcher` is down: the
   * watcher gets its `DOWN` message, unless it dropped the monitor (`demonitor`, or a restart).
   */
  down(watcher: Ref<never>, id: MonitorRef, remote: Ref<never>, reason: ExitReason): void;
  /** A message that could not be delivered: it goes to the system's dead letters. */
  undelivered(to: Ref<never>, message: unknown, reason: 'dead' | 'noconnection'): void;
  /** The layer is gone: the system is `nonode@nohost` again. */
  detach(): void;
}
