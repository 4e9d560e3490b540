/**
 * Server options, each a flag and an environment variable (flags win), with PROTOCOL.md's names and
 * defaults. `parseOptions` reports a bad value as an error message instead of throwing, so `main`
 * can print it with `--help`'s hint.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ChatOptions {
  readonly port: number;
  readonly host: string;
  readonly authSecret: string | undefined;
  readonly allowedOrigins: readonly string[] | undefined;
  readonly maxPayload: number;
  readonly maxContent: number;
  readonly maxRooms: number;
  readonly rate: number;
  readonly burst: number;
  readonly abuseLimit: number;
  readonly softLimit: number;
  readonly hardLimit: number;
  readonly history: number;
  /** Bytes of history kept per room (its messages' encoded size), besides `history` messages. */
  readonly historyBytes: number;
  /** Rooms alive in this process; a `join` that would create one more gets `server_full`. */
  readonly maxTotalRooms: number;
  /** Sockets this process accepts; beyond it the upgrade gets HTTP 503. */
  readonly maxConnections: number;
  /** Sockets from one remote address; beyond it HTTP 503. */
  readonly maxConnectionsPerIp: number;
  /**
   * Load shedding: once the server is this far behind (`system.backlogMs`), room messages are
   * refused with `rate_limited` (`retry_ms`) instead of queued. 0 turns it off.
   */
  readonly shedAfterMs: number;
  readonly testFaults: boolean;
  /** When set, `/metrics` needs `Authorization: Bearer <token>`; when not, it answers loopback clients only. */
  readonly metricsToken: string | undefined;
  /** Serve the observer (`@troupe/uws/observer`) at /observer. */
  readonly observer: boolean;
  /** The observer's token; without one it answers loopback clients only. */
  readonly observerToken: string | undefined;
  /** Allows the development profile (trusted `?user=` names) on a non-loopback `--host`. */
  readonly insecureNames: boolean;
  /** Presence batching window. 250 ms by the protocol. */
  readonly presenceMs: number;
  /** A room with no members for this long stops. */
  readonly roomIdleMs: number;
  /** Clustered: how soon after a burst of messages a room's owner tells its relays its last id. */
  readonly positionMs: number;
  /** A socket over the soft limit this long is closed with 1013. 5 s by the protocol. */
  readonly softLimitGraceMs: number;
  /** Bytes of replays and `who` names a connection may be sent per byte it sends; 0: no limit. */
  readonly answerRatio: number;
  /** The window of the abuse limit. 10 s by the protocol. */
  readonly abuseWindowMs: number;
  /** How many sockets the drain closes per batch on SIGTERM. */
  readonly drainBatch: number;
  /** Seconds without traffic before a connection is closed; the server pings before that (uWS: 0 or >= 8). */
  readonly idleTimeoutS: number;
  /** NATS server URL(s): join the chat cluster there (PROTOCOL.md "Cluster"). Undefined: one process, no NATS. */
  readonly cluster: readonly string[] | undefined;
  /** This process's name in the cluster (and in /healthz). Default: the host name and the pid. */
  readonly node: string;
  /** The chat cluster's name: processes with the same NATS server and name form one chat. */
  readonly clusterName: string;
  /** Cluster heartbeats, and how long a silent process has before it is declared down. */
  readonly heartbeatMs: number;
  readonly downAfterMs: number;
}

/** The default `--node`: the host name and the pid, as one NATS subject token. */
export function defaultNode(): string {
  return `${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}`;
}

/** Files kept free of sockets: the listen socket, logs, NATS, the page, Node's own. */
export const FILE_RESERVE = 100;

/**
 * The open-file limit of this process (the soft `RLIMIT_NOFILE`, from /proc/self/limits), or
 * undefined where it cannot be read.
 */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * `--max-connections` by default: the open-file limit minus a reserve, so that the server refuses
 * upgrades with 503 before accept() fails with EMFILE (each socket is a file); 10,000 where the
 * limit cannot be read.
 */
function connectionsDefault(): number {
  const limit = openFileLimit();
  return limit === undefined ? 10_000 : Math.max(1, limit - FILE_RESERVE);
}

