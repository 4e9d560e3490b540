/**
 * The runtime's layers only import down (the manual's Internals chapter): no cycle between the
 * top-level folders and files of packages/troupe/src, type-only imports included.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain ESM script without types
import { layerCycles } from '../../scripts/layers.mjs';

const find = layerCycles as (dir: string) => Array<{ layers: string[]; examples: string[] }>;
const src = fileURLToPath(new URL('../../packages/troupe/src', import.meta.url));

describe('the runtime layers', () => {
  it('import only down: no cycle between the layers of packages/troupe/src', () => {
    assert.deepEqual(find(src), []);
  });

  it('finds a cycle made of type-only imports (the check sees cycles at all)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'layers-'));
    try {
      mkdirSync(join(dir, 'a'));
      mkdirSync(join(dir, 'b'));
      writeFileSync(join(dir, 'a', 'x.ts'), "import { y } from '../b/y.js';\nexport const x = y;\n");
      writeFileSync(join(dir, 'b', 'y.ts'), "import type { X } from '../a/x.js';\nexport const y = 1;\n");
      assert.deepEqual(find(dir), [{ layers: ['a', 'b'], examples: ['a/x.ts -> b/y.ts', 'b/y.ts -> a/x.ts'] }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
