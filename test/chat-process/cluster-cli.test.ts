/**
 * `pnpm chat:cluster` as users run it (examples/chat/src/cluster.ts): a local NATS server and N
 * chat processes on one port, one chat; Ctrl-C drains them all (their sockets close with 1012) and
 * stops NATS. Without nats-server it says how to install it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, INSTALL, natsServerPath } from '../../scripts/nats-server.js';
import { ChatClient, http, is, join } from '../chat/client.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function launch(
  t: TestContext,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { child: ChildProcess; out: () => string } {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'examples/chat/src/cluster.ts', ...args],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, out: () => out };
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('chat:cluster', () => {
  it('starts NATS and two chat processes on one port, one chat; Ctrl-C drains them and stops NATS', async (t) => {
    if (natsServerPath() === undefined) {
      if (process.env.CI === 'true') assert.fail(`nats-server is missing; CI installs it with: ${INSTALL}`);
      t.skip(`needs nats-server: ${INSTALL}`);
      return;
    }
    const port = await freePort();
    const run = launch(t, ['--processes', '2', '--port', String(port)]);
    await until(
      () => /\[chat-1\] troupe-chat listening/.test(run.out()) && /\[chat-2\] troupe-chat listening/.test(run.out()),
      'both chat processes to listen',
    );
    const natsPid = Number(/NATS with JetStream on \S+ \(pid (\d+)/.exec(run.out())?.[1]);
    assert.ok(alive(natsPid));
    await until(async () => {
      const h = JSON.parse((await http(port, 'GET', '/healthz')).body) as { nodes: number };
      return h.nodes === 2;
    }, 'the two processes to form one cluster');
    const alice = new ChatClient(`ws://127.0.0.1:${port}/ws?user=alice`);
    await alice.next(is('welcome'), 'the welcome', 10_000);
    await join(alice, 'lobby');
    assert.equal((await alice.request({ type: 'message', room: 'lobby', content: 'hi' })).type, 'ack');

    run.child.kill('SIGINT');
    assert.equal((await alice.closedWith()).code, 1012);
    const [code] = await once(run.child, 'exit');
    assert.equal(code, 0, run.out());
    assert.match(run.out(), /chat-1 exited \(0\)/);
    assert.match(run.out(), /chat-2 exited \(0\)/);
    assert.equal(alive(natsPid), false, 'NATS stopped');
  });

  it('says how to install nats-server when it is missing', async (t) => {
    // A PATH without the folder nats-server lives in (Debian puts it in /usr/sbin).
    const run = launch(t, ['--processes', '1'], { ...process.env, PATH: '/bin' });
    const [code] = await once(run.child, 'exit');
    assert.equal(code, 1);
    assert.match(
      run.out(),
      /nats-server is not installed\. Install it with:\n {2}apt-get install -y --no-install-recommends nats-server/,
    );
  });
});
