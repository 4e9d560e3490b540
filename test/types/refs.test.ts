/**
 * The type-level test: compiles the fixtures in ./fixtures with the TypeScript compiler API, the
 * repo's strict options (test/tsconfig.json), NodeNext and `troupe` resolved to the workspace's
 * sources, and checks the diagnostics. `fixtures/refs.ts` must compile cleanly: its
 * `@ts-expect-error` lines are the errors a user relies on (a wrong message, a wrong reply type, a
 * call without a reply, a ref used covariantly), and one that stops being an error is itself a
 * diagnostic. `fixtures/wrong-message.ts` must fail with one known error, proving the harness sees
 * errors at all.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import ts from 'typescript';
import { compilerOptions, diagnosticsOf, format, lineOf, root } from './compile.js';

const fixtures = join(root, 'test/types/fixtures');
const clean = join(fixtures, 'refs.ts');
const broken = join(fixtures, 'wrong-message.ts');

let program: ts.Program;

function diagnostics(file: string): readonly ts.Diagnostic[] {
  return diagnosticsOf(program, file);
}

/** The root README's "A taste", as a module of its own. */
function tasteOfRootReadme(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = /## A taste\s+```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(m !== null, 'the root README has a ts block under "A taste"');
  return `${m[1]}\nexport {};\n`;
}

describe('the root README', () => {
  it('compiles "A taste" strictly, with noUnusedLocals: every value it declares is used', () => {
    const file = join(fixtures, 'readme-taste.ts');
    const options = { ...compilerOptions(), noUnusedLocals: true, noUnusedParameters: true };
    const host = ts.createCompilerHost(options);
    const read = host.readFile.bind(host);
    const exists = host.fileExists.bind(host);
    const source = tasteOfRootReadme();
    host.readFile = (f) => (f === file ? source : read(f));
    host.fileExists = (f) => f === file || exists(f);
    const p = ts.createProgram([file], options, host);
    const sf = p.getSourceFile(file);
    assert.ok(sf !== undefined);
    const ds = [...p.getSyntacticDiagnostics(sf), ...p.getSemanticDiagnostics(sf)];
    assert.equal(ds.length, 0, format(ds));
  });
});

describe('Ref and call types', () => {
  before(() => {
    program = ts.createProgram([clean, broken], compilerOptions());
  });

  it('resolves troupe to the workspace sources through the source condition', () => {
    const files = program.getSourceFiles().map((f) => f.fileName);
    assert.ok(
      files.some((f) => f.endsWith('/packages/troupe/src/index.ts')),
      'troupe/src/index.ts is compiled',
    );
    assert.deepEqual(
      files.filter((f) => f.includes('/packages/troupe/dist/')),
      [],
      'nothing comes from dist',
    );
    assert.deepEqual(program.getOptionsDiagnostics(), []);
  });

  it('rejects what it must and accepts the rest: every @ts-expect-error in the fixture is an error', () => {
    const expectations = readFileSync(clean, 'utf8').match(/\/\/ @ts-expect-error/g) ?? [];
    assert.ok(expectations.length >= 10, `the fixture holds its expected errors (${expectations.length})`);
    const ds = diagnostics(clean);
    assert.equal(ds.length, 0, `expected no diagnostics, got:\n${format(ds)}`);
  });

  it('reports a message outside the union as an error at that line (the harness sees errors)', () => {
    const ds = diagnostics(broken);
    const source = readFileSync(broken, 'utf8').split('\n');
    const line = source.findIndex((l) => l.includes("ref.send({ type: 'dec'")) + 1;
    assert.ok(line > 0);
    assert.equal(ds.length, 1, format(ds));
    const d = ds[0]!;
    assert.equal(d.category, ts.DiagnosticCategory.Error);
    assert.equal(lineOf(d), line);
    assert.equal(d.code, 2322);
    assert.match(ts.flattenDiagnosticMessageText(d.messageText, '\n'), /Type '"dec"' is not assignable to type/);
  });
});
