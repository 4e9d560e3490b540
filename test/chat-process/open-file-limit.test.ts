/**
 * The chat at its open-file limit, as a process under `ulimit -n`: a flood of raw TCP connections
 * that never send a byte takes every file descriptor. uWS accepts in a loop until accept() fails,
 * and at the limit it fails with EMFILE while the connection stays queued, so the event loop used to
 * spin at 100% CPU. Now the server stops accepting (new connections are refused, not queued), stays
 * near idle, and accepts again once the flood's sockets close, with its other clients still connected.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const root = fileURLToPath(new URL('../../', import.meta.url));
const FILES = 256;

/** User + system CPU time of a process so far, ms (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] as string).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the chat at its open-file limit', () => {
  it('stops accepting instead of spinning, and accepts again once sockets close', async (t) => {
    const child: ChildProcess = spawn(
      'sh',
      [
        '-c',
        `ulimit -n ${FILES} && exec "${process.execPath}" --conditions=source --import tsx examples/chat/src/main.ts --port 0`,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    t.after(() => {
      child.kill('SIGKILL');
    });
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      out += d;
    });
    child.stderr?.on('data', (d: string) => {
      out += d;
    });
    await until(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(out), 'the server to listen');
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    const pid = child.pid as number;

    // A client that stays connected throughout: listening again must work while it is open.
    const stays = new WebSocket(`ws://127.0.0.1:${port}/ws?user=bob`);
    const staysFrames: Array<Record<string, unknown>> = [];
    stays.on('message', (d) => staysFrames.push(JSON.parse(String(d))));
    await once(stays, 'open');
    stays.send(JSON.stringify({ type: 'join', room: 'lobby', ref: 1 }));
    await until(() => staysFrames.some((f) => f.type === 'joined'), 'bob to join');

    // More connections than the process has files; none of them ever sends a byte.
    const flood: net.Socket[] = [];
    let refused = 0;
    for (let i = 0; i < FILES + 150; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {
        refused++;
      });
      flood.push(s);
    }
    await until(() => out.includes('out of file descriptors'), 'the server to stop accepting');
    await until(() => refused > 0, 'a connection past the limit to be refused');

    // Near idle while the flood holds every file: it used to spin at 100% of a core here.
    const c0 = cpuMs(pid);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 1_000));
    const busy = (cpuMs(pid) - c0) / (Date.now() - t0);
    assert.ok(busy < 0.3, `the server used ${(busy * 100).toFixed(0)}% of a core while out of files`);

    // The flood goes; the server listens again on the same port and serves a fresh client.
    for (const s of flood) s.destroy();
    await until(() => out.includes('accepting connections again'), 'the server to accept again');
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?user=alice`);
    const frames: Array<Record<string, unknown>> = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d))));
    await once(ws, 'open');
    ws.send(JSON.stringify({ type: 'join', room: 'lobby', ref: 1 }));
    ws.send(JSON.stringify({ type: 'message', room: 'lobby', content: 'back', ref: 2 }));
    await until(() => frames.some((f) => f.type === 'ack' && f.ref === 2), 'the ack of a message');
    await until(() => staysFrames.some((f) => f.type === 'message' && f.content === 'back'), 'bob to get it');
    assert.equal(stays.readyState, WebSocket.OPEN, 'the client connected throughout is still open');
    ws.close();
    stays.close();

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const paused = Number(/^chat_accept_paused_total (\d+)/m.exec(metrics)?.[1]);
    assert.ok(paused >= 1, `chat_accept_paused_total is ${paused}`);
  });
});
