/**
 * The chat page (examples/chat/public/index.html) in headless Chromium against a real chat server
 * on 127.0.0.1 port 0: two pages, each in its own browser context, driven only through the page's
 * own controls (name, Connect, room, Join, message, Send).
 *
 * Needs Debian's Chromium at /usr/bin/chromium. Without it the test skips itself with the install
 * command, except under CI=true, where a missing Chromium is a failure.
 *
 * Every wait is a Playwright wait bounded by WAIT_MS, which only guards against a hang; nothing
 * sleeps for a fixed time. The reconnect check is made deterministic with Playwright's fake clock
 * in bob's context: the page's reconnect timer fires only when the test advances that clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ActorSystem, silentLogger } from 'troupe';
import WebSocket from 'ws';
import { DEFAULTS, startChat } from '../../examples/chat/src/index.js';
import { CHROMIUM, FLAGS, haveChromium } from './chromium.js';

/** The failure guard of every wait; a passing run never gets near it. */
const WAIT_MS = 5_000;

/** The page's log lines, in order. */
function logLines(page: Page): Promise<string[]> {
  return page.locator('#log p').allTextContents();
}

/** Waits until exactly one log line reads `text`, and fails if more than one does. */
async function seesLine(page: Page, text: string): Promise<void> {
  const line = page.locator('#log p').filter({ hasText: new RegExp(`^${escapeRegExp(text)}$`) });
  try {
    await line.first().waitFor();
  } catch (e) {
    assert.fail(`no log line "${text}"; the log: ${JSON.stringify(await logLines(page))}: ${(e as Error).message}`);
  }
  assert.equal(await line.count(), 1, `one log line "${text}"; the log: ${JSON.stringify(await logLines(page))}`);
}

/** Waits until the members list shows exactly `users`, in order. */
async function seesMembers(page: Page, users: string[]): Promise<void> {
  try {
    // A string, evaluated in the page: the test's own types know nothing of the DOM.
    await page.waitForFunction(
      `[...document.querySelectorAll('#members li')].map((li) => li.textContent).join(',') === ${JSON.stringify(users.join(','))}`,
    );
  } catch (e) {
    const shown = await page.locator('#members li').allTextContents();
    assert.fail(`members ${JSON.stringify(users)} expected, shown ${JSON.stringify(shown)}: ${(e as Error).message}`);
  }
}

