/**
 * Request/reply over Node's IPC channel between the runner and its children (load generators,
 * servers). A request is `{ id, cmd, ...args }`; the child answers `{ id, ok, value | error }`.
 * Children may also send unprompted events `{ ev, ... }` (progress). Every call has a timeout, and
 * a child exits as soon as its channel closes: nothing outlives the runner.
 */
import type { ChildProcess } from 'node:child_process';
import { getHeapSpaceStatistics } from 'node:v8';

export type Request = { readonly cmd: string } & Record<string, unknown>;
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** The runner's end of one child's channel. */
export class Rpc {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 0;
  #gone: string | undefined;

  constructor(child: ChildProcess, what: string, onEvent?: (ev: Record<string, unknown>) => void) {
    this.#child = child;
    child.on('message', (m: unknown) => {
      const msg = m as Partial<Reply> & { ev?: string };
      if (typeof msg.ev === 'string') {
        onEvent?.(msg as Record<string, unknown>);
        return;
      }
      const p = typeof msg.id === 'number' ? this.#pending.get(msg.id) : undefined;
      if (p === undefined) return;
      this.#pending.delete(msg.id as number);
      if (msg.ok) p.resolve((msg as { value: unknown }).value);
      else p.reject(new Error(`${what}: ${(msg as { error: string }).error}`));
    });
    child.on('exit', (code, signal) => {
      this.#gone = `${what} exited (${signal ?? code})`;
      for (const p of this.#pending.values()) p.reject(new Error(this.#gone));
      this.#pending.clear();
    });
  }

  call<T>(request: Request, timeoutMs: number): Promise<T> {
    if (this.#gone !== undefined) return Promise.reject(new Error(this.#gone));
    const id = ++this.#next;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${request.cmd}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#child.send({ id, ...request });
    });
  }
}

/**
 * The child's end: answers requests with `handle` (sync or async). Exits when the channel closes
 * (the runner is gone) and after `maxLifetimeMs` whatever happens.
 */
export function serveRequests(
  handle: (request: Request) => unknown,
  maxLifetimeMs: number,
  onDisconnect: () => void = () => process.exit(0),
): void {
  if (process.send === undefined) throw new Error('serveRequests: no IPC channel (spawn with stdio "ipc")');
  process.on('disconnect', onDisconnect);
  setTimeout(() => {
    console.error(`${process.argv[1]}: exceeded its lifetime of ${maxLifetimeMs} ms; exiting`);
    process.exit(3);
  }, maxLifetimeMs).unref();
  process.on('message', async (m: unknown) => {
    const { id, ...request } = m as { id: number } & Request;
    let reply: Reply;
    try {
      reply = { id, ok: true, value: await handle(request as Request) };
    } catch (e) {
      reply = { id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    }
    process.send?.(reply);
  });
}

/** Sends an unprompted event to the runner (no-op without a channel). */
export function emit(ev: string, fields: Record<string, unknown>): void {
  process.send?.({ ev, ...fields });
}

/** What a server child reports about its memory (`process.memoryUsage()`), on `{ cmd: 'mem' }`. */
export interface MemReport {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/**
 * What both server children answer: `mem` (their memory), `heap-spaces` (V8's heap spaces, for
 * heap-probe.ts), `gc` (a full collection, twice; needs --expose-gc). The same code in both, so
 * neither pays more for being measured.
 */
export function serveServerRequests(maxLifetimeMs: number, extra?: (request: Request) => unknown): void {
  serveRequests((r) => {
    if (r.cmd === 'mem') {
      const m = process.memoryUsage();
      return {
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
      } satisfies MemReport;
    }
    if (r.cmd === 'heap-spaces') {
      return getHeapSpaceStatistics().map((sp) => ({
        space: sp.space_name,
        size: sp.space_size,
        used: sp.space_used_size,
      }));
    }
    if (r.cmd === 'gc') {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc === undefined) throw new Error('gc: run with --expose-gc');
      gc();
      gc();
      return true;
    }
    if (extra !== undefined) return extra(r);
    throw new Error(`unknown request ${r.cmd}`);
  }, maxLifetimeMs);
}
