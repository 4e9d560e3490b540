/**
 * Runs every file in `examples/snippets/` and checks what its `main()` returns, and checks that the
 * runtime's README shows only code that is in those files, so every example in the manual runs.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { main as boundedMailbox } from '../../examples/snippets/bounded-mailbox.js';
import { main as classActor } from '../../examples/snippets/class-actor.js';
import { main as counter } from '../../examples/snippets/counter.js';
import { main as crashReports } from '../../examples/snippets/crash-reports.js';
import { main as deadLetters } from '../../examples/snippets/dead-letters.js';
import { main as deferredReply } from '../../examples/snippets/deferred-reply.js';
import { main as exitReasons } from '../../examples/snippets/exit-reasons.js';
import { main as fairness } from '../../examples/snippets/fairness.js';
import { main as functionActor } from '../../examples/snippets/function-actor.js';
import { main as linksAndTrapping } from '../../examples/snippets/links-and-trapping.js';
import { main as monitors } from '../../examples/snippets/monitors.js';
import { main as requestReply } from '../../examples/snippets/request-reply.js';
import { main as runToCompletion } from '../../examples/snippets/run-to-completion.js';
import { main as shutdown } from '../../examples/snippets/shutdown.js';
import { main as startAndInit } from '../../examples/snippets/start-and-init.js';
import { main as stateRules } from '../../examples/snippets/state-rules.js';
import { main as testingWithProbe } from '../../examples/snippets/testing-with-probe.js';
import { main as timers } from '../../examples/snippets/timers.js';
import { main as typedRefs } from '../../examples/snippets/typed-refs.js';

const snippetsDir = fileURLToPath(new URL('../../examples/snippets/', import.meta.url));
const readmePath = fileURLToPath(new URL('../../packages/troupe/README.md', import.meta.url));

/** Each snippet's `main`, and what it must return. */
const snippets: Record<string, { main: () => Promise<unknown>; returns: unknown }> = {
  'counter.ts': { main: counter, returns: 42 },
  'function-actor.ts': { main: functionActor, returns: { a: 2, b: 1, name: 'Ref<3 named>' } },
  'class-actor.ts': {
    main: classActor,
    returns: { popped: 'c', size: 2, log: ['init Ref<1 stack>', 'terminate shutdown with 2 items'] },
  },
  'start-and-init.ts': {
    main: startAndInit,
    returns: {
      spawned: 'Hello, spawn!',
      started: 'Hello, start!',
      failure: 'InitError',
      cause: 'cannot read missing.json',
    },
  },
  'state-rules.ts': { main: stateRules, returns: ['a', 'a', null, 'b'] },
  'typed-refs.ts': { main: typedRefs, returns: { balance: 77, refs: ['Ref<1 acct> alive=true'] } },
  'dead-letters.ts': {
    main: deadLetters,
    returns: { sent: [true, false], letters: ['dead: queued, never handled', 'dead: too late'], count: 2 },
  },
  'request-reply.ts': {
    main: requestReply,
    returns: {
      put: 'ok',
      got: 1,
      defaultTimeoutMs: 5_000,
      timeout: 'TimeoutError after 1000 ms',
      exit: 'ExitError: kaboom',
      dead: 'actor Ref<1> exited: Error: kaboom',
    },
  },
  'deferred-reply.ts': { main: deferredReply, returns: { waiting: 2, answers: ['open: sesame', 'open: sesame'] } },
  'bounded-mailbox.ts': {
    main: boundedMailbox,
    returns: {
      'drop-newest': { sent: [true, true, false, false, false], handled: [1, 2], deadLetters: [3, 4, 5] },
      'drop-oldest': { sent: [true, true, true, true, true], handled: [4, 5], deadLetters: [1, 2, 3] },
      reject: { sent: [true, true, false, false, false], handled: [1, 2], deadLetters: [] },
      sendWait: { queued: [true, true, true], handled: [1, 2, 3] },
    },
  },
  'run-to-completion.ts': {
    main: runToCompletion,
    returns: [
      'sends returned',
      'slow start a',
      'fast 1 begin',
      'fast 1 end',
      'fast 0 begin',
      'fast 0 end',
      'slow end a',
      'slow start b',
      'slow end b',
    ],
  },
  'fairness.ts': {
    main: fairness,
    returns: { defaultBudget: 'a1 a2 a3 a4 a5 b1 b2 b3 b4 b5', budget2: 'a1 a2 b1 b2 a3 a4 b3 b4 a5 b5' },
  },
  'exit-reasons.ts': {
    main: exitReasons,
    returns: [
      { how: 'system.stop(ref)', reason: 'normal', clean: true, terminated: true },
      { how: 'ctx.stop() in a handler', reason: 'normal', clean: true, terminated: true },
      {
        how: "system.stop(ref, { shutdown: 'maintenance' })",
        reason: '{ shutdown: "maintenance" }',
        clean: true,
        terminated: true,
      },
      { how: 'a handler throws', reason: 'Error: boom', clean: false, terminated: true },
      { how: "system.exit(ref, 'shutdown')", reason: 'shutdown', clean: true, terminated: true },
      { how: "system.exit(ref, 'normal')", reason: '(still alive)', clean: false, terminated: false },
      { how: 'system.kill(ref)', reason: 'killed', clean: false, terminated: false },
      { how: 'init throws', reason: 'Error: bad config', clean: false, terminated: false },
    ],
  },
  'links-and-trapping.ts': {
    main: linksAndTrapping,
    returns: {
      boss: [
        'EXIT from Ref<3 fragile>: Error: negative input -1',
        'EXIT from Ref<2 steady>: normal',
        'EXIT from Ref<3 fragile>: noproc',
      ],
      buddy: ['buddy terminates: Error: negative input -1'],
      bossAlive: true,
    },
  },
  'monitors.ts': {
    main: monitors,
    returns: {
      watcher: ['DOWN Ref<2 a>: shutdown', 'DOWN Ref<2 a>: noproc'],
      outside: ['a exited: shutdown'],
      demonitored: true,
    },
  },
  'timers.ts': {
    main: timers,
    returns: {
      counts: { ticks: 3, nudges: 1 },
      cancelResults: [true, false],
      nudgeActive: false,
      pendingBeforeStop: 1,
      pendingAfterStop: 0,
    },
  },
  'crash-reports.ts': {
    main: crashReports,
    returns: {
      msg: 'actor Ref<1 parser> crashed in receive: Error: not an object: oops',
      report: {
        actor: 'Ref<1 parser>',
        id: 1,
        label: 'parser',
        behavior: 'parse',
        phase: 'receive',
        reason: 'not an object: oops',
        message: 'oops',
      },
      sent: true,
      stats: { actors: 0, deadLetters: 0 },
    },
  },
  'shutdown.ts': {
    main: shutdown,
    returns: {
      log: ['third: shutdown', 'second: shutdown', 'first: shutdown'],
      stuck: 'killed',
      afterwards: 'the actor system has been shut down',
    },
  },
  'testing-with-probe.ts': {
    main: testingWithProbe,
    returns: [
      { type: 'pong', seq: 1 },
      { type: 'pong', seq: 2 },
    ],
  },
};

