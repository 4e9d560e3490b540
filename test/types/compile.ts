/**
 * What the type-level tests share: the compiler options (the repo's strict options from
 * test/tsconfig.json, NodeNext, and the workspace packages' entry points mapped to their sources),
 * and helpers to read a program's diagnostics.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(root, 'test/tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  assert.ok(parsed !== undefined);
  return {
    ...parsed.options,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: ['source'],
    // The package's exports map lists `types` (always active in TypeScript) before `source`, so the
    // condition alone would resolve to dist/*.d.ts, which may be stale or missing. Map the entry
    // points to the workspace sources instead, as the `source` condition means to.
    paths: {
      troupe: [join(root, 'packages/troupe/src/index.ts')],
      'troupe/testing': [join(root, 'packages/troupe/src/testing.ts')],
      '@troupe/uws': [join(root, 'packages/uws/src/index.ts')],
      '@troupe/uws/testing': [join(root, 'packages/uws/src/testing.ts')],
    },
  };
}

/** The syntactic and semantic diagnostics of one file of `program`. */
export function diagnosticsOf(program: ts.Program, file: string): readonly ts.Diagnostic[] {
  const sf = program.getSourceFile(file);
  assert.ok(sf !== undefined, `${file} is in the program`);
  return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
}

export function format(ds: readonly ts.Diagnostic[]): string {
  return ts.formatDiagnostics(ds, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => '\n',
  });
}

export function lineOf(d: ts.Diagnostic): number {
  assert.ok(d.file !== undefined && d.start !== undefined);
  return d.file.getLineAndCharacterOfPosition(d.start).line + 1;
}
