/**
 * DMs across a cluster under a burst (PROTOCOL.md "DM inbox", "Cluster"): three chat servers, users
 * spread over them, every user sending DMs to random others at once. Every acknowledged DM reaches
 * its recipient live, once, and each recipient's ids run 1, 2, 3 ... with no hole.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ChatClient, type Frame, type Server, startServer } from '../chat/client.js';
import { server, until, withNats } from '../cluster/harness.js';

withNats();

describe('chat cluster DMs under a burst', () => {
  it('delivers every acknowledged DM live, once, in id order, wherever sender and recipient are', async (t) => {
    const nats = server(t);
    if (nats === undefined) return;
    const common = { cluster: [nats.url], clusterName: 'storm', heartbeatMs: 100, downAfterMs: 2_000 };
    const servers: Server[] = [];
    for (const node of ['a', 'b', 'c'])
      servers.push(await startServer(t, { ...common, node, rate: 1_000, burst: 1_000 }));
    await until(() => servers.every((s) => s.chat.health().nodes === 3), 'the cluster to form');
    // Every process sees every inbox host before the users come.
    await new Promise((r) => setTimeout(r, 600));
    const n = 60;
    const users: ChatClient[] = [];
    for (let i = 0; i < n; i++) users.push(await (servers[i % 3] as Server).connect(`u${i}`));
    const acked = new Map<number, number>();
    const sends: Array<Promise<Frame>> = [];
    const targets: number[] = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < n; i++) {
        const to = (i + 1 + Math.floor(Math.random() * (n - 1))) % n;
        targets.push(to);
        sends.push((users[i] as ChatClient).request({ type: 'dm', to: `u${to}`, content: `from u${i} #${round}` }));
      }
    }
    const answers = await Promise.all(sends);
    for (const [k, f] of answers.entries()) {
      assert.equal(f.type, 'ack', JSON.stringify(f));
      const to = targets[k] as number;
      acked.set(to, (acked.get(to) ?? 0) + 1);
    }
    for (let i = 0; i < n; i++) {
      const c = users[i] as ChatClient;
      const want = acked.get(i) ?? 0;
      await c.until(() => (c.received('dm').length >= want ? true : undefined), `u${i}'s ${want} DMs`, 10_000);
      const ids = c.received('dm').map((f) => f.id);
      assert.deepEqual(
        ids,
        Array.from({ length: want }, (_, k) => k + 1),
        `u${i}: ids in order, no hole, none twice`,
      );
      assert.equal(c.received('gap').length, 0, `u${i} got no gap`);
    }
  });
});
