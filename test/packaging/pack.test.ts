/**
 * The package as npm would publish it works outside the workspace. `pnpm pack` builds `dist/` (the
 * package's `prepack`) and makes the tarball; npm installs it into a fresh ESM project in a temp
 * dir; then plain `node` runs a program on it and the installed `tsc` type-checks a file against
 * its shipped types; `npm publish --dry-run` of the tarball lists what would be uploaded (no tests,
 * benchmarks or build info) and the published manifest carries the release metadata. Needs the npm
 * registry (typescript, @types/node, denque); 10-15 s on a 2-core machine, warm or cold npm cache;
 * the hook allows three minutes for a slow network.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { assertPublishable, npmInstall, run } from './npm.js';

const packageDir = fileURLToPath(new URL('../../packages/troupe/', import.meta.url));

/** Every file under `dir`, as paths relative to it with forward slashes. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...filesUnder(p).map((f) => `${entry.name}/${f}`));
    } else {
      out.push(entry.name);
    }
  }
  return out.sort();
}

/** Every string target of an `exports` map, with the conditions that lead to it. */
function exportTargets(node: unknown, path: string[] = []): Array<{ path: string[]; target: string }> {
  if (typeof node === 'string') return [{ path, target: node }];
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => exportTargets(v, [...path, k]));
}

const program = `
import { ActorSystem, DEFAULT_CALL_TIMEOUT_MS, TimeoutError } from 'troupe';
import { createProbe, SimulatedClock, settle } from 'troupe/testing';

const clock = new SimulatedClock();
const system = new ActorSystem({ clock });
const counter = system.spawn(
  {
    init: (_ctx, start) => start,
    receive(count, msg) {
      switch (msg.type) {
        case 'inc':
          return count + msg.by;
        case 'get':
          msg.reply(count);
          return count;
        case 'ignore':
          return count;
      }
    },
  },
  { args: 40 },
);
system.sendAfter(counter, { type: 'inc', by: 2 }, 1_000);
clock.advance(999);
await settle(system);
const before = await counter.call({ type: 'get' });
clock.advance(1);
await settle(system);
const after = await counter.call({ type: 'get' });
const unanswered = counter.call({ type: 'ignore' });
clock.advance(DEFAULT_CALL_TIMEOUT_MS);
const timedOut = await unanswered.then(() => 'replied', (e) => (e instanceof TimeoutError ? e.message : String(e)));
const probe = createProbe(system);
probe.ref.send('hello');
const probed = await probe.expectMessage('hello');
await system.shutdown();
console.log(JSON.stringify({ before, after, timedOut, probed, resolved: import.meta.resolve('troupe') }));
`;

const typed = `
import { ActorSystem, type Behavior, type Ref, type Reply, TimeoutError } from 'troupe';
import { createProbe, SimulatedClock, settle } from 'troupe/testing';

type CounterMsg = { type: 'inc'; by: number } | { type: 'get'; reply: Reply<number> };

const counter: Behavior<CounterMsg, number, number> = {
  init: (_ctx, start) => start,
  receive(count, msg) {
    switch (msg.type) {
      case 'inc':
        return count + msg.by;
      case 'get':
        msg.reply(count);
        return count;
      default: {
        const unhandled: never = msg;
        return unhandled;
      }
    }
  },
};

const system = new ActorSystem({ clock: new SimulatedClock() });
const ref: Ref<CounterMsg> = system.spawn(counter, { args: 1 });
const sent: boolean = ref.send({ type: 'inc', by: 2 });
const total: Promise<number> = ref.call({ type: 'get' }, { timeoutMs: 100 });
// @ts-expect-error: by must be a number
ref.send({ type: 'inc', by: '2' });
// @ts-expect-error: 'reset' is not a CounterMsg
ref.send({ type: 'reset' });
// @ts-expect-error: 'inc' is not a request (it has no reply)
void ref.call({ type: 'inc', by: 1 });
const incOnly: Ref<{ type: 'inc'; by: number }> = ref;
// @ts-expect-error: a ref that takes only 'inc' cannot stand for one that also takes 'get'
const wider: Ref<CounterMsg> = incOnly;
const anyActor: Ref<never> = ref;
const probe = createProbe<string>(system);
const settled: Promise<void> = settle(system);
// @ts-expect-error: the scheduler is the runtime's, not part of the public API
void system.scheduler;
// @ts-expect-error: spawning goes through spawn and start only
void system.spawnCell;
// @ts-expect-error: events are read with subscribe; emitting is the runtime's
void system.emit;
console.log(sent, total, wider, anyActor, probe.ref.id, settled, TimeoutError.name);
`;

