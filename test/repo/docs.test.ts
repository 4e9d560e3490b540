/**
 * The API reference (`pnpm docs`, typedoc from the doc comments) builds with no warning, and the
 * check behind that is real: every public export of every entry point has a doc comment
 * (`validation.notDocumented`, warnings as errors), shown by a fixture without one, which fails.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const typedoc = join(root, 'node_modules', '.bin', 'typedoc');

describe('the API reference', () => {
  it('builds from the doc comments with no warning (pnpm docs)', { timeout: 120_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'troupe-docs-'));
    try {
      const r = spawnSync(typedoc, ['--out', out], { cwd: root, encoding: 'utf8' });
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.doesNotMatch(r.stdout + r.stderr, /\[warning\]/);
      for (const page of [
        'index.html',
        'modules/troupe.html',
        'modules/_troupe_cluster.html',
        'classes/troupe.ActorSystem.html',
        'documents/Actors.html',
        'documents/Observer.html',
      ])
        assert.ok(existsSync(join(out, page)), page);
      // The front page is the getting started (troupe's README), and links into the chapters.
      const index = readFileSync(join(out, 'index.html'), 'utf8');
      assert.match(index, /Quick start/);
      assert.match(index, /href="documents\/Supervision.html"/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('has every chapter of the manual in the site, each with its title', () => {
    const config = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8')) as { projectDocuments: string[] };
    const chapters = ['packages/troupe/docs', 'packages/uws/docs'].flatMap((d) =>
      readdirSync(join(root, d))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `${d}/${f}`),
    );
    assert.deepEqual([...config.projectDocuments].sort(), chapters.sort(), 'typedoc.json projectDocuments');
    // Each one has the title the site shows.
    for (const c of chapters) assert.match(readFileSync(join(root, c), 'utf8'), /^---\ntitle: .+\n---\n/, c);
  });

  it('fails on a public export without a doc comment', { timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-docs-check-'));
    try {
      writeFileSync(join(dir, 'x.ts'), 'export function undocumented(): number {\n  return 1;\n}\n');
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', target: 'ES2022' }, files: ['x.ts'] }),
      );
      // The options of the repo's typedoc.json that make the check.
      const r = spawnSync(
        typedoc,
        [
          '--tsconfig',
          'tsconfig.json',
          '--entryPoints',
          'x.ts',
          '--out',
          'out',
          '--name',
          'x',
          '--disableSources',
          '--validation.notDocumented',
          '--treatWarningsAsErrors',
        ],
        { cwd: dir, encoding: 'utf8' },
      );
      assert.notEqual(r.status, 0);
      assert.match(r.stdout + r.stderr, /undocumented \(CallSignature\).*does not have any documentation/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