export const DEFAULTS: ChatOptions = {
  port: 9001,
  host: '127.0.0.1',
  authSecret: undefined,
  allowedOrigins: undefined,
  maxPayload: 65_536,
  maxContent: 16_384,
  maxRooms: 100,
  rate: 100,
  burst: 200,
  abuseLimit: 50,
  softLimit: 1024 * 1024,
  hardLimit: 8 * 1024 * 1024,
  history: 1000,
  historyBytes: 4 * 1024 * 1024,
  maxTotalRooms: 100_000,
  maxConnections: connectionsDefault(),
  maxConnectionsPerIp: 1_000,
  shedAfterMs: 1000,
  testFaults: false,
  metricsToken: undefined,
  observer: false,
  observerToken: undefined,
  insecureNames: false,
  presenceMs: 250,
  roomIdleMs: 30_000,
  positionMs: 2_000,
  softLimitGraceMs: 5_000,
  answerRatio: 90,
  abuseWindowMs: 10_000,
  drainBatch: 500,
  idleTimeoutS: 120,
  cluster: undefined,
  node: defaultNode(),
  clusterName: 'troupe-chat',
  heartbeatMs: 500,
  downAfterMs: 2_500,
};

interface Spec {
  readonly flag: string;
  readonly env: string;
  readonly key: keyof ChatOptions;
  readonly kind: 'int' | 'string' | 'list' | 'bool';
  readonly help: string;
}

