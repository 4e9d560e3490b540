#!/usr/bin/env node
// The runtime's layers (a top-level folder or file of a source tree: actor/, mailbox/, system/,
// logger.ts, ...) may only import down: this prints every cycle between layers, with imports that
// close it, and the count last; it exits 1 when there is one. Every relative import counts,
// `import type` too. Usage: node scripts/layers.mjs [DIR] (default packages/troupe/src).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

/** Every layer cycle under `root`, as { layers, examples } (examples: 'a.ts -> b.ts'). */
export function layerCycles(root) {
  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) files.push(normalize(p));
    }
  };
  walk(root);
  const fileset = new Set(files);
  const layer = (p) => relative(root, p).split(sep)[0];
  const imp = /(?:import|export)\s[^'";]*?from\s+['"](\.[^'"]+)['"]|import\s*\(\s*['"](\.[^'"]+)['"]/g;
  const edges = new Map();
  const why = new Map();
  for (const p of files) {
    for (const m of readFileSync(p, 'utf8').matchAll(imp)) {
      const t = normalize(join(dirname(p), m[1] ?? m[2]));
      const c = [t, t.replace(/\.js$/, '.ts'), `${t}.ts`, join(t, 'index.ts')].find((x) => fileset.has(x));
      if (c === undefined) continue;
      const a = layer(p);
      const b = layer(c);
      if (a === b) continue;
      if (!edges.has(a)) edges.set(a, new Set());
      edges.get(a).add(b);
      if (!why.has(`${a}>${b}`)) why.set(`${a}>${b}`, `${relative(root, p)} -> ${relative(root, c)}`);
    }
  }
  // Tarjan's strongly connected components.
  const index = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const comps = [];
  let n = 0;
  const visit = (v) => {
    index.set(v, n);
    low.set(v, n);
    n++;
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const c = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) comps.push(c.sort());
    }
  };
  const nodes = new Set([...edges.keys(), ...[...edges.values()].flatMap((s) => [...s])]);
  for (const v of [...nodes].sort()) if (!index.has(v)) visit(v);
  return comps.map((c) => ({
    layers: c,
    examples: c.flatMap((a) => c.filter((b) => why.has(`${a}>${b}`)).map((b) => why.get(`${a}>${b}`))),
  }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cycles = layerCycles(process.argv[2] ?? 'packages/troupe/src');
  for (const c of cycles)
    console.log(`layers in a cycle: ${c.layers.join(', ')}; e.g. ${c.examples.slice(0, 6).join('; ')}`);
  console.log(`${cycles.length} layer cycles`);
  process.exit(cycles.length > 0 ? 1 : 0);
}
