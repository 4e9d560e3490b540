/**
 * A stream of room messages from several senders, each keeping a few messages in flight, and the
 * bookkeeping to check that every member saw every id exactly once, in order: the load under which
 * the fault and upgrade tests break things on purpose.
 */
import assert from 'node:assert/strict';
import type { ChatClient, Frame } from './client.js';

export interface StreamOptions {
  readonly room: string;
  /** Messages per sender. */
  readonly perSender: number;
  /** Messages each sender keeps in flight (sent, not yet acked). */
  readonly window: number;
  /**
   * Runs once, when this many acks (over all senders) have arrived; the sender that got that ack
   * waits for it while the others go on, so messages are in flight on both sides of it.
   */
  readonly at?: { readonly acks: number; readonly run: () => Promise<void> };
}

/** What the stream sent: every ref with the id its ack gave, and the acks counted before `at` ran. */
export interface StreamResult {
  readonly ackIds: Map<string, number>;
  readonly acksBeforeAt: number;
}

/** Content and ref of each message: `room:sN/i`, so each id can be traced to its ack. */
export async function stream(senders: readonly ChatClient[], o: StreamOptions): Promise<StreamResult> {
  const ackIds = new Map<string, number>();
  let acks = 0;
  let acksBeforeAt = -1;
  let atDone: Promise<void> | undefined;
  await Promise.all(
    senders.map(async (c, s) => {
      let sent = 0;
      let acked = 0;
      const prefix = `${o.room}:s${s}/`;
      const sendOne = () => {
        const ref = `${prefix}${sent++}`;
        c.send({ type: 'message', room: o.room, content: ref, ref });
      };
      while (sent < Math.min(o.window, o.perSender)) sendOne();
      while (acked < o.perSender) {
        const ack = await c.next((f) => typeof f.ref === 'string' && f.ref.startsWith(prefix), `an ack of ${prefix}`);
        assert.equal(ack.type, 'ack', `no error under load: ${JSON.stringify(ack)}`);
        ackIds.set(ack.ref as string, ack.id as number);
        acked++;
        acks++;
        if (o.at !== undefined && acks === o.at.acks) {
          acksBeforeAt = acks;
          atDone = o.at.run();
          await atDone;
        }
        if (sent < o.perSender) sendOne();
      }
    }),
  );
  if (atDone !== undefined) await atDone;
  return { ackIds, acksBeforeAt };
}

/**
 * Checks one member's view: it got every message of the stream exactly once, in id order, the ids
 * contiguous from `firstId`, and each id carries the content its ack named.
 */
export async function assertSawAll(
  member: ChatClient,
  room: string,
  result: StreamResult,
  firstId: number,
): Promise<void> {
  const total = result.ackIds.size;
  const mine = (f: Frame) => f.type === 'message' && f.room === room && (f.id as number) >= firstId;
  await member.until(
    () => (member.all.filter((r) => mine(r.frame)).length >= total ? true : undefined),
    `${total} messages of ${room}`,
  );
  await member.sync(); // anything doubled would be here by now
  const seen = member.all.map((r) => r.frame).filter(mine);
  assert.equal(seen.length, total, `${member.label}: each message once`);
  assert.deepEqual(
    seen.map((f) => f.id),
    Array.from({ length: total }, (_, i) => firstId + i),
    `${member.label}: ids in order, no gap, no double`,
  );
  const byId = new Map([...result.ackIds].map(([ref, id]) => [id, ref]));
  assert.equal(byId.size, total, 'every ack has its own id');
  for (const f of seen) assert.equal(f.content, byId.get(f.id as number), `id ${f.id} is the message acked with it`);
}