const SPECS: readonly Spec[] = [
  {
    flag: '--port',
    env: 'PORT',
    key: 'port',
    kind: 'int',
    help: 'listen port (0 = any free port; the startup log says which)',
  },
  { flag: '--host', env: 'HOST', key: 'host', kind: 'string', help: 'listen address' },
  {
    flag: '--auth-secret',
    env: 'CHAT_AUTH_SECRET',
    key: 'authSecret',
    kind: 'string',
    help: 'enables token auth; ?user= is then refused',
  },
  {
    flag: '--allowed-origins',
    env: 'CHAT_ALLOWED_ORIGINS',
    key: 'allowedOrigins',
    kind: 'list',
    help: 'comma-separated list of allowed Origin values',
  },
  {
    flag: '--max-payload',
    env: 'CHAT_MAX_PAYLOAD',
    key: 'maxPayload',
    kind: 'int',
    help: 'bytes per frame; bigger frames close with 1009',
  },
  {
    flag: '--max-content',
    env: 'CHAT_MAX_CONTENT',
    key: 'maxContent',
    kind: 'int',
    help: 'bytes of content in one message or dm',
  },
  { flag: '--max-rooms', env: 'CHAT_MAX_ROOMS', key: 'maxRooms', kind: 'int', help: 'rooms per connection' },
  {
    flag: '--rate',
    env: 'CHAT_RATE',
    key: 'rate',
    kind: 'int',
    help: 'per-connection token bucket: frames per second',
  },
  { flag: '--burst', env: 'CHAT_BURST', key: 'burst', kind: 'int', help: 'per-connection token bucket: bucket size' },
  {
    flag: '--abuse-limit',
    env: 'CHAT_ABUSE_LIMIT',
    key: 'abuseLimit',
    kind: 'int',
    help: 'rate_limited answers within 10 s before a 1008 close',
  },
  {
    flag: '--soft-limit',
    env: 'CHAT_SOFT_LIMIT',
    key: 'softLimit',
    kind: 'int',
    help: 'buffered bytes per socket above which room messages are dropped (one gap frame)',
  },
  {
    flag: '--hard-limit',
    env: 'CHAT_HARD_LIMIT',
    key: 'hardLimit',
    kind: 'int',
    help: 'buffered bytes per socket above which it is closed with 1013',
  },
  { flag: '--history', env: 'CHAT_HISTORY', key: 'history', kind: 'int', help: 'messages kept per room for resume' },
  {
    flag: '--history-bytes',
    env: 'CHAT_HISTORY_BYTES',
    key: 'historyBytes',
    kind: 'int',
    help: 'bytes of history kept per room, besides --history messages (the oldest go first)',
  },
  {
    flag: '--max-total-rooms',
    env: 'CHAT_MAX_TOTAL_ROOMS',
    key: 'maxTotalRooms',
    kind: 'int',
    help: 'rooms alive in this process; a join that would create one more gets server_full',
  },
  {
    flag: '--shed-after-ms',
    env: 'CHAT_SHED_AFTER_MS',
    key: 'shedAfterMs',
    kind: 'int',
    help: 'refuse room messages (rate_limited) once the server is this many ms behind; 0: never',
  },
  {
    flag: '--answer-ratio',
    env: 'CHAT_ANSWER_RATIO',
    key: 'answerRatio',
    kind: 'int',
    help: 'bytes of replays (since) and who names a connection may be sent per byte it sends, banked up to --soft-limit; past it a gap or more:true; 0: no limit',
  },
  {
    flag: '--max-connections',
    env: 'CHAT_MAX_CONNECTIONS',
    key: 'maxConnections',
    kind: 'int',
    help: `sockets this process accepts (the open-file limit minus ${FILE_RESERVE}); beyond it the upgrade gets HTTP 503`,
  },
  {
    flag: '--max-connections-per-ip',
    env: 'CHAT_MAX_CONNECTIONS_PER_IP',
    key: 'maxConnectionsPerIp',
    kind: 'int',
    help: 'sockets from one remote address; beyond it the upgrade gets HTTP 503',
  },
  {
    flag: '--metrics-token',
    env: 'CHAT_METRICS_TOKEN',
    key: 'metricsToken',
    kind: 'string',
    help: '/metrics needs Authorization: Bearer <token>; without one, /metrics answers loopback clients only',
  },
  {
    flag: '--observer',
    env: 'CHAT_OBSERVER',
    key: 'observer',
    kind: 'bool',
    help: 'serves the observer at /observer: the live supervision tree, actors and system figures, and kill/restart from the page',
  },
  {
    flag: '--observer-token',
    env: 'CHAT_OBSERVER_TOKEN',
    key: 'observerToken',
    kind: 'string',
    help: 'the observer needs ?token=<token> (or a bearer); without one it answers loopback clients only',
  },
  {
    flag: '--insecure-names',
    env: 'CHAT_INSECURE_NAMES',
    key: 'insecureNames',
    kind: 'bool',
    help: 'allows trusted ?user= names (the development profile) on a non-loopback --host',
  },
  {
    flag: '--cluster',
    env: 'CHAT_CLUSTER',
    key: 'cluster',
    kind: 'list',
    help: 'NATS server URL(s), comma-separated: join the chat cluster there (without it: one process, no NATS)',
  },
  {
    flag: '--node',
    env: 'CHAT_NODE',
    key: 'node',
    kind: 'string',
    help: "this process's name in the cluster: 1-64 of A-Z a-z 0-9 _ -",
  },
  {
    flag: '--cluster-name',
    env: 'CHAT_CLUSTER_NAME',
    key: 'clusterName',
    kind: 'string',
    help: 'the chat cluster on that NATS server (its subjects, registry and history stream are named after it)',
  },
  {
    flag: '--heartbeat-ms',
    env: 'CHAT_HEARTBEAT_MS',
    key: 'heartbeatMs',
    kind: 'int',
    help: 'how often a clustered process says it is alive',
  },
  {
    flag: '--down-after-ms',
    env: 'CHAT_DOWN_AFTER_MS',
    key: 'downAfterMs',
    kind: 'int',
    help: 'a process not heard from for this long is down: its rooms move (a loaded process must still make it)',
  },
  {
    flag: '--test-faults',
    env: 'CHAT_TEST_FAULTS',
    key: 'testFaults',
    kind: 'bool',
    help: 'enables POST /_test/crash?room=|user= for loopback clients (off otherwise)',
  },
];

/** Whether `--host` only listens on this machine's loopback. */
export function loopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * Which profile the options run: `token` (names come from signed tokens) or `development` (a
 * client says who it is with `?user=`: anyone can be anyone). Undefined, with the reason, for the
 * development profile on a host others can reach without `--insecure-names`.
 */
