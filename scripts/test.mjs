#!/usr/bin/env node
// Runs every test file under test/ with node:test, on the packages' TypeScript sources.
// Node 20 does not expand `**` itself, and a shell glob that matches nothing would pass a literal
// pattern, so the files are listed here. Extra arguments go to node (e.g. --test-name-pattern=...).
import { spawn, spawnSync } from 'node:child_process';
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
// A hang is a failure with a name, not a run that never ends: each test has 3 minutes (the longest
// takes well under one), and the whole run 20 (it takes about 4). A test file whose process does not
// exit after its tests (a timer or socket left open) is what the second catches: the run, in a
// process group of its own, is killed whole, test files and the servers they started included.
const TEST_TIMEOUT_MS = 180_000;
const RUN_TIMEOUT_MS = 20 * 60_000;
const args = [
  '--conditions=source',
  '--import',
  'tsx',
  '--test',
  `--test-timeout=${TEST_TIMEOUT_MS}`,
  ...nodeArgs,
  ...files,
];
const run = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', detached: true });
const killAll = (signal) => {
  try {
    process.kill(-run.pid, signal);
  } catch {
    // already gone
  }
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => killAll(signal));
const watchdog = setTimeout(() => {
  console.error(
    `test run killed after ${RUN_TIMEOUT_MS / 60_000} min: a test file's process did not exit (see the last files above)`,
  );
  killAll('SIGKILL');
}, RUN_TIMEOUT_MS);
run.on('exit', (code) => {
  clearTimeout(watchdog);
  process.exit(code ?? 1);
});