/** Names of the runtime's internals: none may appear in the types a consumer's compiler reads. */
const INTERNAL_NAMES = [
  'Cell',
  'cellOf',
  'spawnCell',
  'emit',
  'unlist',
  'deadLetter',
  'reportCrash',
  'nextMonitorId',
  'callTimeouts',
  'runtimeOf',
  'schedulerOf',
  'SystemRuntime',
  'Runtime',
  'Scheduler',
  'drainNow',
  'SupervisedHook',
  'StaticCore',
  'DynamicCore',
  'Impl',
  'toImpl',
];

const tsconfig = {
  compilerOptions: {
    strict: true,
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2022',
    lib: ['ES2022'],
    types: ['node'],
    noEmit: true,
    // Check the shipped .d.ts files too, not only the file that uses them.
    skipLibCheck: false,
  },
  files: ['typed.ts'],
};

const requireCheck = `
const out = { requireModule: Boolean(process.features.require_module) };
try {
  out.loaded = typeof require('troupe').ActorSystem;
} catch (e) {
  out.code = e.code;
}
console.log(JSON.stringify(out));
`;

describe('packaging: the packed tarball, installed with npm outside the workspace', () => {
  let root = '';
  let tarball = '';
  let app = '';
  let installed = '';

  before(
    () => {
      root = mkdtempSync(join(tmpdir(), 'troupe-pack-'));
      const packs = join(root, 'packs');
      app = join(root, 'app');
      mkdirSync(packs);
      mkdirSync(app);

      run('pnpm', ['pack', '--pack-destination', packs], packageDir);
      const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
      assert.equal(tarballs.length, 1, `expected one tarball, got ${tarballs.join(', ')}`);
      tarball = join(packs, tarballs[0] as string);

      writeFileSync(
        join(app, 'package.json'),
        `${JSON.stringify({ name: 'troupe-consumer', private: true, type: 'module' }, null, 2)}\n`,
      );
      writeFileSync(join(app, 'main.mjs'), program);
      writeFileSync(join(app, 'typed.ts'), typed);
      writeFileSync(join(app, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
      writeFileSync(join(app, 'require-check.cjs'), requireCheck);
      npmInstall(app, [join(packs, tarballs[0] as string), 'typescript@5.9.3', '@types/node@20']);
      installed = join(app, 'node_modules', 'troupe');
    },
    { timeout: 180_000 },
  );

  after(() => {
    if (root !== '') rmSync(root, { recursive: true, force: true });
  });

  it('ships dist with its types, the README and the sources the maps point to, and no tests', () => {
    const files = filesUnder(installed);
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/testing.js', 'dist/testing.d.ts', 'README.md']) {
      assert.ok(files.includes(f), `${f} is missing from the tarball`);
    }
    const tests = files.filter((f) => /(^|\/)(test|tests|__tests__)\/|\.(test|spec)\.[cm]?[jt]s$/.test(f));
    assert.deepEqual(tests, [], 'test files in the tarball');
    assert.deepEqual(
      files.filter((f) => f.endsWith('.tsbuildinfo')),
      [],
      'build info in the tarball',
    );

    // dist is a fresh build of src: one .js and one .d.ts per source file, nothing stale.
    const sources = files.filter((f) => f.startsWith('src/') && f.endsWith('.ts')).map((f) => f.slice(4, -3));
    const built = files.filter((f) => f.startsWith('dist/') && f.endsWith('.js')).map((f) => f.slice(5, -3));
    assert.ok(sources.length > 0, 'no sources shipped');
    assert.deepEqual(built, sources, 'dist/*.js and src/*.ts differ');
    for (const s of sources) assert.ok(files.includes(`dist/${s}.d.ts`), `dist/${s}.d.ts is missing`);

    // Declaration maps point at shipped sources, so "go to definition" lands in real code.
    for (const map of files.filter((f) => f.endsWith('.d.ts.map'))) {
      const { sources: mapped } = JSON.parse(readFileSync(join(installed, map), 'utf8')) as { sources: string[] };
      for (const s of mapped) {
        const target = relative(installed, join(installed, dirname(map), s))
          .split(sep)
          .join('/');
        assert.ok(existsSync(join(installed, target)), `${map} points at ${target}, which is not shipped`);
      }
    }
  });

  it('publishes an ESM-only manifest whose exports exist and have no source condition', () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      type?: string;
      exports?: unknown;
      dependencies?: Record<string, string>;
    };
    assert.equal(manifest.type, 'module');
    const targets = exportTargets(manifest.exports);
    assert.ok(targets.length > 0, 'no exports');
    for (const { path, target } of targets) {
      assert.ok(!path.includes('source'), `exports ${path.join(' > ')} ships the workspace-only source condition`);
      assert.ok(existsSync(join(installed, target)), `exports ${path.join(' > ')} -> ${target} does not exist`);
    }
    for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
      assert.ok(!range.startsWith('workspace:'), `dependency ${name} is ${range}`);
    }
  });

  it('runs troupe and troupe/testing under plain node, from dist, with or without a source condition', () => {
    for (const flags of [[], ['--conditions=source']]) {
      const out = JSON.parse(run(process.execPath, [...flags, 'main.mjs'], app)) as Record<string, unknown>;
      assert.deepEqual(out, {
        before: 40,
        after: 42,
        timedOut: "call { type: 'ignore' } to Ref<1> timed out after 5000 ms",
        probed: 'hello',
        resolved: pathToFileURL(join(realpathSync(app), 'node_modules', 'troupe', 'dist', 'index.js')).href,
      });
    }
  });

  it('type-checks a consumer against the shipped types with zero diagnostics, refusing wrong messages', () => {
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    const out = run(process.execPath, [tsc, '-p', '.', '--pretty', 'false', '--listFiles'], app);
    assert.doesNotMatch(out, /error TS\d+/);
    const listed = out.split(/\r?\n/).map((l) => l.trim());
    assert.ok(
      listed.some((l) => l.endsWith('/node_modules/troupe/dist/index.d.ts')),
      'tsc did not read troupe/dist/index.d.ts',
    );
    assert.ok(
      listed.some((l) => l.endsWith('/node_modules/troupe/dist/testing.d.ts')),
      'tsc did not read troupe/dist/testing.d.ts',
    );
    assert.ok(!listed.some((l) => /\/node_modules\/troupe\/src\//.test(l)), 'tsc read the TypeScript sources');
  });

  it('shows only the public API in the types a consumer reads: no internal name, no @internal', () => {
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    const out = run(process.execPath, [tsc, '-p', '.', '--pretty', 'false', '--listFiles'], app);
    const read = out
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => /\/node_modules\/troupe\/dist\/.*\.d\.ts$/.test(l));
    assert.ok(read.length > 5, `tsc read only ${read.length} troupe declaration files`);
    const found: string[] = [];
    for (const file of read) {
      const text = readFileSync(file, 'utf8');
      if (text.includes('@internal')) found.push(`${relative(installed, file)}: @internal`);
      // Declarations only: the docs may speak of the scheduler or of emitting events.
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      for (const name of INTERNAL_NAMES) {
        if (new RegExp(`\\b${name}\\b`).test(code)) found.push(`${relative(installed, file)}: ${name}`);
      }
    }
    assert.deepEqual(found, []);
  });

  it("is ESM only: require('troupe') works only where Node itself can require ES modules", () => {
    const out = JSON.parse(run(process.execPath, ['--no-warnings', 'require-check.cjs'], app)) as {
      requireModule: boolean;
      loaded?: string;
      code?: string;
    };
    if (out.requireModule) assert.deepEqual(out, { requireModule: true, loaded: 'function' });
    else assert.deepEqual(out, { requireModule: false, code: 'ERR_REQUIRE_ESM' });
  });

  it('passes npm publish --dry-run: release metadata, no tests, benchmarks or build info', { timeout: 120_000 }, () => {
    assertPublishable({
      tarball,
      cwd: root,
      packageDir: packageDir,
      name: 'troupe',
      required: [
        'package.json',
        'README.md',
        'LICENSE',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/testing.js',
        'dist/testing.d.ts',
        // The manual's chapters, which the README links.
        'docs/actors.md',
        'docs/supervision.md',
        'docs/cluster.md',
      ],
      installedManifest: join(installed, 'package.json'),
      directory: 'packages/troupe',
    });
  });
});