export function profile(o: ChatOptions): { ok: true; name: 'token' | 'development' } | { ok: false; error: string } {
  if (o.authSecret !== undefined) return { ok: true, name: 'token' };
  if (loopbackHost(o.host) || o.insecureNames) return { ok: true, name: 'development' };
  return {
    ok: false,
    error:
      `--host ${o.host} is reachable from other machines, and without --auth-secret any client can claim any ` +
      'user name (?user=) and read its DMs. Set --auth-secret (token auth), or --insecure-names to run the ' +
      'development profile there anyway',
  };
}

export function helpText(): string {
  const lines = ['Usage: troupe-chat [options]', '', 'Every option also reads an environment variable; flags win.', ''];
  for (const s of SPECS) {
    const def = DEFAULTS[s.key];
    const shown = def === undefined ? 'none' : Array.isArray(def) ? def.join(',') : String(def);
    lines.push(
      `  ${`${s.flag}${s.kind === 'bool' ? '' : ' <value>'}`.padEnd(26)} ${s.env.padEnd(22)} ${s.help} (default: ${shown})`,
    );
  }
  lines.push(`  ${'--help'.padEnd(26)} ${''.padEnd(22)} prints this`);
  return lines.join('\n');
}

export type ParseResult =
  | { readonly ok: true; readonly options: ChatOptions; readonly help: boolean }
  | { readonly ok: false; readonly error: string };

/** Reads flags (`--port 9001` or `--port=9001`) over environment variables over defaults. */
export function parseOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParseResult {
  const out: Record<string, unknown> = { ...DEFAULTS };
  const raw = new Map<Spec, string>();
  for (const s of SPECS) {
    const v = env[s.env];
    if (v !== undefined && v !== '') raw.set(s, v);
  }
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const spec = SPECS.find((s) => s.flag === flag);
    if (spec === undefined) return { ok: false, error: `unknown option ${flag}` };
    if (spec.kind === 'bool') {
      raw.set(spec, inline ?? '1');
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) return { ok: false, error: `${flag} needs a value` };
    raw.set(spec, value);
  }
  for (const [s, v] of raw) {
    switch (s.kind) {
      case 'int': {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || (s.key === 'port' && n > 65_535)) {
          return { ok: false, error: `${s.flag} (${s.env}) must be a whole number >= 0; got ${JSON.stringify(v)}` };
        }
        out[s.key] = n;
        break;
      }
      case 'string':
        out[s.key] = v;
        break;
      case 'list':
        out[s.key] = v
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x.length > 0);
        break;
      case 'bool':
        out[s.key] = !['0', 'false', 'no', 'off', ''].includes(v.toLowerCase());
        break;
    }
  }
  const o = out as unknown as ChatOptions;
  if (o.softLimit > o.hardLimit) return { ok: false, error: '--soft-limit must not exceed --hard-limit' };
  if (o.observerToken === '') return { ok: false, error: '--observer-token must not be empty' };
  if (o.rate < 1 || o.burst < 1) return { ok: false, error: '--rate and --burst must be at least 1' };
  if (o.maxPayload < 1 || o.history < 1) return { ok: false, error: '--max-payload and --history must be at least 1' };
  if (o.maxConnections < 1 || o.maxConnectionsPerIp < 1) {
    return { ok: false, error: '--max-connections and --max-connections-per-ip must be at least 1' };
  }
  if (o.heartbeatMs < 1 || o.downAfterMs <= o.heartbeatMs) {
    return { ok: false, error: '--down-after-ms must be longer than --heartbeat-ms (and both at least 1)' };
  }
  if (o.historyBytes < 1 || o.maxTotalRooms < 1) {
    return { ok: false, error: '--history-bytes and --max-total-rooms must be at least 1' };
  }
  for (const [flag, v] of [
    ['--node', o.node],
    ['--cluster-name', o.clusterName],
  ] as const) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) {
      return { ok: false, error: `${flag} must be 1 to 64 of A-Z a-z 0-9 _ -; got ${JSON.stringify(v)}` };
    }
  }
  const p = profile(o);
  if (!p.ok) return { ok: false, error: p.error };
  return { ok: true, options: o, help };
}
