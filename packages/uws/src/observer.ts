/**
 * `@troupe/uws/observer`: a live view of a running actor system in the browser, and a hand on it.
 * `mountObserver(app, system)` adds a page (`GET /observer`) and its WebSocket feed
 * (`/observer/feed`) to a uWS app: the supervision tree with each actor's status, mailbox, messages
 * per second, restarts and names; the system's scheduler backlog, event-loop delay, heap, RSS and
 * dead letters per second; the actors with the deepest mailboxes and the busiest ones. From the page
 * an actor can be sent an exit signal (through `system.exit`, as code would) and a supervisor's
 * child restarted; every such action is logged with who asked.
 *
 * Nothing is sampled while no page is open: the sampling timer and the event-loop delay histogram
 * run only while a feed socket is connected. Access: with `token`, the page and the feed need it
 * (`?token=` or `Authorization: Bearer`); without one, only loopback clients are let in.
 *
 * @module @troupe/uws/observer
 */

import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket } from 'uWebSockets.js';
import { timingSafeEqual } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { inspect } from 'node:util';
import {
  type ActorInfo,
  type ActorSystem,
  type ExitReason,
  type Ref,
  restartChild,
  type SupervisorRef,
  terminateChild,
} from 'troupe';
import { OBSERVER_PAGE } from './observer-page.js';
import { isLoopbackAddress } from './server.js';

/** The options of {@link mountObserver}; every field optional. */
export interface ObserverOptions {
  /** Where the page is; the feed is `${path}/feed`. Default `/observer`. */
  readonly path?: string;
  /** The token the page and the feed need; without one, only loopback clients get in. */
  readonly token?: string;
  /** Milliseconds between samples while a page is open. Default 1,000. */
  readonly intervalMs?: number;
  /** Children shown per actor, a page at a time (a dynamic supervisor may have thousands). Default 100. */
  readonly pageSize?: number;
  /** Where actions from the page are logged (who asked, and what). Default `console.warn`. */
  readonly log?: (line: string) => void;
  /**
   * In a cluster: the names registered cluster-wide and the node each one's actor lives on, for
   * the page's "Named actors" table (the first 200, sorted). With `@troupe/cluster`:
   * `() => cluster.registry.names().map((n) => [n, cluster.registry.whereis(n)?.node ?? '?'])`.
   */
  readonly names?: () => Iterable<readonly [name: string, node: string]>;
}

/** Named actors a sample lists at most, of the first NAMES_READ the `names` option gives. */
const NAMES_SHOWN = 200;
const NAMES_READ = 10_000;

/** What {@link mountObserver} returns. */
export interface Observer {
  /** Pages connected now. */
  readonly viewers: () => number;
  /** Samples taken so far (none while no page is open). */
  readonly samples: () => number;
  /** Closes every feed socket and stops sampling. */
  close(): void;
}

/** One actor as the page sees it. */
interface NodeView {
  readonly id: number;
  readonly name: string;
  readonly behavior: string;
  readonly childId: string | undefined;
  readonly names: readonly string[];
  readonly status: string;
  readonly mailbox: number;
  readonly handled: number;
  readonly perS: number;
  readonly restarts: number | undefined;
  readonly uptimeMs: number | undefined;
  /** The behaviour's summary of its state, when it has one. */
  readonly summary: string | undefined;
  /** A static supervisor's child, which the page can restart (a dynamic one's children cannot). */
  readonly restartable: boolean;
  /** Its last crash while a page was open: when (ms since the epoch), where, and the error. */
  readonly lastCrash: Crash | undefined;
  /** The actors it is linked to and monitors (as `Ref<...>` strings), and how many monitor it. */
  readonly links: readonly string[];
  readonly monitoring: readonly string[];
  readonly monitoredBy: number;
  /** Children in all; `children` holds the page of them from `offset`. */
  readonly childCount: number;
  readonly offset: number;
  readonly children: readonly NodeView[];
}

/** A crash seen while a page was open. */
interface Crash {
  readonly at: number;
  readonly phase: string;
  readonly error: string;
  /** The first lines of its stack. */
  readonly stack: string;
  /**
   * The last messages it handled, oldest first (the last one crashed it), from its crash report;
   * each shown as `util.inspect` shows it, clipped. Empty until the report is written.
   */
  messages: readonly string[];
}