describe('examples/snippets', () => {
  for (const [file, { main, returns }] of Object.entries(snippets)) {
    it(`${file} returns what its comments say`, async () => {
      assert.deepEqual(await main(), returns);
    });
  }

  it('has a checked main() for every snippet file', () => {
    const files = readdirSync(snippetsDir).filter((f) => f.endsWith('.ts'));
    assert.deepEqual(files.sort(), Object.keys(snippets).sort());
  });
});

/** The ```ts blocks of a markdown file, each as its lines. */
function tsBlocks(markdown: string): string[][] {
  const blocks: string[][] = [];
  let current: string[] | undefined;
  for (const line of markdown.split('\n')) {
    if (current === undefined) {
      if (/^```(ts|typescript|js|javascript)\s*$/.test(line)) current = [];
    } else if (line.startsWith('```')) {
      blocks.push(current);
      current = undefined;
    } else {
      current.push(line);
    }
  }
  return blocks;
}

/** Splits an excerpt at its `// ...` lines into runs of lines that must appear in the file as they are. */
function chunks(lines: string[]): string[][] {
  const out: string[][] = [[]];
  for (const line of lines) {
    if (line.trim() === '// ...') out.push([]);
    else (out.at(-1) as string[]).push(line.trim());
  }
  return out
    .map((c) => {
      while (c[0] === '') c.shift();
      while (c.at(-1) === '') c.pop();
      return c;
    })
    .filter((c) => c.length > 0);
}

function containsRun(file: string[], run: string[]): boolean {
  for (let i = 0; i + run.length <= file.length; i++) {
    if (run.every((line, j) => file[i + j] === line)) return true;
  }
  return false;
}

describe('packages/troupe/README.md', () => {
  it('shows only code taken from a snippet file it names in the first line', () => {
    const blocks = tsBlocks(readFileSync(readmePath, 'utf8'));
    assert.ok(blocks.length >= Object.keys(snippets).length, `only ${blocks.length} code blocks`);
    for (const [first, ...rest] of blocks) {
      const m = /^\/\/ examples\/snippets\/([\w-]+\.ts)\b/.exec(first ?? '');
      assert.ok(m, `a code block must start with "// examples/snippets/<file>.ts"; this one starts with ${first}`);
      const file = m[1] as string;
      assert.ok(file in snippets, `the README names ${file}, which is not a checked snippet`);
      const source = readFileSync(`${snippetsDir}${file}`, 'utf8')
        .split('\n')
        .map((l) => l.trim());
      for (const run of chunks(rest)) {
        assert.ok(containsRun(source, run), `examples/snippets/${file} does not contain:\n${run.join('\n')}`);
      }
    }
  });
});
