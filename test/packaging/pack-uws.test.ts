/**
 * `@troupe/uws` as npm would publish it: packed with `pnpm pack` (workspace dependency versions
 * rewritten), installed with npm beside the packed `troupe` in a fresh ESM project, it loads the
 * native uWebSockets.js build (from the npm alias it depends on), serves a WebSocket echo with one
 * actor per socket, unit-tests a socket actor with `@troupe/uws/testing`'s fake socket (without
 * loading uWebSockets.js), and type-checks against its shipped types; `npm publish --dry-run` of the
 * tarball lists what would be uploaded, and the manifest carries the release metadata. Needs the
 * npm registry.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UWS_FOR_NODE_20 } from '../../packages/uws/src/native.js';
import { assertPublishable, npmInstall, run } from './npm.js';

const troupeDir = fileURLToPath(new URL('../../packages/troupe/', import.meta.url));
const uwsDir = fileURLToPath(new URL('../../packages/uws/', import.meta.url));

const program = `
import { createConnection } from 'node:net';
import { isNativeUws, serve } from '@troupe/uws';
import { ActorSystem } from 'troupe';

const system = new ActorSystem();
const server = await serve(system, {
  socket: {
    behavior: {
      init: (_ctx, args) => args,
      receive(state, msg) {
        if (msg.type === 'socket.message') state.socket.send('echo ' + msg.data);
        return state;
      },
    },
  },
});
const sock = createConnection({ host: '127.0.0.1', port: server.port });
let got = Buffer.alloc(0);
const echoed = new Promise((resolve) => {
  sock.on('data', (d) => {
    got = Buffer.concat([got, d]);
    if (got.includes('101 Switching') && !sock.sentFrame) {
      sock.sentFrame = true;
      const mask = Buffer.from([1, 2, 3, 4]);
      const body = Buffer.from('hi').map((b, i) => b ^ mask[i % 4]);
      sock.write(Buffer.concat([Buffer.from([0x81, 0x82]), mask, body]));
    }
    const i = got.indexOf('echo hi');
    if (i >= 0) resolve(got.subarray(i, i + 7).toString());
  });
});
sock.write('GET /ws HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n');
const reply = await echoed;
sock.destroy();
await server.stop();
await system.shutdown();
console.log(JSON.stringify({ native: isNativeUws(), reply }));
`;

// The main entry must not load prom-client (an optional peer); `@troupe/uws/metrics` does.
const metricsProgram = `
import { createRequire } from 'node:module';
const cache = createRequire(import.meta.url).cache;
const loaded = () => Object.keys(cache).some((k) => k.includes('prom-client'));
const { ActorSystem } = await import('troupe');
await import('@troupe/uws');
const before = loaded();
const { actorMetrics } = await import('@troupe/uws/metrics');
const { Registry } = await import('prom-client');
const system = new ActorSystem();
const registry = new Registry();
const metrics = actorMetrics(system, { registry });
const echo = system.spawn((m) => m.reply(1));
await echo.call({ type: 'get' });
const text = await registry.metrics();
const count = /^troupe_call_duration_seconds_count\\{outcome="replied",request_type="get"\\} (\\d+)$/m.exec(text)?.[1];
metrics.close();
await system.shutdown();
console.log(JSON.stringify({ before, after: loaded(), count }));
`;

// `@troupe/uws/testing` unit-tests a socket actor with a fake socket, without loading uWebSockets.js.
const testingProgram = `
import { createRequire } from 'node:module';
import { createFakeSocket } from '@troupe/uws/testing';
import { ActorSystem } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';
const system = new ActorSystem({ clock: new SimulatedClock() });
const fake = createFakeSocket({ session: { name: 'ada' } });
fake.open(system, {
  init: (_ctx, args) => args,
  receive(state, msg) {
    if (msg.type === 'socket.message') state.socket.send('echo ' + msg.data);
    return state;
  },
});
fake.receive('hi');
await settle(system);
fake.close(1000, 'done');
await settle(system);
const uws = Object.keys(createRequire(import.meta.url).cache).some((k) => /uws-js-unofficial|uWebSockets/.test(k));
await system.shutdown();
console.log(JSON.stringify({ sent: fake.sent, closed: fake.closed, uws }));
`;

const typed = `
import { type SocketArgs, type SocketEvent, serve, socketServer } from '@troupe/uws';
import { actorMetrics } from '@troupe/uws/metrics';
import { createFakeSocket, type FakeSocket } from '@troupe/uws/testing';
import { Registry } from 'prom-client';
import { ActorSystem, type Behavior } from 'troupe';

const echo: Behavior<SocketEvent, SocketArgs<{ name: string }>, SocketArgs<{ name: string }>> = {
  init: (_ctx, args) => args,
  receive(state, msg) {
    if (msg.type === 'socket.message') state.socket.send(msg.data, msg.isBinary);
    // @ts-expect-error: there is no such event
    if (msg.type === 'socket.open') return state;
    return state;
  },
};
const name: string = ({} as SocketArgs<{ name: string }>).socket.session.name;
const system = new ActorSystem();
void serve(system, { socket: { behavior: echo }, upgrade: () => ({ ok: true, session: { name: 'x' } }) });
void socketServer({ socket: { behavior: echo } });
actorMetrics(system, { registry: new Registry(), prefix: 'app_' }).close();
// @ts-expect-error: the registry is required
actorMetrics(system, {});
const fake: FakeSocket<{ name: string }> = createFakeSocket({ session: { name: 'x' } });
const handle: SocketArgs<{ name: string }>['socket'] = fake.socket;
fake.open(system, echo).send({ type: 'socket.drain', bufferedAmount: 0 });
// @ts-expect-error: a socket actor must accept every SocketEvent
fake.open(system, (_msg: string) => {});
console.log(name, handle.remoteAddress);
`;

describe('packaging: @troupe/uws installed with npm outside the workspace', () => {
  let root = '';
  let tarball = '';
  let app = '';

  before(
    () => {
      root = mkdtempSync(join(tmpdir(), 'troupe-uws-pack-'));
      const packs = join(root, 'packs');
      app = join(root, 'app');
      mkdirSync(packs);
      mkdirSync(app);
      run('pnpm', ['pack', '--pack-destination', packs], troupeDir);
      run('pnpm', ['pack', '--pack-destination', packs], uwsDir);
      const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
      assert.equal(tarballs.length, 2, tarballs.join(', '));
      const own = tarballs.find((t) => t.startsWith('troupe-uws-'));
      assert.ok(own !== undefined, tarballs.join(', '));
      tarball = join(packs, own);
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'uws-consumer', private: true, type: 'module' }));
      writeFileSync(join(app, 'main.mjs'), program);
      writeFileSync(join(app, 'metrics.mjs'), metricsProgram);
      writeFileSync(join(app, 'testing.mjs'), testingProgram);
      writeFileSync(join(app, 'typed.ts'), typed);
      writeFileSync(
        join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            target: 'ES2022',
            types: ['node'],
            noEmit: true,
            skipLibCheck: true,
          },
          files: ['typed.ts'],
        }),
      );
      npmInstall(
        app,
        [
          ...tarballs.map((t) => join(packs, t)),
          // The peer, as the README says to install it on Node 20.
          UWS_FOR_NODE_20,
          'typescript@5.9.3',
          'prom-client@^15.1.3',
          '@types/node@20',
        ],
        { scripts: true },
      );
    },
    { timeout: 180_000 },
  );

  after(() => {
    if (root !== '') rmSync(root, { recursive: true, force: true });
  });

  it('depends on troupe by version, and on uWebSockets.js as a peer the application installs', () => {
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules/@troupe/uws/package.json'), 'utf8'));
    assert.match(pkg.dependencies.troupe, /^\^?\d+\.\d+\.\d+$/);
    assert.equal(pkg.dependencies['uWebSockets.js'], undefined, 'not a dependency: a peer');
    assert.equal(pkg.peerDependencies['uWebSockets.js'], '>=20.30.0-0');
    assert.deepEqual(pkg.peerDependenciesMeta['uWebSockets.js'], { optional: true });
    assert.equal(pkg.exports['.'].source, undefined, 'the source condition is not published');
    assert.deepEqual(pkg.exports['./metrics'], { types: './dist/metrics.d.ts', default: './dist/metrics.js' });
    assert.deepEqual(pkg.exports['./testing'], { types: './dist/testing.d.ts', default: './dist/testing.js' });
    assert.equal(pkg.peerDependencies['prom-client'], '^15.1.3');
    assert.deepEqual(pkg.peerDependenciesMeta['prom-client'], { optional: true });
  });

  it('loads the native uWebSockets.js and echoes a frame through a socket actor, with plain node', () => {
    const out = run(process.execPath, ['main.mjs'], app);
    assert.deepEqual(JSON.parse(out.trim().split('\n').pop() as string), { native: true, reply: 'echo hi' });
  });

  it('serves prom-client metrics from @troupe/uws/metrics, and loads prom-client only from there', () => {
    const out = run(process.execPath, ['metrics.mjs'], app);
    assert.deepEqual(JSON.parse(out.trim().split('\n').pop() as string), { before: false, after: true, count: '1' });
  });

  it('unit-tests a socket actor with @troupe/uws/testing, without loading uWebSockets.js', () => {
    const out = run(process.execPath, ['testing.mjs'], app);
    assert.deepEqual(JSON.parse(out.trim().split('\n').pop() as string), {
      sent: [{ data: 'echo hi', isBinary: false }],
      closed: { code: 1000, reason: 'done', by: 'peer' },
      uws: false,
    });
  });

  it('type-checks a consumer against the shipped types', () => {
    run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', '.'], app);
  });

  it('passes npm publish --dry-run: release metadata, no tests, benchmarks or build info', { timeout: 120_000 }, () => {
    assertPublishable({
      tarball,
      cwd: root,
      packageDir: uwsDir,
      name: '@troupe/uws',
      required: [
        'package.json',
        'README.md',
        'LICENSE',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/metrics.js',
        'dist/metrics.d.ts',
        'dist/testing.js',
        'dist/testing.d.ts',
      ],
      installedManifest: join(app, 'node_modules/@troupe/uws/package.json'),
      directory: 'packages/uws',
    });
  });
  it('says which uWebSockets.js to install when the peer is missing', () => {
    const peer = join(app, 'node_modules', 'uWebSockets.js');
    const aside = join(app, 'node_modules', '.uWebSockets.js-aside');
    renameSync(peer, aside);
    try {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', "await import('@troupe/uws')"], {
        cwd: app,
        encoding: 'utf8',
      });
      assert.notEqual(r.status, 0);
      assert.match(
        r.stderr,
        /UwsMissingError: @troupe\/uws needs uWebSockets\.js, a peer dependency it does not install itself/,
      );
      assert.match(
        r.stderr,
        /npm install uWebSockets\.js@npm:@trufflesuite\/uws-js-unofficial@20\.30\.0-unofficial\.0/,
      );
      // The testing entry does not need it.
      const testing = spawnSync(process.execPath, ['testing.mjs'], { cwd: app, encoding: 'utf8' });
      assert.equal(testing.status, 0, testing.stderr);
    } finally {
      renameSync(aside, peer);
    }
  });
});