async function seesStatus(page: Page, pattern: RegExp): Promise<string> {
  const status = page.locator('#status').filter({ hasText: pattern });
  try {
    await status.waitFor();
  } catch (e) {
    const shown = await page.locator('#status').textContent();
    assert.fail(`status ${pattern} expected, shown "${shown}": ${(e as Error).message}`);
  }
  return (await status.textContent()) ?? '';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Types into the page's message box and presses its Send button. */
async function say(page: Page, text: string): Promise<void> {
  await page.locator('#text').fill(text);
  await page.locator('#send').click();
}

describe('chat page in Chromium', () => {
  it('two pages chat through the page: room messages, a DM, presence, and resume after the server closes a socket', {
    timeout: 25_000,
  }, async (t) => {
    if (!haveChromium(t)) return;

    const system = new ActorSystem({ logger: silentLogger });
    const chat = await startChat(system, { ...DEFAULTS, host: '127.0.0.1', port: 0 });
    let browser: Browser | undefined;
    t.after(async () => {
      // The browser first, so the server does not see the pages reconnect while it stops.
      await browser?.close().catch(() => {});
      await system.shutdown();
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: WAIT_MS * 2 });
    const url = `http://127.0.0.1:${chat.port}/`;

    const errors: string[] = [];
    const open = async (name: string): Promise<{ context: BrowserContext; page: Page }> => {
      const context = await browser!.newContext();
      context.setDefaultTimeout(WAIT_MS);
      if (name === 'bob') await context.clock.install();
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
      const res = await page.goto(url);
      assert.equal(res?.status(), 200);
      assert.equal(await page.title(), 'Troupe chat');
      return { context, page };
    };
    const connect = async (page: Page, name: string) => {
      await page.locator('#name').fill(name);
      await page.locator('#connect').click();
      await seesStatus(page, new RegExp(`^connected as ${name}$`));
      await seesLine(page, `welcome, ${name}`);
      assert.equal(await page.locator('#connect').isDisabled(), true, 'one connection per page');
    };
    const joinLobby = async (page: Page) => {
      await page.locator('#room').fill('lobby');
      await page.locator('#join').click();
      await page.locator('#rooms button', { hasText: /^#lobby$/ }).waitFor();
    };

    const { page: alice } = await open('alice');
    const { context: bobContext, page: bob } = await open('bob');
    // Bob's page runs on a paused fake clock from here on: only its reconnect timer depends on it.
    await bobContext.clock.pauseAt(Date.now() + 1_000);

    // Before connecting, the room controls are off.
    assert.equal(await alice.locator('#join').isDisabled(), true);
    assert.equal(await alice.locator('#send').isDisabled(), true);

    await connect(alice, 'alice');
    await connect(bob, 'bob');

    await joinLobby(alice);
    await seesLine(alice, 'joined #lobby (1 member)');
    await seesMembers(alice, ['alice']);
    await joinLobby(bob);
    await seesLine(bob, 'joined #lobby (2 members)');
    await seesMembers(bob, ['alice', 'bob']);
    await seesLine(alice, 'bob joined #lobby');
    await seesMembers(alice, ['alice', 'bob']);

    // A room message from alice reaches bob's page (and alice's own).
    await say(alice, 'hello from alice');
    await seesLine(bob, '#lobby alice: hello from alice');
    await seesLine(alice, '#lobby alice: hello from alice');
    assert.equal(await alice.locator('#text').inputValue(), '', 'Send clears the message box');

    // A DM from bob reaches alice's page only.
    await say(bob, '/dm alice psst, alice');
    await seesLine(alice, 'bob → you: psst, alice');
    await seesLine(bob, 'you → alice: psst, alice');

    // The server closes bob's socket (as a drain does, with 1012). Bob's page schedules a
    // reconnect on its paused clock, so it stays away until the test lets it back.
    const bobSockets = [...chat.world.users.lookup('bob').values()];
    assert.equal(bobSockets.length, 1);
    for (const s of bobSockets) s.end(1012, 'server restarting');
    await seesStatus(bob, /^reconnecting in \d+ ms \(closed 1012\)$/);
    // Bob is still connected elsewhere (another client of his), so a DM to him now is kept in his
    // inbox: the page fetches it when it is back.
    const elsewhere = new WebSocket(`ws://127.0.0.1:${chat.port}/ws?user=bob`);
    await new Promise((resolve, reject) => {
      elsewhere.once('open', resolve);
      elsewhere.once('error', reject);
    });
    assert.equal(await bob.locator('#send').isDisabled(), true, 'no sending while disconnected');
    await seesLine(alice, 'bob left #lobby');
    await seesMembers(alice, ['alice']);

    // Alice speaks while bob is away; bob's page resumes the room from its last id and shows it.
    await say(alice, 'while bob was away');
    await seesLine(alice, '#lobby alice: while bob was away');
    await say(alice, '/dm bob a DM while you were away');
    await seesLine(alice, 'you → bob: a DM while you were away');
    await seesStatus(bob, /^reconnecting in /);
    await bobContext.clock.runFor(10_000);
    await seesStatus(bob, /^connected as bob$/);
    await seesLine(bob, '#lobby alice: while bob was away');
    await seesLine(bob, 'alice → you: a DM while you were away');
    await seesMembers(bob, ['alice', 'bob']);
    await seesMembers(alice, ['alice', 'bob']);
    const bobLog = await logLines(bob);
    assert.equal(bobLog.filter((l) => l === '#lobby alice: hello from alice').length, 1, 'no replay of seen messages');
    assert.equal(
      bobLog.some((l) => l.includes('history was lost')),
      false,
    );

    // And the resumed connection works both ways.
    await say(bob, 'back again');
    await seesLine(alice, '#lobby bob: back again');
    await seesLine(bob, '#lobby bob: back again');

    elsewhere.close();
    assert.deepEqual(errors, [], 'no uncaught errors in either page');
    assert.deepEqual(
      (await logLines(alice)).filter((l) => l.startsWith('error')),
      [],
    );
  });
});