/** A crash report's last messages kept per crash. */
const MESSAGES_KEPT = 3;

/** Crashes kept (the latest per actor, of this many actors at most). */
const CRASHES_KEPT = 1_000;

interface Viewer {
  /** Page offset of the children shown, by actor id (only actors paged past their first page). */
  readonly offsets: Map<number, number>;
  readonly address: string;
  /** When it last asked for another page (they are answered at most ten a second). */
  pagedAt: number;
  closed: boolean;
}

type Action =
  | { readonly type: 'kill'; readonly id: number; readonly reason?: string }
  | { readonly type: 'restart'; readonly id: number }
  | { readonly type: 'page'; readonly id: number; readonly offset: number };

const TOP = 10;
/** Actors described in one sample for one page, whatever it has expanded. */
const MAX_NODES = 2_000;
/** Characters kept of a summary, a name or a reason. */
const CLIP = 200;

/** Keys of one plain object, and items of one array, that `shown` looks at. */
const MAX_KEYS = 20;
const MAX_ITEMS = 10;

/**
 * `m` cut to what `shown` prints: at most MAX_KEYS keys of a plain object and MAX_ITEMS items of an
 * array, each level to `depth`, with how many were left out. `util.inspect` bounds arrays and depth
 * but walks every key of an object, and a crashed message with a million keys would stall the
 * runtime while its report is shown. Class instances, maps and sets are left to `inspect`'s limits.
 */
function bounded(m: unknown, depth: number): unknown {
  if (m === null || typeof m !== 'object' || depth < 0) return m;
  if (Array.isArray(m)) {
    const head = m.slice(0, MAX_ITEMS).map((x) => bounded(x, depth - 1));
    if (m.length > MAX_ITEMS) head.push(`… ${m.length - MAX_ITEMS} more items`);
    return head;
  }
  const proto = Object.getPrototypeOf(m);
  if (proto !== Object.prototype && proto !== null) return m;
  const out: Record<string, unknown> = {};
  let kept = 0;
  let left = 0;
  for (const k in m) {
    if (!Object.hasOwn(m, k)) continue;
    if (kept < MAX_KEYS) {
      out[k] = bounded((m as Record<string, unknown>)[k], depth - 1);
      kept++;
    } else left++;
  }
  if (left > 0) out['…'] = `${left} more keys`;
  return out;
}

/** @internal A message as the page shows it: `util.inspect`, shallow and on one line, then clipped. */
export function shown(m: unknown): string {
  try {
    return clip(
      inspect(bounded(m, 2), {
        depth: 2,
        breakLength: Number.POSITIVE_INFINITY,
        maxArrayLength: MAX_ITEMS + 1,
        maxStringLength: CLIP,
      }),
    );
  } catch {
    return '(a message that cannot be shown)';
  }
}

function clip(s: string): string {
  // Control characters out (they would forge log lines), and a bounded length.
  let t = '';
  for (const ch of s) t += ch < ' ' || ch === '\u007f' ? ' ' : ch;
  return t.length > CLIP ? `${t.slice(0, CLIP)}…` : t;
}

/** A static supervisor's child (a dynamic supervisor's are `dynamic`): what the page may restart. */
function isRestartable(info: ActorInfo): boolean {
  return info.childId !== undefined && info.label !== 'dynamic';
}

