/**
 * The HTTP side, on the same port: the browser page, `/healthz`, `/metrics` (Prometheus text: with
 * `--metrics-token` for its bearer, else for loopback clients only), and, only with `--test-faults`
 * and only for loopback clients, the fault-injection endpoints. HEAD gets GET's headers and no body.
 * Handlers answer synchronously (but `/metrics`), so no uWS `onAborted` bookkeeping is needed.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type HttpRequest, type HttpResponse, isLoopbackAddress, type TemplatedApp } from '@troupe/uws';
import type { Ref } from 'troupe';
import { verifyToken } from './auth.js';
import { inboxOwner, ownerName } from './clustered.js';
import type { ChatMetrics } from './metrics.js';
import { type ConnMsg, INBOX_HOST, type World } from './world.js';

/** What `/healthz` answers (PROTOCOL.md "Cluster"). */
export interface Health {
  readonly ok: boolean;
  readonly node: string;
  readonly cluster: 'up' | 'down' | 'off';
  /** Processes in the chat, this one included. */
  readonly nodes: number;
}

const page = (() => {
  // Built (dist/) and source (src/) layouts both keep the page in ../public.
  const path = fileURLToPath(new URL('../public/index.html', import.meta.url));
  return readFileSync(path);
})();

function json(res: HttpResponse, status: string, body: unknown, head = false): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', 'application/json');
    const text = JSON.stringify(body);
    // HEAD: the headers GET would send (its length too), no body.
    if (head) endHead(res, Buffer.byteLength(text));
    else res.end(text);
  });
}

/**
 * Ends a HEAD answer: GET's length, no body. (This uWebSockets.js build aborts the process on
 * `endWithoutBody(length)`, so the length goes in as a header.)
 */
function endHead(res: HttpResponse, length: number): void {
  res.writeHeader('content-length', String(length)).endWithoutBody();
}

/** Whether the request comes from this machine. */
function fromLoopback(res: HttpResponse): boolean {
  return isLoopbackAddress(Buffer.from(res.getRemoteAddressAsText()).toString());
}

/** `Authorization: Bearer <token>` equal to `expected`, compared in constant time. */
function bearer(req: HttpRequest, expected: string): boolean {
  const m = /^Bearer (.+)$/.exec(req.getHeader('authorization'));
  if (m === null) return false;
  const got = Buffer.from(m[1] as string);
  const want = Buffer.from(expected);
  return got.length === want.length && timingSafeEqual(got, want);
}

export function routes(app: TemplatedApp, world: World, metrics: ChatMetrics, health: () => Health): void {
  const sendPage = (res: HttpResponse, head: boolean) => {
    res.cork(() => {
      res.writeHeader('content-type', 'text/html; charset=utf-8').writeHeader('cache-control', 'no-cache');
      if (head) endHead(res, page.length);
      else res.end(page);
    });
  };
  app.get('/', (res) => sendPage(res, false));
  app.head('/', (res) => sendPage(res, true));
  const healthz = (res: HttpResponse, head: boolean) => {
    const h = health();
    json(res, h.ok ? '200 OK' : '503 Service Unavailable', h, head);
  };
  app.get('/healthz', (res) => healthz(res, false));
  app.head('/healthz', (res) => healthz(res, true));
  app.get('/metrics', (res, req) => {
    // With a token, the token; without one, only this machine's clients (PROTOCOL.md).
    const token = world.options.metricsToken;
    if (token !== undefined ? !bearer(req, token) : !fromLoopback(res)) {
      res.cork(() => {
        res.writeStatus(token !== undefined ? '401 Unauthorized' : '403 Forbidden');
        if (token !== undefined) res.writeHeader('www-authenticate', 'Bearer');
        res.end(
          token !== undefined ? 'metrics need Authorization: Bearer <token>' : 'metrics answer loopback clients only',
        );
      });
      return;
    }
    // prom-client renders asynchronously: uWS needs to hear if the client goes away meanwhile.
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    void metrics.registry.metrics().then(
      (body) => {
        if (!aborted) res.cork(() => res.writeHeader('content-type', metrics.registry.contentType).end(body));
      },
      (e: unknown) => {
        if (!aborted) res.cork(() => res.writeStatus('500 Internal Server Error').end(String(e)));
      },
    );
  });
  /**
   * Whether a fault may be injected: `--test-faults` on, asked from this machine (else the endpoint
   * does not exist: 404), and with token auth on, with a valid token (a page in a browser cannot
   * forge one: 401). Answers the refusal itself.
   */
  const faultAllowed = (res: HttpResponse, req: HttpRequest): boolean => {
    if (!world.options.testFaults || !fromLoopback(res)) {
      json(res, '404 Not Found', { error: 'not found' });
      return false;
    }
    const secret = world.options.authSecret;
    if (secret !== undefined) {
      const m = /^Bearer (.+)$/.exec(req.getHeader('authorization'));
      if (m === null || !verifyToken(secret, m[1] as string).ok) {
        json(res, '401 Unauthorized', { error: 'a test fault needs Authorization: Bearer <token> when auth is on' });
        return false;
      }
    }
    return true;
  };
  app.post('/_test/crash', (res, req) => {
    if (!faultAllowed(res, req)) return;
    const q = new URLSearchParams(req.getQuery() ?? '');
    let crashed = 0;
    const roomName = q.get('room');
    const userName = q.get('user');
    if (roomName !== null) {
      const room = world.rooms.whereis(roomName);
      // `on=publish`: the room throws while handling its next publish instead of at once.
      if (room?.send(q.get('on') === 'publish' ? { type: 'crash', on: 'publish' } : { type: 'crash' })) crashed++;
    } else if (userName !== null) {
      for (const conn of world.users.lookup(userName).keys())
        if ((conn as Ref<ConnMsg>).send({ type: 'crash' })) crashed++;
    }
    json(res, '200 OK', { crashed });
  });
  app.post('/_test/drop', (res, req) => {
    // Clustered: this process's relay of the room ignores its next message from the room's owner,
    // as if the bus had lost it.
    if (!faultAllowed(res, req)) return;
    const room = new URLSearchParams(req.getQuery() ?? '').get('room');
    const relay = room === null ? undefined : world.rooms.whereis(room);
    const dropped = relay?.send({ type: 'drop.next' } as never) === true ? 1 : 0;
    json(res, '200 OK', { dropped });
  });
  app.post('/_test/die-after-store', (res, req) => {
    // Clustered: the owner of the room (`room`), if it lives in this process, or this process as
    // the owner of the inbox of `user`, kills the process (SIGKILL) once its next record of
    // messages (or DMs) is stored and before it sends any of them on: the worst moment for their
    // senders, who must still hear `ack` (PROTOCOL.md: `unavailable` means not applied).
    if (!faultAllowed(res, req)) return;
    const q = new URLSearchParams(req.getQuery() ?? '');
    const room = q.get('room');
    const user = q.get('user');
    const c = world.cluster;
    let armed = false;
    if (room !== null && c !== undefined) {
      const owner = c.cluster.registry.whereis(ownerName(room));
      armed = owner !== undefined && owner.node === c.node && owner.send({ type: 'die.after.store' } as never);
    } else if (user !== null && c !== undefined) {
      // Only where the inbox is placed now (`armed: 0` elsewhere).
      const host = world.names.whereis(INBOX_HOST);
      armed = host !== undefined && inboxOwner(c, user) === host && host.send({ type: 'die.after.store', user });
    }
    json(res, '200 OK', { armed: armed ? 1 : 0 });
  });
  app.any('/*', (res, req) => {
    json(res, '404 Not Found', { error: 'not found' }, req.getMethod() === 'head');
  });
}
