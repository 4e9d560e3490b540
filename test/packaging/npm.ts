/**
 * What the packaging tests share: running a command with its output in the error, and npm's
 * environment in a consumer project outside the workspace.
 */
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Runs a command to completion; throws with its output when it fails. */
export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    cwd,
    env,
    encoding: 'utf8',
    shell: process.platform === 'win32',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 170_000,
  });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  return r.stdout;
}

/**
 * The environment for npm in the consumer project: pnpm's own `npm_*` variables (lifecycle, package,
 * pnpm-only settings) stay behind; registry, proxy and cache settings come along.
 */
export function npmEnv(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|userconfig|globalconfig|proxy|https_proxy|noproxy|strict_ssl|cafile|ca)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if ((/^npm_/i.test(k) || /^pnpm_/i.test(k)) && !keep.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/**
 * What `npm publish --dry-run --json` would upload from a packed tarball, run outside the
 * workspace: nothing is published (`--dry-run`, and `npm_config_dry_run` too) and no login is
 * needed (npm only warns). npm 10 prints the report itself; npm 11 keys it by package name.
 */
export function publishDryRun(tarball: string, cwd: string): { name: string; version: string; files: string[] } {
  const out = run(
    'npm',
    ['publish', tarball, '--dry-run', '--json', '--ignore-scripts', '--no-update-notifier', '--loglevel=error'],
    cwd,
    { ...npmEnv(), npm_config_dry_run: 'true' },
  );
  const parsed = JSON.parse(out) as Record<string, unknown>;
  const report = (typeof parsed.id === 'string' ? parsed : Object.values(parsed)[0]) as {
    name: string;
    version: string;
    files: Array<{ path: string }>;
  };
  return { name: report.name, version: report.version, files: report.files.map((f) => f.path).sort() };
}

/** Files a tarball must not hold: tests, benchmarks, build info, anything beyond dist, src, the docs. */
export function unpublishable(files: string[]): string[] {
  return files.filter(
    (f) =>
      /(^|\/)(test|tests|__tests__|bench|benches|benchmarks?)\//.test(f) ||
      /\.(test|spec|bench)\./.test(f) ||
      f.endsWith('.tsbuildinfo') ||
      // The manual's chapters ship beside the README that links them (docs/*.md, nothing else there).
      !/^(dist\/|src\/|docs\/[\w-]+\.md$|README\.md$|LICENSE$|package\.json$)/.test(f),
  );
}

/** The condition objects of an `exports` map that name `types` but not first, as key paths. */
export function typesNotFirst(node: unknown, path: string[] = []): string[] {
  if (node === null || typeof node !== 'object') return [];
  const keys = Object.keys(node);
  const here = keys.includes('types') && keys[0] !== 'types' ? [path.join(' > ')] : [];
  return [...here, ...Object.entries(node).flatMap(([k, v]) => typesNotFirst(v, [...path, k]))];
}

/** The release metadata every published manifest carries. */
export function assertReleaseMetadata(manifest: Record<string, unknown>, directory: string): void {
  assert.equal(typeof manifest.description, 'string');
  assert.ok((manifest.description as string).length > 0, 'no description');
  assert.ok(Array.isArray(manifest.keywords) && manifest.keywords.length > 0, 'no keywords');
  assert.equal(manifest.license, 'MIT');
  assert.equal((manifest.repository as { directory?: string } | undefined)?.directory, directory);
  assert.equal(manifest.type, 'module');
  assert.equal(manifest.sideEffects, false);
  // The same list in every package, and `docs` (the manual's chapters) where a package has them.
  assert.deepEqual(
    (manifest.files as string[]).filter((f) => f !== 'docs'),
    ['dist', '!dist/.tsbuildinfo', 'src', 'README.md', 'LICENSE'],
  );
  assert.deepEqual(typesNotFirst(manifest.exports), [], 'exports whose types condition is not first');
}

/**
 * Installs `specs` (tarballs and registry packages) into the consumer project `app` with npm, as a
 * user would: no lockfile, no audit, from the cache when it can. `scripts: true` lets install
 * scripts run (a native build that must load); by default they do not.
 */
export function npmInstall(app: string, specs: readonly string[], options: { readonly scripts?: boolean } = {}): void {
  run(
    'npm',
    [
      'install',
      ...specs,
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
      ...(options.scripts === true ? [] : ['--ignore-scripts']),
      '--prefer-offline',
      '--loglevel=error',
    ],
    app,
    npmEnv(),
  );
}

/**
 * What a package's pack test asserts of `npm publish --dry-run` on its tarball and of its installed
 * manifest: the workspace's name and version, nothing unpublishable, the `required` files, and the
 * release metadata.
 */
export function assertPublishable(p: {
  readonly tarball: string;
  readonly cwd: string;
  readonly packageDir: string;
  readonly name: string;
  readonly required: readonly string[];
  readonly installedManifest: string;
  readonly directory: string;
}): void {
  const workspace = JSON.parse(readFileSync(join(p.packageDir, 'package.json'), 'utf8')) as { version: string };
  const report = publishDryRun(p.tarball, p.cwd);
  assert.equal(report.name, p.name);
  assert.equal(report.version, workspace.version);
  assert.deepEqual(unpublishable(report.files), [], 'files that should not be published');
  for (const f of p.required) assert.ok(report.files.includes(f), `${f} is missing from the tarball`);
  const manifest: Record<string, unknown> = JSON.parse(readFileSync(p.installedManifest, 'utf8'));
  assertReleaseMetadata(manifest, p.directory);
}
