/**
 * Durable history, when the chat runs as a cluster: room histories and DM inboxes in one JetStream
 * stream on the cluster's NATS server, so that they, their ids and their epochs outlive the process
 * that served them. Each room and each inbox is a subject of its own (`<cluster>.h.r.<name>`,
 * `<cluster>.h.u.<user>`, names in base64url), and each stored record is a batch of consecutive
 * messages: `[epoch, lastId, [message, ...]]`, the messages as the JSON frames clients get.
 *
 * The single writer of a subject (the room's owner, the inbox's owner) writes with an expected last
 * subject sequence, so a writer that is no longer the owner cannot add to what a newer one wrote:
 * its write fails and it stops. One write is in flight per subject; what comes meanwhile goes in the
 * next record. The stream keeps the last `--history` records of each subject (discard old) for
 * `MAX_AGE_S`; the owners keep at most `--history-bytes` of them in memory.
 */
import { AckPolicy, DeliverPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Cluster } from '@troupe/cluster';

/** How long the stream keeps a record: a week after it was written. */
export const MAX_AGE_S = 7 * 24 * 3600;

export type Kind = 'r' | 'u';

/** What is stored of one room or inbox: its epoch, its last id, and its last messages (JSON). */
export interface Stored {
  readonly epoch: string;
  readonly lastId: number;
  /** The stream sequence of its last record: the next write expects it. */
  readonly seq: number;
  /** Oldest first; the last has id `lastId`. */
  readonly frames: readonly Buffer[];
}

/** A write that lost to a newer owner's (the expected last sequence did not hold). */
export class FencedError extends Error {
  override readonly name = 'FencedError';
}

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']]');

export class DurableHistory {
  readonly #jsm: JetStreamManager;
  readonly #js: ReturnType<typeof jetstream>;
  readonly #stream: string;
  readonly #prefix: string;
  /** The epoch of a subject that has no record yet: the stream's, so every process agrees on it. */
  readonly freshEpoch: string;

  private constructor(
    jsm: JetStreamManager,
    js: ReturnType<typeof jetstream>,
    stream: string,
    prefix: string,
    epoch: string,
  ) {
    this.#jsm = jsm;
    this.#js = js;
    this.#stream = stream;
    this.#prefix = prefix;
    this.freshEpoch = epoch;
  }

  /** Opens (or makes) the stream of the chat cluster `name`, keeping `history` records per subject. */
  static async open(cluster: Cluster, name: string, history: number): Promise<DurableHistory> {
    const nc = cluster.connection;
    const jsm = await jetstreamManager(nc);
    const stream = `${name}-history`;
    const config = {
      name: stream,
      subjects: [`${name}.h.>`],
      max_msgs_per_subject: history,
      max_age: MAX_AGE_S * 1_000_000_000,
    };
    let info: Awaited<ReturnType<JetStreamManager['streams']['info']>>;
    try {
      info = await jsm.streams.info(stream);
    } catch {
      // Two processes that start together both try; the second finds the first's.
      info = await jsm.streams.add(config).catch(() => jsm.streams.info(stream));
    }
    const created = Date.parse(info.created);
    return new DurableHistory(jsm, jetstream(nc), stream, `${name}.h`, `s${created.toString(36)}`);
  }

  #subject(kind: Kind, name: string): string {
    return `${this.#prefix}.${kind}.${Buffer.from(name, 'utf8').toString('base64url')}`;
  }

  /** Its stored state, or undefined if nothing is stored of it. `withFrames: false` reads the last record only. */
  async load(kind: Kind, name: string, withFrames = true): Promise<Stored | undefined> {
    const subject = this.#subject(kind, name);
    const last = await this.#jsm.streams.getMessage(this.#stream, { last_by_subj: subject });
    if (last === null) return undefined;
    const [epoch, lastId] = JSON.parse(last.string()) as [string, number, unknown[]];
    if (!withFrames) return { epoch, lastId, seq: last.seq, frames: [] };
    const frames: Buffer[] = [];
    // An ephemeral consumer of this subject alone, read once to the end.
    const ci = await this.#jsm.consumers.add(this.#stream, {
      filter_subject: subject,
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      inactive_threshold: 10_000_000_000,
    });
    try {
      const consumer = await this.#js.consumers.get(this.#stream, ci.name);
      const batch = await consumer.fetch({ max_messages: ci.num_pending + 1, expires: 5_000 });
      for await (const m of batch) {
        const [e, , msgs] = JSON.parse(m.string()) as [string, number, unknown[]];
        // Only the records of the last epoch count (a subject does not change epochs, but be sure).
        if (e === epoch) for (const f of msgs) frames.push(Buffer.from(JSON.stringify(f), 'utf8'));
        if (m.seq >= last.seq) break;
      }
    } finally {
      await this.#jsm.consumers.delete(this.#stream, ci.name).catch(() => {});
    }
    return { epoch, lastId, seq: last.seq, frames };
  }

  /**
   * Stores `frames` (ids `lastId - frames.length + 1 .. lastId`) as one record, if the subject's
   * last record is still `expect` (0: none). Resolves with the record's sequence; rejects with
   * `FencedError` when another writer got there first.
   */
  async append(
    kind: Kind,
    name: string,
    epoch: string,
    lastId: number,
    frames: readonly Buffer[],
    expect: number,
  ): Promise<number> {
    const parts: Buffer[] = [Buffer.from(`[${JSON.stringify(epoch)},${lastId},[`, 'utf8')];
    for (let i = 0; i < frames.length; i++) {
      if (i > 0) parts.push(COMMA);
      parts.push(frames[i] as Buffer);
    }
    parts.push(CLOSE);
    try {
      const ack = await this.#js.publish(this.#subject(kind, name), Buffer.concat(parts), {
        expect: { lastSubjectSequence: expect },
      });
      return ack.seq;
    } catch (e) {
      if (/wrong last sequence/i.test(String((e as Error).message)))
        throw new FencedError(String((e as Error).message));
      throw e;
    }
  }
}
