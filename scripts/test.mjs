#!/usr/bin/env node
// Runs every test file under test/ with node:test, on the packages' TypeScript sources.
// Node 20 does not expand `**` itself, and a shell glob that matches nothing would pass a literal
// pattern, so the files are listed here. Extra arguments go to node (e.g. --test-name-pattern=...).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function find(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'fixtures' && entry.name !== 'node_modules') out.push(...find(p));
    } else if (entry.name.endsWith('.test.ts')) {
      out.push(relative(root, p));
    }
  }
  return out.sort();
}

// Test files named on the command line run alone; other arguments go to node.
const named = process.argv.slice(2).filter((a) => a.endsWith('.test.ts'));
const nodeArgs = process.argv.slice(2).filter((a) => !a.endsWith('.test.ts'));
const files = named.length > 0 ? named : find(join(root, 'test'));
if (files.length === 0) {
  console.error('no test files found under test/');
  process.exit(1);
}
// What some tests need from the machine: said up front, so that a skip is never a surprise (each
// such test also skips with the same command, and fails instead under CI=true).
const needs = [
  {
    what: 'Chromium at /usr/bin/chromium',
    tests: 'the browser test (test/browser)',
    install: 'apt-get install -y --no-install-recommends chromium',
    present: () => existsSync('/usr/bin/chromium'),
  },
  {
    what: 'nats-server',
    tests: 'the cluster tests (test/cluster, the cluster pack test, the two-node snippet)',
    install: 'apt-get install -y --no-install-recommends nats-server',
    present: () => spawnSync('sh', ['-c', 'command -v nats-server'], { stdio: 'ignore' }).status === 0,
  },
];
for (const n of needs) {
  if (!n.present()) console.error(`note: ${n.what} is missing, so ${n.tests} will skip; install it with: ${n.install}`);
}
const args = ['--conditions=source', '--import', 'tsx', '--test', ...nodeArgs, ...files];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
