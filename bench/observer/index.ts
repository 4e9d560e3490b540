/**
 * The observer's cost (`pnpm bench:observer [--quick] [--json]`): a system of 20,000 actors (a
 * dynamic supervisor's idle children, and 100 actors that handle a message every millisecond between
 * them) served by `@troupe/uws/observer` on 127.0.0.1, measured in this process:
 *
 * - `observer-off-cpu-ms-per-s`: CPU per second with the observer mounted and no page open (the
 *   baseline column is the same system without it): nothing is sampled, so the ratio is noise.
 * - `observer-on-cpu-ms-per-s`: CPU per second with one page's feed open (a WebSocket client that
 *   reads every sample), sampling every second; the baseline is the same system with no page.
 * - `observer-sample-ms`: the CPU of one sample (the tree walk, the JSON, the write), the on-off
 *   difference per sample.
 * - `observer-sample-kb`: the bytes of one sample on the wire (a page of 100 children per actor).
 */
import { ActorSystem, dynamicSupervisor, type Ref, silentLogger, spawnChild } from 'troupe';
import WebSocket from 'ws';
import { uWS } from '../../packages/uws/src/native.js';
import { mountObserver } from '../../packages/uws/src/observer.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
if (args.some((a) => !['--quick', '--json'].includes(a))) {
  console.error('usage: pnpm bench:observer [--quick] [--json]');
  process.exit(2);
}
const out = json ? process.stderr : process.stdout;
const ACTORS = 20_000;
const SECONDS = quick ? 3 : 10;

type Tick = { type: 'tick' };

async function system(): Promise<{ system: ActorSystem; stop: () => void }> {
  const system = new ActorSystem({ logger: silentLogger });
  const sup = await system.start(
    dynamicSupervisor<Tick, undefined, undefined>({ child: { behavior: { name: 'idle', receive() {} } } }),
  );
  for (let i = 0; i < ACTORS - 100; i++) spawnChild(sup as never, undefined);
  const busy: Ref<Tick>[] = [];
  for (let i = 0; i < 100; i++) busy.push(system.spawn({ name: 'busy', receive() {} }) as Ref<Tick>);
  let k = 0;
  const timer = setInterval(() => (busy[k++ % busy.length] as Ref<Tick>).send({ type: 'tick' }), 1);
  return { system, stop: () => clearInterval(timer) };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function cpuPerS(seconds: number): Promise<number> {
  const c0 = cpuMs();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return ((cpuMs() - c0) / (performance.now() - t0)) * 1000;
}

async function main(): Promise<void> {
  const s = await system();
  await new Promise((r) => setTimeout(r, 500));
  const bare = await cpuPerS(SECONDS);

  const app = uWS.App();
  const observer = mountObserver(app, s.system, { intervalMs: 1_000 });
  let listenSocket: unknown;
  const port = await new Promise<number>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (ls) => {
      listenSocket = ls;
      if (ls === false) reject(new Error('listen'));
      else resolve(uWS.us_socket_local_port(ls as never));
    }),
  );
  const off = await cpuPerS(SECONDS);

  let bytes = 0;
  let samples = 0;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/observer/feed`);
  ws.on('message', (data: Buffer) => {
    bytes += data.length;
    samples++;
  });
  await new Promise((r) => ws.once('open', r));
  const s0 = observer.samples();
  const on = await cpuPerS(SECONDS);
  const taken = observer.samples() - s0;
  ws.close();
  observer.close();
  s.stop();
  await s.system.shutdown();
  uWS.us_listen_socket_close(listenSocket as never);

  const figures = [
    { name: 'observer-off-cpu-ms-per-s', value: off, unit: 'ms/s', baseline: bare },
    { name: 'observer-on-cpu-ms-per-s', value: on, unit: 'ms/s', baseline: off },
    { name: 'observer-sample-ms', value: ((on - off) * SECONDS) / Math.max(1, taken), unit: 'ms', baseline: null },
    { name: 'observer-sample-kb', value: bytes / Math.max(1, samples) / 1024, unit: 'KB', baseline: null },
  ];
  out.write(
    `observer with ${ACTORS.toLocaleString('en-US')} actors, ${SECONDS} s per window, node ${process.version}\n\n`,
  );
  out.write(
    `${'figure'.padEnd(28)}${'unit'.padEnd(8)}${'value'.padStart(10)}${'baseline'.padStart(10)}${'ratio'.padStart(8)}\n`,
  );
  for (const f of figures) {
    const ratio = f.baseline === null ? null : f.value / f.baseline;
    out.write(
      `${f.name.padEnd(28)}${f.unit.padEnd(8)}${f.value.toFixed(2).padStart(10)}${(f.baseline === null ? '-' : f.baseline.toFixed(2)).padStart(10)}${(ratio === null ? '-' : ratio.toFixed(2)).padStart(8)}\n`,
    );
    if (json) {
      const r = ratio === null ? null : Number(ratio.toFixed(2));
      const b = f.baseline === null ? null : Number(f.baseline.toFixed(2));
      console.log(
        JSON.stringify({
          suite: 'observer',
          name: f.name,
          value: Number(f.value.toFixed(2)),
          unit: f.unit,
          baseline: b,
          ratio: r,
        }),
      );
    }
  }
  process.exit(0);
}

await main();
