/**
 * Durable history, when the chat runs as a cluster: room histories and DM inboxes in one JetStream
 * stream on the cluster's NATS server, so that they, their ids and their epochs outlive the process
 * that served them. Each room and each inbox is a subject of its own (`<cluster>.h.r.<name>`,
 * `<cluster>.h.u.<user>`, names in base64url), and each stored record is a batch of consecutive
 * messages: `[epoch, lastId, [message, ...], origins]`, the messages as the JSON frames clients get,
 * and who sent each (`[token, seq, token, seq, ...]`: for a room's message its relay's token and
 * number for it, for a DM its post office's token and request number; `Origins` in store.ts).
 *
 * The single writer of a subject (the room's owner, the inbox's owner) writes with an expected last
 * subject sequence, so a writer that is no longer the owner cannot add to what a newer one wrote:
 * its write fails and it stops. One write is in flight per subject; what comes meanwhile goes in the
 * next record. The stream keeps the last `--history` records of each subject (discard old) for
 * `MAX_AGE_S`; the owners keep at most `--history-bytes` of them in memory.
 */
import { AckPolicy, DeliverPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
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
  /** Who sent each of `frames` (the relay's token and number), where the record says. */
  readonly origins: ReadonlyArray<Origin | undefined>;
  /** The stream sequence of each of `frames`' record. */
  readonly records: readonly number[];
}

/** A room message's sender: its relay's token and that relay's number for it. */
export type Origin = readonly [token: string, seq: number];

/** A write that lost to a newer owner's (the expected last sequence did not hold). */
export class FencedError extends Error {
  override readonly name = 'FencedError';
}

/** A write that got no answer (in time, or before the connection closed): it may have been stored. */
/** No stream took a write (NATS answered 503: no responders on the subject). */
export class NoStreamError extends Error {
  override readonly name = 'NoStreamError';
}

export class UnansweredWriteError extends Error {
  override readonly name = 'UnansweredWriteError';
}

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']]');

/** How long a write waits for JetStream's answer before it is failed (it may still have been stored). */
const WRITE_TIMEOUT_MS = 5_000;

interface Waiting {
  readonly resolve: (seq: number) => void;
  readonly reject: (e: Error) => void;
  readonly at: number;
}

/**
 * JetStream publishes with one reply subscription for all of them. (nats.js's `js.publish` is a
 * request that makes two Error objects, with their stack traces, per call, to have them ready: a
 * tenth of a busy chat process's time went there.) A publish with a reply subject is what
 * `js.publish` sends too; the answer is a PubAck, an API error, or a 503 when no stream listens.
 */
