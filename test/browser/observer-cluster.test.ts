/**
 * The observer on a chat cluster (two in-process chat processes joined through the file's real
 * nats-server), in headless Chromium: the page names this node and the other one, and its "Named
 * actors" table lists the cluster-wide names with the node each lives on: a room's owner, wherever
 * it is, as the cluster registry says.
 *
 * Needs Debian's Chromium at /usr/bin/chromium and nats-server (skips itself without them, fails
 * under CI=true).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownerName } from '../../examples/chat/src/clustered.js';
import { join, startServer } from '../chat/client.js';
import { server, until, withNats } from '../cluster/harness.js';
import { haveChromium, launch } from './chromium.js';

withNats();

describe('the observer on a cluster', () => {
  it('shows the nodes, and where each cluster-wide name lives', async (t) => {
    if (!haveChromium(t)) return;
    const nats = server(t);
    if (nats === undefined) return;
    const common = {
      cluster: [nats.url],
      clusterName: 'observed',
      heartbeatMs: 100,
      downAfterMs: 500,
      roomIdleMs: 60_000,
      observer: true,
    };
    const a = await startServer(t, { ...common, node: 'north' });
    const b = await startServer(t, { ...common, node: 'south' });
    await until(
      () => a.chat.health().nodes === 2 && b.chat.health().nodes === 2,
      'the two processes to see each other',
    );
    // Rooms whose owners the cluster places (north or south, by its hash).
    const rooms = ['lobby', 'random', 'ops', 'music'];
    const alice = await a.connect('alice');
    for (const r of rooms) await join(alice, r);
    const registry = a.chat.world.cluster?.cluster.registry;
    assert.ok(registry !== undefined);
    const where = new Map(rooms.map((r) => [r, registry.whereis(ownerName(r))?.node]));
    assert.deepEqual(
      [...where.values()].filter((n) => n !== 'north' && n !== 'south'),
      [],
      'every room has an owner',
    );

    const browser = await launch(t);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(10_000);
    await page.goto(`http://127.0.0.1:${a.port}/observer`);
    await page.locator('#node').filter({ hasText: 'north + south' }).waitFor();
    for (const [room, node] of where) {
      const row = page.locator(`#named tr[data-name="${ownerName(room)}"]`);
      await row.filter({ hasText: node === 'north' ? 'north (here)' : 'south' }).waitFor();
    }
    assert.ok(Number(await page.locator('#named-count').textContent()) >= rooms.length);
  });
});
