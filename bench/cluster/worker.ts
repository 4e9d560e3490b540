/**
 * One process of the cluster benchmark: `worker.ts ROLE NATS_URL CLUSTER [ARG]`. Each role prints
 * `ready` when it can be driven, then one JSON line of results, and exits. Troupe roles and raw
 * nats.js roles do the same work on the same encoded payload (a msgpackr record), so their ratio is
 * what the actor layer adds over NATS itself.
 *
 * - `sink` / `raw-sink`: counts messages, acknowledging every WINDOW of them to the sender.
 * - `send` / `raw-send N`: sends N messages, at most two windows ahead of the acknowledgements.
 * - `echo` / `raw-echo`: answers calls (requests) with their own payload.
 * - `call` / `raw-call N`: N calls one after another; the latency of each.
 * - `member`: three actors in the group `bench`, counting what they get.
 * - `publish N`: N publishes to the group `bench`, counting the NATS messages they cost.
 * - `paced` / `raw-paced N@R`: sends N messages at R a second (for the CPU each costs at that rate).
 * - `watch`: reports when it sees the node `victim` go down; `victim`: just joins.
 */
import { connect } from '@nats-io/transport-node';
import { joinCluster } from '@troupe/cluster';
import { Packr } from 'msgpackr';
import { ActorSystem, type Ref, type Reply } from 'troupe';

export const WINDOW = 2_000;
/** The message both sides send: a record with a number and a 100-byte string, as a small app message. */
export const payload = (seq: number) => ({ type: 'msg' as const, seq, body: 'x'.repeat(100) });

const [role, url, cluster, arg] = process.argv.slice(2) as [string, string, string, string?];
const n = Number(arg ?? 0);
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const now = () => performance.timeOrigin + performance.now();

type SinkMsg = { type: 'msg'; seq: number; body: string; ackTo?: Ref<number> } | { type: 'hello'; ackTo: Ref<number> };
type EchoMsg = { type: 'msg'; seq: number; body: string; reply: Reply<{ seq: number; body: string }> };

async function troupeNode(name: string, heartbeat = true) {
  const system = new ActorSystem();
  const c = await joinCluster(system, {
    servers: url,
    node: name,
    cluster,
    ...(heartbeat ? { heartbeatMs: 250, downAfterMs: 1_000 } : {}),
  });
  return { system, c };
}

async function waitFor<T>(get: () => T | undefined): Promise<T> {
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * `arg` is `N@R`: sends N messages (a multiple of WINDOW) at R a second; prints `{start}` as it
 * begins and `{msgs, ms}` once the sink counted them all (its last acknowledgement).
 */
async function paced(send: (seq: number) => void, acked: () => number): Promise<void> {
  const [total, rate] = (arg ?? '').split('@').map(Number) as [number, number];
  out({ start: now() });
  const start = now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - start) / 1_000) * rate));
    while (sent < due) send(++sent);
    await new Promise((r) => setTimeout(r, 5));
  }
  while (acked() < total) await new Promise((r) => setTimeout(r, 5));
  out({ msgs: total, ms: now() - start });
}

/** A raw connection to send to the raw sink with, following the sink's acknowledgements. */
async function rawSender() {
  const nc = await connect({ servers: url });
  const packr = new Packr({ mapsAsObjects: false, moreTypes: true });
  const r = { nc, packr, acked: 0, wake: () => {} };
  nc.subscribe(`${cluster}.raw.ack`, {
    callback: (_e, m) => {
      r.acked = packr.unpack(m.data) as number;
      r.wake();
    },
  });
  await nc.flush();
  return r;
}