class Publisher {
  readonly #nc: NatsConnection;
  readonly #inbox: string;
  readonly #sub: Subscription;
  readonly #waiting = new Map<number, Waiting>();
  readonly #sweep: ReturnType<typeof setInterval>;
  #seq = 0;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    this.#inbox = createInbox();
    this.#sub = nc.subscribe(`${this.#inbox}.*`, {
      callback: (err, m) => {
        if (err === null) this.#answer(m);
      },
    });
    this.#sweep = setInterval(() => {
      const old = performance.now() - WRITE_TIMEOUT_MS;
      for (const [k, w] of this.#waiting) {
        if (w.at > old) break;
        this.#waiting.delete(k);
        w.reject(new UnansweredWriteError(`JetStream did not answer a write within ${WRITE_TIMEOUT_MS} ms`));
      }
    }, 1_000);
    this.#sweep.unref();
  }

  publish(subject: string, data: Uint8Array, expect: number): Promise<number> {
    const h = headers();
    h.set('Nats-Expected-Last-Subject-Sequence', String(expect));
    const k = ++this.#seq;
    return new Promise<number>((resolve, reject) => {
      this.#waiting.set(k, { resolve, reject, at: performance.now() });
      try {
        this.#nc.publish(subject, data, { reply: `${this.#inbox}.${k}`, headers: h });
      } catch (e) {
        this.#waiting.delete(k);
        reject(e as Error);
      }
    });
  }

  #answer(m: Msg): void {
    const k = Number(m.subject.slice(this.#inbox.length + 1));
    const w = this.#waiting.get(k);
    if (w === undefined) return;
    this.#waiting.delete(k);
    if (m.headers?.code === 503) {
      w.reject(new NoStreamError('no JetStream stream answered (503)'));
      return;
    }
    let ack: { seq?: number; error?: { err_code?: number; description?: string } };
    try {
      ack = m.json();
    } catch (e) {
      w.reject(new UnansweredWriteError(`an answer that is not JSON: ${String(e)}`));
      return;
    }
    if (ack.error !== undefined) {
      const why = `${ack.error.description ?? 'JetStream error'} (${ack.error.err_code ?? '?'})`;
      w.reject(ack.error.err_code === 10071 ? new FencedError(why) : new Error(why));
    } else w.resolve(ack.seq as number);
  }

  close(): void {
    clearInterval(this.#sweep);
    this.#sub.unsubscribe();
    for (const w of this.#waiting.values()) w.reject(new UnansweredWriteError('closed'));
    this.#waiting.clear();
  }
}

/** The stream's settings, from the cluster's name and the records kept per subject. */
function streamConfig(name: string, history: number) {
  return {
    name: `${name}-history`,
    subjects: [`${name}.h.>`],
    max_msgs_per_subject: history,
    max_age: MAX_AGE_S * 1_000_000_000,
  };
}

/** The epoch of a subject with no record yet: from the stream's creation, so every process agrees. */
function epochOf(info: { readonly created: string }): string {
  return `s${Date.parse(info.created).toString(36)}`;
}

export class DurableHistory {
  readonly #jsm: JetStreamManager;
  readonly #js: ReturnType<typeof jetstream>;
  readonly #publisher: Publisher;
  readonly #config: ReturnType<typeof streamConfig>;
  readonly #stream: string;
  readonly #prefix: string;
  #freshEpoch: string;
  /** A look at the stream (made again if it is gone) under way: the others wait for it. */
  #ensuring: Promise<void> | undefined = undefined;
  #closed = false;

  private constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    config: ReturnType<typeof streamConfig>,
    prefix: string,
    epoch: string,
  ) {
    this.#jsm = jsm;
    this.#js = jetstream(nc);
    this.#publisher = new Publisher(nc);
    this.#config = config;
    this.#stream = config.name;
    this.#prefix = prefix;
    this.#freshEpoch = epoch;
    // A NATS server that comes back may have lost its store (a new server, a wiped disk): the
    // stream is made again at once, not only when a read or write finds it missing.
    void (async () => {
      for await (const st of nc.status()) if (st.type === 'reconnect' && !this.#closed) void this.ensure();
    })().catch(() => {});
  }

  /** Opens (or makes) the stream of the chat cluster `name`, keeping `history` records per subject. */
  static async open(cluster: Cluster, name: string, history: number): Promise<DurableHistory> {
    const nc = cluster.connection;
    const jsm = await jetstreamManager(nc);
    const config = streamConfig(name, history);
    const info = await infoOrAdd(jsm, config);
    return new DurableHistory(nc, jsm, config, `${name}.h`, epochOf(info));
  }

  /**
   * The epoch of a subject that has no record yet: the stream's, so every process agrees on it. A
   * stream made again (its server lost it) has a new one: what was in the old is gone, and rooms
   * and inboxes start new epochs (PROTOCOL.md).
   */
  get freshEpoch(): string {
    return this.#freshEpoch;
  }

  /**
   * Makes the stream if it is gone (NATS came back without its store) and takes its epoch. Looks
   * are shared: one at a time. Rejects if JetStream does not answer (the caller tries again later).
   */
  ensure(): Promise<void> {
    this.#ensuring ??= infoOrAdd(this.#jsm, this.#config)
      .then((info) => {
        this.#freshEpoch = epochOf(info);
      })
      .finally(() => {
        this.#ensuring = undefined;
      });
    return this.#ensuring;
  }

  #subject(kind: Kind, name: string): string {
    return `${this.#prefix}.${kind}.${Buffer.from(name, 'utf8').toString('base64url')}`;
  }

  /**
   * Its stored state, or undefined if nothing is stored of it. `withFrames: false` reads the last
   * record only. A read that fails looks at the stream (made again if it is gone) and tries once more.
   */
  async load(kind: Kind, name: string, withFrames = true): Promise<Stored | undefined> {
    try {
      return await this.#load(kind, name, withFrames);
    } catch (e) {
      await this.ensure().catch(() => {
        throw e;
      });
      return this.#load(kind, name, withFrames);
    }
  }

  async #load(kind: Kind, name: string, withFrames: boolean): Promise<Stored | undefined> {
    const subject = this.#subject(kind, name);
    const last = await this.#jsm.streams.getMessage(this.#stream, { last_by_subj: subject });
    if (last === null) return undefined;
    const [epoch, lastId] = JSON.parse(last.string()) as [string, number, unknown[]];
    if (!withFrames) return { epoch, lastId, seq: last.seq, frames: [], origins: [], records: [] };
    const frames: Buffer[] = [];
    const origins: Array<Origin | undefined> = [];
    const records: number[] = [];
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
      let reached = 0;
      for await (const m of batch) {
        reached = m.seq;
        const [e, , msgs, from] = JSON.parse(m.string()) as [string, number, unknown[], unknown];
        // Only the records of the last epoch count (a subject does not change epochs, but be sure).
        if (e !== epoch) {
          if (reached >= last.seq) break;
          continue;
        }
        const known = Array.isArray(from) && from.length === msgs.length * 2;
        for (let i = 0; i < msgs.length; i++) {
          frames.push(Buffer.from(JSON.stringify(msgs[i]), 'utf8'));
          const token = known ? from[2 * i] : undefined;
          const seq = known ? from[2 * i + 1] : undefined;
          origins.push(typeof token === 'string' && typeof seq === 'number' ? [token, seq] : undefined);
          records.push(m.seq);
        }
        if (m.seq >= last.seq) break;
      }
      // A fetch that ended early (it expired) would number what it read wrongly: read again later.
      if (reached < last.seq) throw new Error(`the read of ${subject} stopped at ${reached} of ${last.seq}`);
    } finally {
      await this.#jsm.consumers.delete(this.#stream, ci.name).catch(() => {});
    }
    return { epoch, lastId, seq: last.seq, frames, origins, records };
  }

  /**
   * Stores `frames` (ids `lastId - frames.length + 1 .. lastId`) as one record, if the subject's
   * last record is still `expect` (0: none). Resolves with the record's sequence; rejects with
   * `FencedError` when another writer got there first. `origins`: who sent each of them.
   */
  append(
    kind: Kind,
    name: string,
    epoch: string,
    lastId: number,
    frames: readonly Buffer[],
    expect: number,
    origins?: readonly Origin[],
  ): Promise<number> {
    const parts: Buffer[] = [Buffer.from(`[${JSON.stringify(epoch)},${lastId},[`, 'utf8')];
    for (let i = 0; i < frames.length; i++) {
      if (i > 0) parts.push(COMMA);
      parts.push(frames[i] as Buffer);
    }
    parts.push(origins === undefined ? CLOSE : Buffer.from(`],${JSON.stringify(origins.flat())}]`, 'utf8'));
    const written = this.#publisher.publish(this.#subject(kind, name), Buffer.concat(parts), expect);
    // No stream took it (gone with its server's store): made again, for the writer's next try.
    written.catch((e: unknown) => {
      if (e instanceof NoStreamError) void this.ensure().catch(() => {});
    });
    return written;
  }

  /** Fails the writes still waiting (the process is leaving the cluster). */
  close(): void {
    this.#closed = true;
    this.#publisher.close();
  }
}

/** The stream's info, the stream made first if there is none. */
async function infoOrAdd(
  jsm: JetStreamManager,
  config: ReturnType<typeof streamConfig>,
): Promise<Awaited<ReturnType<JetStreamManager['streams']['info']>>> {
  try {
    return await jsm.streams.info(config.name);
  } catch {
    // Two processes that start together (or see the stream gone together) both try; the second
    // finds the first's.
    return await jsm.streams.add(config).catch(() => jsm.streams.info(config.name));
  }
}