/** `localhost`, `127.x.x.x` or `[::1]`, with or without a port. */
function isLoopbackHost(host: string): boolean {
  const h = host.replace(/:\d+$/, '').toLowerCase();
  return h === 'localhost' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * Adds the observer's page and feed to `app`, for `system`. Call it from `routes` of `serve` /
 * `socketServer` (or on any uWS app of your own).
 * @example
 * serve(system, { port: 9001, socket: { behavior: Echo }, routes: (app) => mountObserver(app, system, { token }) });
 */
export function mountObserver(app: TemplatedApp, system: ActorSystem, options: ObserverOptions = {}): Observer {
  const path = options.path ?? '/observer';
  if (!path.startsWith('/') || path.endsWith('/')) {
    throw new TypeError(`mountObserver: path must start with / and not end with one; got '${path}'`);
  }
  const intervalMs = options.intervalMs ?? 1_000;
  if (!(intervalMs >= 50) || !Number.isFinite(intervalMs)) {
    throw new RangeError(`mountObserver: intervalMs must be a finite number >= 50; got ${String(intervalMs)}`);
  }
  const pageSize = options.pageSize ?? 100;
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new RangeError(`mountObserver: pageSize must be an integer >= 1; got ${String(pageSize)}`);
  }
  const log = options.log ?? ((line: string) => console.warn(line));
  const token = options.token;
  if (token !== undefined && (typeof token !== 'string' || token.length === 0)) {
    throw new TypeError('mountObserver: token must be a non-empty string (leave it out for loopback-only access)');
  }

  /**
   * Who may look: the token when there is one, else a loopback client. And a browser only from the
   * observer's own origin (its WebSocket could be opened by any page the user visits), and without a
   * token only under a loopback host name (DNS rebinding). 0 when allowed.
   */
  const refusal = (res: HttpResponse, req: HttpRequest): 0 | 401 | 403 => {
    const host = req.getHeader('host');
    const origin = req.getHeader('origin');
    if (origin !== '' && origin !== `http://${host}` && origin !== `https://${host}`) return 403;
    if (token === undefined) {
      const address = Buffer.from(res.getRemoteAddressAsText()).toString();
      return isLoopbackAddress(address) && isLoopbackHost(host) ? 0 : 403;
    }
    const auth = req.getHeader('authorization');
    const given = /^bearer /i.test(auth)
      ? auth.slice(7).trim()
      : (new URLSearchParams(req.getQuery() ?? '').get('token') ?? '');
    return sameSecret(given, token) ? 0 : 401;
  };

  app.get(path, (res, req) => {
    const refused = refusal(res, req);
    res.cork(() => {
      if (refused !== 0) {
        res
          .writeStatus(refused === 401 ? '401 Unauthorized' : '403 Forbidden')
          .end(refused === 401 ? 'the observer needs its token' : 'the observer answers loopback clients only');
        return;
      }
      res
        .writeHeader('content-type', 'text/html; charset=utf-8')
        .writeHeader('cache-control', 'no-store')
        // Its buttons act on the system: never inside another site's frame.
        .writeHeader('x-frame-options', 'DENY')
        .writeHeader('content-security-policy', "frame-ancestors 'none'")
        .end(OBSERVER_PAGE);
    });
  });

  const sockets = new Set<WebSocket<Viewer>>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let loop: ReturnType<typeof monitorEventLoopDelay> | undefined;
  let samples = 0;
  /** Messages handled by each actor at the last sample, and when it was. */
  let lastHandled = new Map<number, number>();
  let lastAt = 0;
  let lastDead = 0;
  let lastTurns = 0;
  let lastYields = 0;
  /** The refs of the last sample by id, and each one's parent: what actions find their actor by. */
  let refs = new Map<number, { ref: Ref<never>; parent: Ref<never> | undefined; childId: string | undefined }>();

  /** What one sample found: the figures, and the tree as refs (described only when shown). */
  interface Collected {
    readonly system: Record<string, unknown>;
    readonly top: { readonly mailbox: unknown[]; readonly busy: unknown[] };
    readonly roots: readonly Ref<never>[];
    readonly children: ReadonlyMap<Ref<never>, readonly Ref<never>[]>;
    readonly perS: (id: number, handled: number) => number;
  }
  let collected: Collected | undefined;

  /** Walks every actor once: rates since the last sample, the figures, the top ten, the tree's shape. */
  const collect = (): Collected => {
    samples++;
    const now = performance.now();
    const dt = lastAt === 0 ? 0 : (now - lastAt) / 1000;
    const before = lastHandled;
    // One pass over every actor, building nothing per actor but its entry in `handled` and its place
    // among its spawner's children: its messages per second since the last sample, their sum, and the
    // ten deepest mailboxes and busiest actors (kept in order as it goes: no sort of the whole tree).
    // Only the actors a page shows are described in full (`render`).
    const handled = new Map<number, number>();
    const children = new Map<Ref<never>, Ref<never>[]>();
    const roots: Ref<never>[] = [];
    const deepest: Top[] = [];
    const busiest: Top[] = [];
    let messagesPerS = 0;
    const perS = (id: number, h: number): number => {
      const b = before.get(id);
      return dt > 0 && b !== undefined ? Math.max(0, (h - b) / dt) : 0;
    };
    system.survey((ref, spawner, mailbox, h) => {
      handled.set(ref.id, h);
      const r = perS(ref.id, h);
      messagesPerS += r;
      keepTop(deepest, ref, mailbox, r, mailbox);
      keepTop(busiest, ref, mailbox, r, r);
      if (spawner === undefined) roots.push(ref);
      else {
        const a = children.get(spawner);
        if (a === undefined) children.set(spawner, [ref]);
        else a.push(ref);
      }
    });
    // The survey goes newest first; the page shows spawn order.
    roots.reverse();
    for (const a of children.values()) a.reverse();
    const stats = system.stats();
    const mem = process.memoryUsage();
    const loopP99 = loop === undefined ? 0 : loop.percentile(99) / 1e6;
    loop?.reset();
    let named: Array<readonly [string, string]> | undefined;
    let namedCount = 0;
    if (options.names !== undefined) {
      named = [];
      try {
        // At most NAMES_READ of them per sample: a cluster of 100,000 rooms must not stall the loop.
        for (const [name, node] of options.names()) {
          if (++namedCount > NAMES_READ) break;
          named.push([String(name), String(node)]);
        }
      } catch (e) {
        log(`observer: names() failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      named.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      named = named.slice(0, NAMES_SHOWN).map(([n, node]) => [clip(n), clip(node)] as const);
    }
    const figures = {
      node: system.node,
      nodes: system.nodes(),
      named,
      namedCount: Math.min(namedCount, NAMES_READ),
      actors: stats.actors,
      queued: stats.queued,
      backlogMs: system.backlogMs,
      turnsPerS: dt > 0 ? (stats.turns - lastTurns) / dt : 0,
      yields: stats.yields,
      yieldsPerS: dt > 0 ? (stats.yields - lastYields) / dt : 0,
      deadLetters: stats.deadLetters,
      deadLettersPerS: dt > 0 ? (stats.deadLetters - lastDead) / dt : 0,
      crashesPerS: dt > 0 ? (crashCount - lastCrashCount) / dt : 0,
      messagesPerS,
      heapUsed: mem.heapUsed,
      heapTotal: mem.heapTotal,
      rss: mem.rss,
      loopDelayP99Ms: loopP99,
    };
    const topView = (t: Top) => {
      const info = system.describe(t.ref);
      return {
        id: t.ref.id,
        name: info === undefined ? String(t.ref) : nameOf(info),
        mailbox: t.mailbox,
        perS: t.perS,
      };
    };
    lastHandled = handled;
    lastAt = now;
    lastDead = stats.deadLetters;
    lastTurns = stats.turns;
    lastYields = stats.yields;
    lastCrashCount = crashCount;
    return {
      system: figures,
      top: { mailbox: deepest.map(topView), busy: busiest.map(topView) },
      roots,
      children,
      perS,
    };
  };

  /** Sends one page what it shows of `c`: at most MAX_NODES actors, described now. */
  const render = (ws: WebSocket<Viewer>, c: Collected): void => {
    const v = ws.getUserData();
    let budget = MAX_NODES;
    const seen = new Map<number, number>();
    const view = (ref: Ref<never>, parent: Ref<never> | undefined): NodeView | undefined => {
      if (budget <= 0) return undefined;
      const info = system.describe(ref, { summaries: true, relations: true });
      if (info === undefined) return undefined;
      budget--;
      const rel = info.relations;
      const id = ref.id;
      refs.set(id, { ref, parent, childId: info.childId });
      const kids = c.children.get(ref) ?? [];
      const total = kids.length;
      const asked = v.offsets.get(id) ?? 0;
      const offset = Math.min(asked, Math.max(0, total - 1));
      if (asked > 0) seen.set(id, offset);
      const shown: NodeView[] = [];
      for (const k of kids.slice(offset, offset + pageSize)) {
        const n = view(k, ref);
        if (n !== undefined) shown.push(n);
      }
      return {
        id,
        name: nameOf(info),
        behavior: info.behavior,
        childId: info.childId,
        names: info.names.map((n) => clip(String(n))),
        status: info.status,
        mailbox: info.mailbox,
        handled: info.handled,
        perS: c.perS(id, info.handled),
        restarts: info.restarts,
        uptimeMs: info.uptimeMs,
        summary: info.summary === undefined ? undefined : clip(info.summary),
        restartable: isRestartable(info),
        lastCrash: crashes.get(id),
        links: (rel?.links ?? []).slice(0, 20).map(String),
        monitoring: (rel?.monitoring ?? []).slice(0, 20).map(String),
        monitoredBy: rel?.monitoredBy ?? 0,
        childCount: total,
        offset,
        children: shown,
      };
    };
    const tree: NodeView[] = [];
    for (const r of c.roots) {
      const n = view(r, undefined);
      if (n !== undefined) tree.push(n);
    }
    // Offsets of actors no longer shown are forgotten: the map holds what the page has paged.
    for (const id of [...v.offsets.keys()]) if (!seen.has(id)) v.offsets.delete(id);
    ws.send(JSON.stringify({ type: 'sample', system: c.system, tree, top: c.top, pageSize, truncated: budget <= 0 }));
  };

  const sample = (): void => {
    try {
      refs = new Map();
      const c = collect();
      collected = c;
      for (const ws of sockets) render(ws, c);
    } catch (e) {
      // A sample must never take the process down (it runs from a timer and from uWS callbacks).
      log(`observer: a sample failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  /** The last crash of each actor while a page is open (a subscription: only then). */
  const crashes = new Map<number, Crash>();
  let crashCount = 0;
  let lastCrashCount = 0;
  let unsubscribe: (() => void) | undefined;
  const start = (): void => {
    unsubscribe = system.subscribe((e) => {
      if (e.type === 'crash_report') {
        // The report comes after the crash: its messages join the crash it reports.
        const c = crashes.get(e.ref.id);
        // A report without messages (a crash in terminate) keeps those of the crash before it.
        if (c !== undefined && e.messages.length > 0) c.messages = e.messages.slice(-MESSAGES_KEPT).map(shown);
        return;
      }
      if (e.type !== 'crashed') return;
      crashCount++;
      const id = e.ref.id;
      crashes.delete(id);
      if (crashes.size >= CRASHES_KEPT) crashes.delete(crashes.keys().next().value as number);
      const stack = (e.reason.stack ?? '')
        .split('\n')
        .slice(1, 4)
        .map((l) => l.trim())
        .join(' | ');
      crashes.set(id, {
        at: Date.now(),
        phase: e.phase,
        error: clip(String(e.reason.message)),
        stack: clip(stack),
        messages: [],
      });
    });
    loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    lastAt = 0;
    sample();
    timer = setInterval(sample, intervalMs);
    timer.unref();
  };
  const stop = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    loop?.disable();
    loop = undefined;
    unsubscribe?.();
    unsubscribe = undefined;
    crashes.clear();
    lastHandled = new Map();
    refs = new Map();
    collected = undefined;
  };

  const act = (ws: WebSocket<Viewer>, a: Action): void => {
    const v = ws.getUserData();
    const answer = (ok: boolean, text: string) => {
      if (!v.closed) ws.send(JSON.stringify({ type: 'done', id: a.id, ok, text }));
    };
    const found = refs.get(a.id);
    if (a.type === 'page') {
      // Another page of one actor's children, from the last sample (no new walk), at most ten a second.
      const now = performance.now();
      if (found === undefined || collected === undefined || now - v.pagedAt < 100) return;
      v.pagedAt = now;
      v.offsets.set(a.id, Math.max(0, Math.floor(a.offset)));
      render(ws, collected);
      return;
    }
    if (found === undefined || !found.ref.alive) {
      answer(false, `no live actor ${a.id}`);
      return;
    }
    if (a.type === 'kill') {
      // `kill` is untrappable (system.kill); `normal` and `shutdown` are themselves; any other text
      // is a crash with that message, as an actor that threw it.
      const text = typeof a.reason === 'string' && a.reason !== '' ? clip(a.reason) : 'kill';
      const what = `${text} to ${String(found.ref)} (${found.childId ?? 'not a supervised child'})`;
      log(`observer: exit signal ${what}, asked by ${v.address}`);
      if (text === 'kill') system.kill(found.ref);
      else system.exit(found.ref, reasonOf(text));
      answer(true, `sent ${what}`);
      return;
    }
    const { parent, childId } = found;
    const info = system.describe(found.ref);
    if (parent === undefined || childId === undefined || info === undefined || !isRestartable(info)) {
      answer(false, `${String(found.ref)} is not a static supervisor's child`);
      return;
    }
    log(`observer: restart of child ${childId} of ${String(parent)}, asked by ${v.address}`);
    const sup = parent as unknown as SupervisorRef;
    const failed = (e: unknown) =>
      answer(false, `could not restart ${childId}: ${e instanceof Error ? e.message : String(e)}`);
    terminateChild(sup, childId)
      .then((t) => {
        if (!t.ok) throw new Error(`terminate: ${t.reason}`);
        return restartChild(sup, childId);
      })
      .then((r) => {
        if (!r.ok) throw new Error(`restart: ${r.reason}`);
        answer(true, `restarted ${childId}`);
      })
      .catch(failed);
  };

  app.ws<Viewer>(`${path}/feed`, {
    idleTimeout: 120,
    maxPayloadLength: 4 * 1024,
    upgrade(res, req, context) {
      const refused = closed ? 403 : refusal(res, req);
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const address = Buffer.from(res.getRemoteAddressAsText()).toString();
      res.cork(() => {
        if (refused !== 0) {
          res.writeStatus(refused === 401 ? '401 Unauthorized' : '403 Forbidden').end('refused');
          return;
        }
        res.upgrade<Viewer>(
          { offsets: new Map(), address, pagedAt: 0, closed: false },
          key,
          protocol,
          extensions,
          context,
        );
      });
    },
    open(ws) {
      sockets.add(ws);
      if (sockets.size === 1) start();
      else if (collected !== undefined) {
        try {
          render(ws, collected);
        } catch (e) {
          log(`observer: a sample failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    },
    message(ws, data) {
      try {
        const a = JSON.parse(Buffer.from(data).toString('utf8')) as Action;
        if (a === null || typeof a !== 'object' || typeof a.id !== 'number') return;
        if (a.type === 'kill' || a.type === 'restart' || (a.type === 'page' && Number.isFinite(a.offset))) act(ws, a);
      } catch (e) {
        // Malformed input is dropped; nothing a page sends may throw into uWS.
        if (!(e instanceof SyntaxError))
          log(`observer: an action failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    close(ws) {
      ws.getUserData().closed = true;
      sockets.delete(ws);
      if (sockets.size === 0) stop();
    },
  });

  return {
    viewers: () => sockets.size,
    samples: () => samples,
    close() {
      closed = true;
      for (const ws of [...sockets]) ws.end(1001, 'observer closed');
      stop();
    },
  };
}

function reasonOf(text: string): ExitReason {
  if (text === 'normal' || text === 'shutdown') return text;
  return new Error(`observer: ${text}`);
}

/** One of the top ten actors, by `key`. */
interface Top {
  readonly ref: Ref<never>;
  readonly mailbox: number;
  readonly perS: number;
  readonly key: number;
}

/** Keeps `top` the TOP largest by key, largest first (an insertion into ten: no sort of the tree). */
function keepTop(top: Top[], ref: Ref<never>, mailbox: number, perS: number, key: number): void {
  if (top.length === TOP && key <= (top[TOP - 1] as Top).key) return;
  let i = top.length;
  while (i > 0 && (top[i - 1] as Top).key < key) i--;
  top.splice(i, 0, { ref, mailbox, perS, key });
  if (top.length > TOP) top.pop();
}

/**
 * What the page calls an actor: its first registered name, else its label (a static child's id),
 * else its behaviour's name (a dynamic supervisor's children are all labelled `dynamic`).
 */
function nameOf(info: ActorInfo): string {
  const n = info.names[0];
  if (n !== undefined) return String(n);
  if (info.label !== undefined && info.label !== 'dynamic') return info.label;
  return info.behavior;
}

function sameSecret(given: string, secret: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}
