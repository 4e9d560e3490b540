/**
 * The observer (`@troupe/uws/observer`, mounted by the chat with `--observer`) in headless Chromium,
 * against a real chat server on 127.0.0.1 port 0 with traffic: the tree renders with the chat's
 * actors and their summaries, counters move, a kill from the page restarts a room actor and no
 * socket closes (the room keeps its ids), and a wrong token gets 401. A screenshot of the page is
 * written to the test's temporary folder (its path is in the test's diagnostics).
 *
 * Needs Debian's Chromium at /usr/bin/chromium (skips itself without it, fails under CI=true).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { describe, it } from 'node:test';
import { uWS } from '@troupe/uws';
import { mountObserver } from '@troupe/uws/observer';
import { ActorSystem } from 'troupe';
import WebSocket from 'ws';
import { type ChatClient, http, join, startServer } from '../chat/client.js';
import { haveChromium, launch } from './chromium.js';

const WAIT_MS = 10_000;
const TOKEN = 'observer-sekrit';

/** The status an upgrade to the observer's feed gets, with these headers. */
function feedStatus(port: number, query: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/observer/feed${query}`, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', () => {});
  });
}

describe('the observer: who may look', () => {
  it('lets only its own origin in, and without a token only loopback under a loopback host name', async (t) => {
    const open = await startServer(t, { observer: true });
    assert.equal(await feedStatus(open.port, ''), 101, 'a loopback client, no token set');
    // Another site's page in the user's browser: its WebSocket carries that site's Origin.
    assert.equal(await feedStatus(open.port, '', { origin: 'http://evil.example' }), 403);
    assert.equal(await feedStatus(open.port, '', { origin: `http://127.0.0.1:${open.port}` }), 101);
    // DNS rebinding: a loopback connection under another host name.
    assert.equal(await feedStatus(open.port, '', { host: `evil.example:${open.port}` }), 403);
    const page = await http(open.port, 'GET', '/observer');
    assert.equal(page.status, 200);
    assert.equal(page.headers['x-frame-options'], 'DENY', 'never framed by another site');

    const locked = await startServer(t, { observer: true, observerToken: TOKEN });
    assert.equal(await feedStatus(locked.port, ''), 401);
    assert.equal(await feedStatus(locked.port, `?token=${TOKEN}`), 101);
    assert.equal(await feedStatus(locked.port, '', { authorization: `Bearer ${TOKEN}` }), 101);
    assert.equal(await feedStatus(locked.port, `?token=${TOKEN}`, { origin: 'http://evil.example' }), 403);
    // An empty token would let everyone in: refused at mount.
    assert.throws(() => mountObserver(uWS.App(), new ActorSystem(), { token: '' }), /non-empty string/);
  });
});

