/**
 * A real NATS server for the cluster tests (`scripts/nats-server.ts`, shared with the cluster
 * benchmark), and a TCP proxy to cut one node off. Without the binary the tests skip themselves
 * with the command that installs it, except under CI=true, where a missing binary is a failure.
 */
import { createServer, type Server, Socket } from 'node:net';
import { freePort } from '../../scripts/nats-server.js';

export { freePort, INSTALL, type Nats, natsServerPath, startNats } from '../../scripts/nats-server.js';

/**
 * A TCP proxy on a free loopback port in front of a NATS server, to cut one node off: `cut()`
 * drops its connections and refuses new ones until `restore()`. Real sockets both ways.
 */
export interface Proxy {
  readonly url: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startProxy(target: number): Promise<Proxy> {
  const port = await freePort();
  const open = new Set<Socket>();
  let cutOff = false;
  const server: Server = createServer((client) => {
    if (cutOff) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.connect(target, '127.0.0.1', () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `nats://127.0.0.1:${port}`,
    cut() {
      cutOff = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    restore() {
      cutOff = false;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
