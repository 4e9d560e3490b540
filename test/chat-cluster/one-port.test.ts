/**
 * Two chat processes on one port of one machine (SO_REUSEPORT, PROTOCOL.md "Cluster"): both
 * listen, the kernel spreads connections over them, and the clients, wherever they landed, are in
 * one chat. A single (not clustered) chat keeps its port to itself: a second one fails to start.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../scripts/nats-server.js';
import { type ChatClient, http, is, join } from '../chat/client.js';
import { server, withNats } from '../cluster/harness.js';
import { chatProcess, clusterName, formed } from './procs.js';

withNats();

describe('chat processes on one port', () => {
  it('share it when clustered: both take connections, and every client is in the same chat', async (t) => {
    const nats = server(t);
    if (nats === undefined) return;
    const port = await freePort();
    const name = clusterName();
    const a = await chatProcess(t, nats.url, name, 'a', ['--port', String(port)]);
    const b = await chatProcess(t, nats.url, name, 'b', ['--port', String(port)]);
    assert.equal(a.port, port);
    assert.equal(b.port, port);
    await formed([a, b]);
    // Each request is a new connection: the kernel hands them to both processes.
    const seen = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const node = JSON.parse((await http(port, 'GET', '/healthz')).body).node as string;
      seen.set(node, (seen.get(node) ?? 0) + 1);
    }
    assert.deepEqual([...seen.keys()].sort(), ['a', 'b'], `answered by ${JSON.stringify([...seen])}`);
    // Twenty clients on the shared port, in one room: one order for all.
    const clients: ChatClient[] = [];
    for (let i = 0; i < 20; i++) clients.push(await a.connect(`c${i}`));
    for (const c of clients) await join(c, 'shared');
    for (let i = 0; i < 5; i++) {
      const ack = await (clients[i * 3] as ChatClient).request({ type: 'message', room: 'shared', content: `m${i}` });
      assert.equal(ack.type, 'ack');
    }
    for (const c of clients) {
      const got = await c.take(5, is('message'));
      assert.deepEqual(
        got.map((f) => [f.id, f.content]),
        [0, 1, 2, 3, 4].map((i) => [i + 1, `m${i}`]),
      );
    }
  });

  it('keep it to itself when not clustered: a second chat on the port fails to start', async (t) => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const port = await freePort();
    const args = ['--conditions=source', '--import', 'tsx', 'examples/chat/src/main.ts', '--port', String(port)];
    const first = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => first.kill('SIGKILL'));
    let out = '';
    first.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no startup line: ${out}`)), 30_000);
      first.stdout.on('data', () => {
        if (out.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const second = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    second.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const [code] = await once(second, 'exit');
    assert.equal(code, 1);
    assert.match(err, /could not start: .*could not listen on 127\.0\.0\.1:\d+ \(in use\?/s);
  });
});
