/**
 * The HTTP side, on the same port: the browser page, `/healthz`, `/metrics` (Prometheus text), and,
 * only with `--test-faults`, the fault-injection endpoints. Handlers answer synchronously, so no
 * uWS `onAborted` bookkeeping is needed.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HttpResponse, TemplatedApp } from '@troupe/uws';
import type { Ref } from 'troupe';
import type { ChatMetrics } from './metrics.js';
import type { ConnMsg, World } from './world.js';

const page = (() => {
  // Built (dist/) and source (src/) layouts both keep the page in ../public.
  const path = fileURLToPath(new URL('../public/index.html', import.meta.url));
  return readFileSync(path);
})();

function json(res: HttpResponse, status: string, body: unknown): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', 'application/json').end(JSON.stringify(body));
  });
}

export function routes(app: TemplatedApp, world: World, metrics: ChatMetrics, health: () => boolean): void {
  app.get('/', (res) => {
    res.cork(() => {
      res.writeHeader('content-type', 'text/html; charset=utf-8').writeHeader('cache-control', 'no-cache').end(page);
    });
  });
  app.get('/healthz', (res) => {
    const ok = health();
    json(res, ok ? '200 OK' : '503 Service Unavailable', { ok });
  });
  app.get('/metrics', (res) => {
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
  app.post('/_test/crash', (res, req) => {
    if (!world.options.testFaults) {
      json(res, '404 Not Found', { error: 'not found' });
      return;
    }
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
  app.any('/*', (res) => {
    json(res, '404 Not Found', { error: 'not found' });
  });
}
