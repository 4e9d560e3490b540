/**
 * A single-process chat (no `--cluster`) loads none of the cluster's code: no NATS client, no
 * JetStream, no `@troupe/cluster`, no relay or owner; nor the observer unless `--observer` asks for
 * it. Those modules are a third of the chat's JS heap at start (bench/results/2026-12-03.md).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/loaded-modules.ts', import.meta.url));

function loaded(args: string[]): string[] {
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', fixture, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `the fixture failed: ${r.stderr}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line !== undefined, `no JSON line: ${r.stdout}`);
  const out = JSON.parse(line) as { port: number; urls: string[] };
  assert.ok(out.port > 0);
  return out.urls;
}

const CLUSTER_ONLY = [
  /\/@nats-io\//,
  /\/packages\/cluster\//,
  /\/examples\/chat\/src\/(join|durable|owner|relay|postoffice)\.ts$/,
];

describe('a single-process chat', () => {
  it('loads no NATS, JetStream or cluster module, and no observer without --observer', () => {
    const urls = loaded([]);
    // The hook saw the chat itself load: an empty list would pass anything.
    assert.ok(
      urls.some((u) => u.endsWith('/examples/chat/src/server.ts')),
      'the resolve hook saw the chat',
    );
    assert.ok(
      urls.some((u) => u.includes('/packages/uws/src/')),
      'and @troupe/uws',
    );
    for (const re of CLUSTER_ONLY) {
      assert.deepEqual(
        urls.filter((u) => re.test(u)),
        [],
        `loaded without --cluster (${re})`,
      );
    }
    assert.deepEqual(
      urls.filter((u) => u.includes('/observer')),
      [],
    );
  });

  it('loads the observer when --observer asks for it', () => {
    const urls = loaded(['--observer']);
    assert.ok(
      urls.some((u) => u.includes('/packages/uws/src/observer')),
      'the observer module was loaded',
    );
  });
});
