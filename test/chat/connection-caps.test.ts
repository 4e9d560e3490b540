/**
 * Connection caps, over real sockets: `--max-connections-per-ip` and `--max-connections` refuse
 * the upgrade with HTTP 503 past them, and a place freed by a close is taken again;
 * `--max-connections` defaults to the process's open-file limit minus a reserve, so the server
 * refuses with 503 before accept() would fail with EMFILE (checked in a child under `ulimit -n`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { FILE_RESERVE } from '../../examples/chat/src/options.js';
import { type ChatClient, join, startServer } from './client.js';

describe('connection caps', () => {
  it('refuses with 503 the upgrade past --max-connections-per-ip, and takes one again after a close', async (t) => {
    const srv = await startServer(t, { maxConnectionsPerIp: 3 });
    const clients: ChatClient[] = [];
    for (const u of ['a', 'b', 'c']) clients.push(await srv.connect(u));
    const refused = await srv.attempt('?user=d');
    assert.deepEqual(refused.ok ? 'accepted' : refused.status, 503);
    await (clients[0] as ChatClient).close();
    // The close is seen by the server a moment later.
    let again = await srv.attempt('?user=d');
    for (let i = 0; i < 100 && !again.ok; i++) {
      await new Promise((r) => setTimeout(r, 10));
      again = await srv.attempt('?user=d');
    }
    assert.equal(again.ok, true);
    if (again.ok) await join(again.client, 'lobby');
  });

  it('refuses with 503 the upgrade past --max-connections', async (t) => {
    const srv = await startServer(t, { maxConnections: 2, maxConnectionsPerIp: 100 });
    await srv.connect('a');
    await srv.connect('b');
    const refused = await srv.attempt('?user=c');
    assert.deepEqual(refused.ok ? 'accepted' : refused.status, 503);
    // Other requests are still served.
    assert.equal((await srv.http('GET', '/healthz')).status, 200);
  });

  it('defaults --max-connections to the open-file limit minus a reserve', () => {
    const r = spawnSync(
      'sh',
      [
        '-c',
        `ulimit -n 400 && exec "${process.execPath}" --conditions=source --import tsx examples/chat/src/main.ts --help`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.includes('--max-connections ')) ?? '';
    assert.match(line, new RegExp(`\\(default: ${400 - FILE_RESERVE}\\)$`), line);
  });
});