describe('the observer page', () => {
  it('shows the live tree, moves its counters, restarts a room it kills, and wants its token', async (t) => {
    if (!haveChromium(t)) return;
    const srv = await startServer(t, { observer: true, observerToken: TOKEN, testFaults: true });
    const alice = await srv.connect('alice');
    const bob = await srv.connect('bob');
    await join(alice, 'lobby');
    await join(bob, 'lobby');
    // Traffic while the page looks: alice talks in the lobby every 20 ms.
    let sent = 0;
    const traffic = setInterval(() => {
      alice.send({ type: 'message', room: 'lobby', content: `m${++sent}` });
    }, 20);
    t.after(() => clearInterval(traffic));

    // A wrong token: 401 for the page and for the feed.
    const wrong = await http(srv.port, 'GET', `/observer?token=nope`);
    assert.equal(wrong.status, 401);
    assert.equal(await feedStatus(srv.port, '?token=nope'), 401);

    const browser = await launch(t);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(WAIT_MS);
    // The page asks before it acts; the test says yes.
    page.on('dialog', (d) => {
      d.accept().catch(() => {});
    });
    await page.goto(`http://127.0.0.1:${srv.port}/observer?token=${TOKEN}`);
    await page.locator('#conn.live').waitFor();

    // The tree: the chat's room with its summary, and both connections.
    const roomRow = page.locator('.row[data-name="room"]').filter({ hasText: '#lobby' });
    await roomRow.first().waitFor();
    assert.match((await roomRow.first().textContent()) ?? '', /#lobby: 2 users/);
    // The sockets' supervisor is collapsed at first (two levels are open); expanding it shows them.
    assert.equal(await page.locator('.row[data-name="connection"]').count(), 0);
    await page.locator('.row[data-name="sockets"] .tog').click();
    await page.locator('.row[data-name="connection"]').filter({ hasText: 'alice: #lobby' }).first().waitFor();
    await page.locator('.row[data-name="listener"]').filter({ hasText: 'accepting on port' }).first().waitFor();

    // Counters move: the room handles alice's messages, so its messages/s is above 0 at some sample.
    await page.waitForFunction(
      `[...document.querySelectorAll('.row[data-name="room"]')].some((r) => Number(r.querySelector('[data-k="perS"]').textContent) > 0)`,
    );
    const actors = Number((await page.locator('#actors .v').textContent()) ?? '');
    assert.ok(actors >= 8, `the page counts ${actors} actors`);
    for (const card of ['backlog', 'turns', 'yields', 'loop', 'heap', 'rss', 'dead', 'crashes']) {
      assert.match(String(await page.locator(`#${card} .v`).textContent()), /\d/, `the ${card} card shows a figure`);
    }

    const dir = mkdtempSync(joinPath(tmpdir(), 'troupe-observer-'));
    const shot = joinPath(dir, 'observer.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000, 'the screenshot holds the page');
    t.diagnostic(`screenshot: ${shot}`);

    // Kill the room from the page: its supervisor restarts it, no socket closes, ids go on.
    const before = await alice.request({ type: 'message', room: 'lobby', content: 'before the kill' });
    const roomId = Number(await roomRow.first().getAttribute('data-id'));
    await roomRow.first().locator('button.kill').click();
    await page.locator('#status').filter({ hasText: `sent kill to` }).waitFor();
    // Its supervisor restarted it: the page counts one restart for the lobby's room.
    await page.waitForFunction(
      `[...document.querySelectorAll('.row[data-name="room"]')].some((r) => r.textContent.includes('#lobby') && r.querySelector('[data-k="restarts"]').textContent === '1')`,
    );
    t.diagnostic(`the room was actor ${roomId}`);
    const after = await alice.request({ type: 'message', room: 'lobby', content: 'after the kill' });
    assert.equal(after.type, 'ack');
    assert.ok((after.id as number) > (before.id as number), `ids go on: ${before.id} then ${after.id}`);
    await bob.until(() => bob.received('message').find((f) => f.content === 'after the kill'), 'the message after');
    for (const c of [alice, bob] as ChatClient[]) assert.equal(c.closed, undefined, 'no socket closed');

    // A crash (the room throws, through the chat's test fault) shows on its row, with the error.
    const crash = await http(srv.port, 'POST', '/_test/crash?room=lobby');
    assert.equal(crash.status, 200);
    await page
      .locator('.row[data-name="room"]')
      .filter({ hasText: /crashed \d+ s ago in receive: injected crash/ })
      .first()
      .waitFor();
    // And the crash report's last messages, the one that crashed it last.
    await page
      .locator('.row[data-name="room"] [data-k="crash-messages"]')
      .filter({ hasText: /last messages: .*\{ type: 'crash' \}$/ })
      .first()
      .waitFor();

    // Restart a static child from the page: the listener stops and starts again on the same port.
    assert.equal(await roomRow.first().locator('button.restart').count(), 0, 'a dynamic child has no restart');
    await page.locator('.row[data-name="listener"] button.restart').click();
    await page.locator('#status').filter({ hasText: 'restarted listener' }).waitFor();
    const carol = await srv.connect('carol');
    await join(carol, 'lobby');
    for (const c of [alice, bob] as ChatClient[]) assert.equal(c.closed, undefined, 'no socket closed');
  });
});
