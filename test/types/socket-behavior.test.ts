/**
 * The type-level test of `@troupe/uws`: a socket actor's behaviour must accept every `SocketEvent`
 * its connection sends, or `serve`, `socketServer` and a fake socket's `open` do not compile.
 * `fixtures/socket-behavior.ts` must compile cleanly (its `@ts-expect-error` lines are the refusals);
 * `fixtures/wrong-socket-behavior.ts` must fail with one error whose message says what is wrong.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import ts from 'typescript';
import { compilerOptions, diagnosticsOf, format, lineOf, root } from './compile.js';

const fixtures = join(root, 'test/types/fixtures');
const clean = join(fixtures, 'socket-behavior.ts');
const broken = join(fixtures, 'wrong-socket-behavior.ts');

let program: ts.Program;

describe('socket actor behaviour types', () => {
  before(() => {
    program = ts.createProgram([clean, broken], compilerOptions());
  });

  it('resolves @troupe/uws and @troupe/uws/testing to the workspace sources', () => {
    const files = program.getSourceFiles().map((f) => f.fileName);
    assert.ok(files.some((f) => f.endsWith('/packages/uws/src/server.ts')));
    assert.ok(files.some((f) => f.endsWith('/packages/uws/src/fake-socket.ts')));
    assert.deepEqual(
      files.filter((f) => /\/packages\/(uws|troupe)\/dist\//.test(f)),
      [],
    );
  });

  it('accepts behaviours of SocketEvent, of a union with it, or of unknown, and refuses the rest', () => {
    const expectations = readFileSync(clean, 'utf8').match(/\/\/ @ts-expect-error/g) ?? [];
    assert.ok(expectations.length >= 8, `the fixture holds its expected errors (${expectations.length})`);
    const ds = diagnosticsOf(program, clean);
    assert.equal(ds.length, 0, `expected no diagnostics, got:\n${format(ds)}`);
  });

  it('refuses a behaviour of other messages with an error that says a socket actor must accept every SocketEvent', () => {
    const ds = diagnosticsOf(program, broken);
    assert.equal(ds.length, 1, format(ds));
    const d = ds[0] as ts.Diagnostic;
    const line =
      readFileSync(broken, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('void serve(')) + 1;
    assert.equal(d.category, ts.DiagnosticCategory.Error);
    assert.equal(lineOf(d), line);
    assert.match(
      ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      /a socket actor must accept every SocketEvent; it does not accept/,
    );
  });
});
