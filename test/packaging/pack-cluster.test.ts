/**
 * `@troupe/cluster` as npm would publish it: packed with `pnpm pack` beside the packed `troupe`,
 * installed with npm in a fresh ESM project, two systems in one program join a cluster through a
 * real nats-server and see each other; a consumer type-checks against the shipped types; `npm publish
 * --dry-run` of the tarball lists what would be uploaded, with the release metadata. Needs the
 * npm registry, and nats-server (skipped without it, except under CI=true).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { INSTALL, type Nats, natsServerPath, startNats } from '../cluster/nats.js';
import { assertPublishable, npmInstall, run } from './npm.js';

const troupeDir = fileURLToPath(new URL('../../packages/troupe/', import.meta.url));
const clusterDir = fileURLToPath(new URL('../../packages/cluster/', import.meta.url));

const program = `
import { joinCluster } from '@troupe/cluster';
import { ActorSystem } from 'troupe';

const servers = process.argv[2];
const a = new ActorSystem();
const b = new ActorSystem();
const ca = await joinCluster(a, { servers, node: 'a', heartbeatMs: 50, downAfterMs: 300 });
const cb = await joinCluster(b, { servers, node: 'b', heartbeatMs: 50, downAfterMs: 300 });
const end = Date.now() + 10_000;
while (!(a.nodes().includes('b') && b.nodes().includes('a')) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
const seen = [a.node, a.nodes(), b.node, b.nodes()];
// A call across nodes, by a name in the cluster registry.
const doubler = b.spawn((msg) => msg.reply(msg.n * 2));
await cb.registry.register('doubler', doubler);
while (ca.registry.whereis('doubler') === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
seen.push(await ca.registry.whereis('doubler').call({ type: 'double', n: 21 }));
await cb.leave();
await ca.leave();
console.log(JSON.stringify(seen));
`;

const typed = `
import { type Cluster, type ClusterOptions, joinCluster } from '@troupe/cluster';
import { ActorSystem, key, type Ref, type Reply } from 'troupe';

const options: ClusterOptions = { servers: 'nats://127.0.0.1:4222', node: 'a' };
const cluster: Promise<Cluster> = joinCluster(new ActorSystem(), options);
// @ts-expect-error: servers is required
const missing: ClusterOptions = { node: 'a' };
type Doubler = { type: 'double'; n: number; reply: Reply<number> };
const DOUBLER = key<Doubler>('doubler');
async function use(c: Cluster): Promise<number | undefined> {
  const ref: Ref<Doubler> | undefined = c.registry.whereis(DOUBLER);
  // @ts-expect-error: the key types the ref's messages
  ref?.send({ type: 'triple' });
  return ref?.call({ type: 'double', n: 1 });
}
console.log(cluster, missing, use);
`;

describe('packaging: @troupe/cluster installed with npm outside the workspace', () => {
  let root = '';
  let tarball = '';
  let app = '';
  let nats: Nats | undefined;

  before(
    async () => {
      root = mkdtempSync(join(tmpdir(), 'troupe-cluster-pack-'));
      const packs = join(root, 'packs');
      app = join(root, 'app');
      mkdirSync(packs);
      mkdirSync(app);
      run('pnpm', ['pack', '--pack-destination', packs], troupeDir);
      run('pnpm', ['pack', '--pack-destination', packs], clusterDir);
      const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
      assert.equal(tarballs.length, 2, tarballs.join(', '));
      const own = tarballs.find((t) => t.startsWith('troupe-cluster-'));
      assert.ok(own !== undefined, tarballs.join(', '));
      tarball = join(packs, own);
      writeFileSync(
        join(app, 'package.json'),
        JSON.stringify({ name: 'cluster-consumer', private: true, type: 'module' }),
      );
      writeFileSync(join(app, 'main.mjs'), program);
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
            skipLibCheck: false,
          },
          files: ['typed.ts'],
        }),
      );
      npmInstall(app, [...tarballs.map((t) => join(packs, t)), 'typescript@5.9.3', '@types/node@20']);
      const bin = natsServerPath();
      if (bin !== undefined) nats = await startNats(bin);
      else if (process.env.CI === 'true') assert.fail(`nats-server is missing; CI installs it with: ${INSTALL}`);
    },
    { timeout: 180_000 },
  );

  after(async () => {
    await nats?.stop();
    if (root !== '') rmSync(root, { recursive: true, force: true });
  });

  it('depends on troupe, msgpackr and the NATS clients by version, not workspace:', () => {
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules', '@troupe', 'cluster', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    assert.deepEqual(Object.keys(pkg.dependencies).sort(), [
      '@nats-io/kv',
      '@nats-io/transport-node',
      'msgpackr',
      'troupe',
    ]);
    for (const [name, range] of Object.entries(pkg.dependencies)) assert.doesNotMatch(range, /workspace:/, name);
  });

  it('joins two systems through a real nats-server, from dist, under plain node', (t) => {
    if (nats === undefined) {
      t.skip(`needs nats-server: ${INSTALL}`);
      return;
    }
    const out = JSON.parse(run(process.execPath, ['main.mjs', nats.url], app)) as unknown;
    assert.deepEqual(out, ['a', ['b'], 'b', ['a'], 42]);
  });

  it('type-checks a consumer against the shipped types (skipLibCheck off)', () => {
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    const out = run(process.execPath, [tsc, '-p', '.', '--pretty', 'false'], app);
    assert.doesNotMatch(out, /error TS\d+/);
  });

  it('passes npm publish --dry-run: release metadata, no tests, benchmarks or build info', { timeout: 120_000 }, () => {
    assertPublishable({
      tarball,
      cwd: root,
      packageDir: clusterDir,
      name: '@troupe/cluster',
      required: ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts'],
      installedManifest: join(app, 'node_modules', '@troupe', 'cluster', 'package.json'),
      directory: 'packages/cluster',
    });
  });
});