switch (role) {
  case 'sink': {
    const { system, c } = await troupeNode('sink');
    let count = 0;
    let ackTo: Ref<number> | undefined;
    const sink = system.spawn((m: SinkMsg) => {
      if (m.type === 'hello') {
        ackTo = m.ackTo;
        return;
      }
      if (++count % WINDOW === 0) ackTo?.send(count);
    });
    await c.registry.register('sink', sink);
    out('ready');
    break;
  }
  case 'send': {
    const { system, c } = await troupeNode('send');
    const sink = (await waitFor(() => c.registry.whereis('sink'))) as unknown as Ref<SinkMsg>;
    let acked = 0;
    let wake: () => void = () => {};
    const acks = system.spawn((count: number) => {
      acked = count;
      wake();
    });
    sink.send({ type: 'hello', ackTo: acks });
    const start = now();
    for (let i = 1; i <= n; i++) {
      sink.send(payload(i));
      if (i - acked >= 2 * WINDOW) await new Promise<void>((r) => (wake = r));
    }
    while (acked < n) await new Promise<void>((r) => (wake = r));
    const ms = now() - start;
    out({ msgs: n, ms, perSec: (n / ms) * 1_000, framesOut: c.stats().framesOut });
    await c.leave();
    process.exit(0);
    break;
  }
  case 'raw-sink': {
    const nc = await connect({ servers: url });
    const packr = new Packr({ mapsAsObjects: false, moreTypes: true });
    let count = 0;
    nc.subscribe(`${cluster}.raw.sink`, {
      callback: (_e, m) => {
        packr.unpack(m.data);
        if (++count % WINDOW === 0) nc.publish(`${cluster}.raw.ack`, packr.pack(count));
      },
    });
    await nc.flush();
    out('ready');
    break;
  }
  case 'raw-send': {
    const r = await rawSender();
    const { nc, packr } = r;
    const start = now();
    for (let i = 1; i <= n; i++) {
      nc.publish(`${cluster}.raw.sink`, packr.pack(payload(i)));
      if (i - r.acked >= 2 * WINDOW) await new Promise<void>((w) => (r.wake = w));
    }
    while (r.acked < n) await new Promise<void>((w) => (r.wake = w));
    const ms = now() - start;
    out({ msgs: n, ms, perSec: (n / ms) * 1_000 });
    await nc.close();
    process.exit(0);
    break;
  }
  case 'paced': {
    // N messages at R a second, in a tick every 5 ms (what is due goes out together), as a chat's
    // bus sends: the figure is the CPU per message at that rate, not the most it can carry.
    const { system, c } = await troupeNode('send');
    const sink = (await waitFor(() => c.registry.whereis('sink'))) as unknown as Ref<SinkMsg>;
    let acked = 0;
    const acks = system.spawn((count: number) => {
      acked = count;
    });
    sink.send({ type: 'hello', ackTo: acks });
    await paced(
      (i) => sink.send(payload(i)),
      () => acked,
    );
    await c.leave();
    process.exit(0);
    break;
  }
  case 'raw-paced': {
    const r = await rawSender();
    await paced(
      (i) => r.nc.publish(`${cluster}.raw.sink`, r.packr.pack(payload(i))),
      () => r.acked,
    );
    await r.nc.close();
    process.exit(0);
    break;
  }
  case 'echo': {
    const { system, c } = await troupeNode('echo');
    const echo = system.spawn((m: EchoMsg) => m.reply({ seq: m.seq, body: m.body }));
    await c.registry.register('echo', echo);
    out('ready');
    break;
  }
  case 'call': {
    const { c } = await troupeNode('call');
    const echo = (await waitFor(() => c.registry.whereis('echo'))) as unknown as Ref<EchoMsg>;
    const lat: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = await echo.call({ type: 'msg', seq: i, body: 'x'.repeat(100) });
      lat.push(performance.now() - t0);
      if (r.seq !== i) throw new Error('wrong reply');
    }
    out({ calls: n, lat });
    await c.leave();
    process.exit(0);
    break;
  }
  case 'raw-echo': {
    const nc = await connect({ servers: url });
    const packr = new Packr({ mapsAsObjects: false, moreTypes: true });
    nc.subscribe(`${cluster}.raw.echo`, {
      callback: (_e, m) => {
        const req = packr.unpack(m.data) as { seq: number; body: string };
        m.respond(packr.pack({ seq: req.seq, body: req.body }));
      },
    });
    await nc.flush();
    out('ready');
    break;
  }
  case 'raw-call': {
    const nc = await connect({ servers: url });
    const packr = new Packr({ mapsAsObjects: false, moreTypes: true });
    const lat: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const m = await nc.request(`${cluster}.raw.echo`, packr.pack({ type: 'msg', seq: i, body: 'x'.repeat(100) }));
      const r = packr.unpack(m.data) as { seq: number };
      lat.push(performance.now() - t0);
      if (r.seq !== i) throw new Error('wrong reply');
    }
    out({ calls: n, lat });
    await nc.close();
    process.exit(0);
    break;
  }
  case 'member': {
    const { system, c } = await troupeNode(`member-${arg}`);
    let got = 0;
    for (let i = 0; i < 3; i++)
      c.groups.join(
        'bench',
        system.spawn((_m: unknown) => void got++),
      );
    out('ready');
    setInterval(() => out({ got }), 200);
    break;
  }
  case 'publish': {
    const { c } = await troupeNode('publisher');
    await waitFor(() => (c.groups.members('bench').length >= 9 ? true : undefined));
    const before = c.stats().framesOut;
    for (let i = 0; i < n; i++) c.groups.publish('bench', payload(i));
    const frames = c.stats().framesOut - before;
    out({ publishes: n, frames, perPublish: frames / n });
    await new Promise((r) => setTimeout(r, 200));
    await c.leave();
    process.exit(0);
    break;
  }
  case 'victim': {
    await troupeNode('victim', false);
    out('ready');
    break;
  }
  case 'watch': {
    const { system } = await troupeNode(`watch-${arg}`, false);
    system.subscribe((e) => {
      if (e.type === 'nodeup' && e.node === 'victim') out({ up: now() });
      if (e.type === 'nodedown' && e.node === 'victim') out({ down: now() });
    });
    out('ready');
    break;
  }
  default:
    throw new Error(`unknown role ${role}`);
}
setInterval(() => {}, 60_000);
