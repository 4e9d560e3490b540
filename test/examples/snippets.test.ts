/**
 * Runs every file in `examples/snippets/` and checks what its `main()` returns, and checks that the
 * runtime's README shows only code that is in those files, so every example in the manual runs.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { main as boundedMailbox } from '../../examples/snippets/bounded-mailbox.js';
import { main as callErrors } from '../../examples/snippets/call-errors.js';
import { main as callingSelf } from '../../examples/snippets/calling-self.js';
import { main as childSpecs } from '../../examples/snippets/child-specs.js';
import { main as classActor } from '../../examples/snippets/class-actor.js';
import { main as counter } from '../../examples/snippets/counter.js';
import { main as crashConsole } from '../../examples/snippets/crash-console.js';
import { main as crashReports } from '../../examples/snippets/crash-reports.js';
import { main as deadLetters } from '../../examples/snippets/dead-letters.js';
import { main as deferredReply } from '../../examples/snippets/deferred-reply.js';
import { main as duplicateRegistry } from '../../examples/snippets/duplicate-registry.js';
import { main as dynamicSupervisor } from '../../examples/snippets/dynamic-supervisor.js';
import { main as exitReasons } from '../../examples/snippets/exit-reasons.js';
import { main as fairness } from '../../examples/snippets/fairness.js';
import { main as fakeSocket } from '../../examples/snippets/fake-socket.js';
import { main as functionActor } from '../../examples/snippets/function-actor.js';
import { main as hotUpgrade } from '../../examples/snippets/hot-upgrade.js';
import { main as inspectTree } from '../../examples/snippets/inspect-tree.js';
import { main as keyedTimers } from '../../examples/snippets/keyed-timers.js';
import { main as linksAndTrapping } from '../../examples/snippets/links-and-trapping.js';
import { main as monitors } from '../../examples/snippets/monitors.js';
import { main as pipeToSelf } from '../../examples/snippets/pipe-to-self.js';
import { main as probeWithin } from '../../examples/snippets/probe-within.js';
import { main as receiveTimeout } from '../../examples/snippets/receive-timeout.js';
import { main as registryExit } from '../../examples/snippets/registry-exit.js';
import { main as requestReply } from '../../examples/snippets/request-reply.js';
import { main as restartBackoff } from '../../examples/snippets/restart-backoff.js';
import { main as restartInPlace } from '../../examples/snippets/restart-in-place.js';
import { main as restartIntensity } from '../../examples/snippets/restart-intensity.js';
import { main as restartMatrix } from '../../examples/snippets/restart-matrix.js';
import { main as restartingStatus } from '../../examples/snippets/restarting-status.js';
import { main as runToCompletion } from '../../examples/snippets/run-to-completion.js';
import { main as shutdown } from '../../examples/snippets/shutdown.js';
import { main as startAndInit } from '../../examples/snippets/start-and-init.js';
import { main as stash } from '../../examples/snippets/stash.js';
import { main as stateRules } from '../../examples/snippets/state-rules.js';
import { main as stopSupervisedChild } from '../../examples/snippets/stop-supervised-child.js';
import { main as strategies } from '../../examples/snippets/strategies.js';
import { main as summaries } from '../../examples/snippets/summaries.js';
import { main as supervisionTree } from '../../examples/snippets/supervision-tree.js';
import { main as supervisorReports } from '../../examples/snippets/supervisor-reports.js';
import { main as supervisorShutdown } from '../../examples/snippets/supervisor-shutdown.js';
import { main as supervisorVerbs } from '../../examples/snippets/supervisor-verbs.js';
import { main as systemEvents } from '../../examples/snippets/system-events.js';
import { main as telemetry } from '../../examples/snippets/telemetry.js';
import { main as testingWithProbe } from '../../examples/snippets/testing-with-probe.js';
import { main as timers } from '../../examples/snippets/timers.js';
import { main as twoNodes } from '../../examples/snippets/two-nodes.js';
import { main as typedRefs } from '../../examples/snippets/typed-refs.js';
import { main as unansweredCall } from '../../examples/snippets/unanswered-call.js';
import { main as uniqueNames } from '../../examples/snippets/unique-names.js';
import { main as unlimitedRestarts } from '../../examples/snippets/unlimited-restarts.js';
import { main as upgradeChildren } from '../../examples/snippets/upgrade-children.js';
import { main as upgradeMigrate } from '../../examples/snippets/upgrade-migrate.js';
import { INSTALL, natsServerPath, startNats } from '../cluster/nats.js';

const snippetsDir = fileURLToPath(new URL('../../examples/snippets/', import.meta.url));
const readmePath = fileURLToPath(new URL('../../packages/troupe/README.md', import.meta.url));

/** Runs `main` with the URL of a nats-server (with JetStream) started for it, and stops it after. */
function withNats(main: (url: string) => Promise<unknown>): () => Promise<unknown> {
  return async () => {
    const nats = await startNats(natsServerPath() as string);
    try {
      return await main(nats.url);
    } finally {
      await nats.stop();
    }
  };
}

/** Each snippet's `main`, and what it must return; `needs: 'nats'` for one that needs a NATS server. */
const snippets: Record<string, { main: () => Promise<unknown>; returns: unknown; needs?: 'nats' }> = {
  'two-nodes.ts': {
    main: withNats(twoNodes),
    needs: 'nats',
    returns: { node: 'b', total: 42, seen: [42], reason: '{ shutdown: "maintenance" }', nodesOfA: ['b'] },
  },
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
      dead: "call { type: 'get' } to Ref<1> failed: the actor exited: Error: kaboom",
    },
  },
  'call-errors.ts': {
    main: callErrors,
    returns: {
      timeout: "call { type: 'slow' } to 'store' timed out after 250 ms",
      fields: { actor: 'Ref<1 kv>', target: "'store'", requestType: 'slow', timeoutMs: 250 },
      exit: "call { type: 'explode' } to Ref<2 scratch> failed: the actor exited: Error: kaboom",
      dead: "call { type: 'get' } to Ref<2 scratch> failed: the actor exited: Error: kaboom",
    },
  },
  'calling-self.ts': {
    main: callingSelf,
    returns: {
      total: 7,
      refused:
        "CallingSelfError: call { type: 'price' } to Ref<1 prices>, made by that actor itself from its own handler: " +
        "an actor cannot call itself (OTP's calling_self), because the request would wait in its mailbox behind the " +
        'message being handled and could only time out. Run the code directly, or ctx.self.send a message to handle ' +
        'after this one',
      waitedMs: 0,
      alive: false,
    },
  },
  'unanswered-call.ts': {
    main: unansweredCall,
    returns: "call { type: 'ping' } to Ref<1 silent> timed out after 100 ms",
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
  'crash-console.ts': {
    main: crashConsole,
    returns: [
      "[troupe] 'cart' (child 'cart', Ref<2 cart>) of Ref<1 shop> crashed: Error: payment service is down (restarts so far: 0)",
      '  last messages, oldest first:',
      "    { type: 'add', item: 'tea' }",
      "    { type: 'checkout' }",
      "  state: { items: [ 'tea' ] }",
    ],
  },
  'restarting-status.ts': {
    main: restartingStatus,
    returns: {
      status: 'restarting',
      active: 0,
      restartChild: { ok: false, reason: 'restarting' },
      deleteChild: { ok: false, reason: 'restarting' },
      statusAfter: 'running',
      dynamic: { ok: false, reason: 'dynamic_supervisor' },
    },
  },
  'telemetry.ts': {
    main: telemetry,
    returns: ['call query replied in 20 ms', 'call query timeout in 50 ms', 'mailbox of Ref<1 db> at 1024'],
  },
  'pipe-to-self.ts': {
    main: pipeToSelf,
    returns: { whileLoading: 'pong', before: {}, after: { 1: 'user-1', 13: 'failed: no such profile' } },
  },
  'receive-timeout.ts': {
    main: receiveTimeout,
    returns: { aliveWhileTalking: true, aliveAfterSilence: false },
  },
  'keyed-timers.ts': {
    main: keyedTimers,
    returns: { afterTyping: ['hello'], afterDiscard: ['hello'] },
  },
  'stash.ts': {
    main: stash,
    returns: { stashedBefore: 2, answers: ['rows for select 1', 'rows for select 2'], stashedAfter: 0 },
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
  'probe-within.ts': {
    main: probeWithin,
    returns: {
      pong: { type: 'pong', seq: 1 },
      late: 'expected the block to finish within 100 ms, it took 150 ms',
      forgotten:
        "call { type: 'count' } to Ref<2 pinger> is waiting for simulated time: advance the SimulatedClock (pending timers at +1000 ms, +5000 ms)",
      reason: 'normal',
    },
  },
  'fake-socket.ts': {
    main: fakeSocket,
    returns: {
      sent: ['hello ada', 'HI', 'XXXXXXXXXXXX', 'busy', 'caught up'],
      buffered: 2_004,
      closed: { code: 4000, reason: 'see you', by: 'end' },
      reason: 'shutdown',
    },
  },

  // Supervision
  'supervision-tree.ts': {
    main: supervisionTree,
    returns: {
      before: 12,
      after: 11,
      sameRef: true,
      lobby: ['topic: lobby', 'hello'],
      children: [
        { id: 'counter', type: 'worker', status: 'running', restarts: 1 },
        { id: 'rooms', type: 'supervisor', status: 'running', restarts: 0 },
      ],
    },
  },
  'child-specs.ts': {
    main: childSpecs,
    returns: {
      defaults: ['cache: worker Ref<2 cache>', 'minimal: worker Ref<3 minimal>', 'nested: supervisor Ref<4 nested>'],
      mistakes: [
        "TypeError: supervisor(options): unknown child spec field 'resart'; accepted fields are id, behavior, args, restart, shutdown, type, mailbox, keepMailbox, backoff, restartLimit, trapExit, reportMessages, label, name",
        "TypeError: supervisor(options) (child 'a'): restart must be 'permanent', 'transient' or 'temporary'; got 'sometimes'",
        "TypeError: supervisor(options) (child 'a'): shutdown must be a number of milliseconds >= 0, 'brutal_kill' or 'infinity'; got -1",
        "TypeError: supervisor(options) (child 'a'): expected a function (msg, ctx) => void, a behaviour object with a receive(state, msg, ctx) method, or a class extending Actor; got string",
        "TypeError: supervisor(options): two children have the id 'a'; ids must be unique",
      ],
      atRunTime:
        "init_failed: startChild(supervisor, spec) (child 'late'): shutdown must be a number of milliseconds >= 0, 'brutal_kill' or 'infinity'; got 'never'",
    },
  },
  'strategies.ts': {
    main: strategies,
    returns: {
      one_for_one: ['stop b (Error: boom)', 'start b'],
      one_for_all: [
        'stop b (Error: boom)',
        'stop d (shutdown)',
        'stop c (shutdown)',
        'stop a (shutdown)',
        'start a',
        'start b',
        'start c',
        'start d',
      ],
      rest_for_one: ['stop b (Error: boom)', 'stop d (shutdown)', 'stop c (shutdown)', 'start b', 'start c', 'start d'],
      'one_for_all, d temporary': [
        'stop b (Error: boom)',
        'stop d (shutdown)',
        'stop c (shutdown)',
        'stop a (shutdown)',
        'start a',
        'start b',
        'start c',
      ],
      'children afterwards': ['a', 'b', 'c'],
    },
  },
  'restart-intensity.ts': {
    main: restartIntensity,
    returns: {
      window: [true, true, true, false, true],
      log: [
        'stop a (Error: boom)',
        'start a',
        'stop a (Error: boom)',
        'start a',
        'stop a (Error: boom)',
        'stop c (shutdown)',
        'stop b (shutdown)',
        'start a',
        'start b',
        'start c',
      ],
      oldA: 'shutdown',
      innerRestarts: 1,
      sameInner: true,
      newA: true,
    },
  },
  'supervisor-shutdown.ts': {
    main: supervisorShutdown,
    returns: {
      log: [
        'stuck terminates at 0 ms, and hangs',
        'db terminates at 2000 ms: shutdown',
        'w terminates at 2000 ms: killed',
      ],
      reasons: { db: 'shutdown', stuck: 'killed', metrics: 'killed' },
      stoppedAtMs: 2_000,
      afterKill: 'killed',
    },
  },
  'restart-matrix.ts': {
    main: restartMatrix,
    returns: {
      table: {
        permanent: {
          normal: 'restarted',
          shutdown: 'restarted',
          '{ shutdown }': 'restarted',
          killed: 'restarted',
          noproc: 'restarted',
          Error: 'restarted',
        },
        transient: {
          normal: '-',
          shutdown: '-',
          '{ shutdown }': '-',
          killed: 'restarted',
          noproc: 'restarted',
          Error: 'restarted',
        },
        temporary: { normal: '-', shutdown: '-', '{ shutdown }': '-', killed: '-', noproc: '-', Error: '-' },
      },
      agrees: true,
    },
  },
  'stop-supervised-child.ts': {
    main: stopSupervisedChild,
    returns: {
      refused:
        'system.stop(ref): Ref<2 db> is a permanent child of the supervisor Ref<1 app>, which restarts it in place ' +
        'whatever its exit reason, so it would never stop for good and this promise would never settle. Stop it for ' +
        "good with terminateChild(sup, 'db'); to make it restart, kill it (system.kill(ref))",
      dbAlive: true,
      terminated: { ok: true },
      job: 'normal',
      log: ['db stopped: shutdown', 'job stopped: normal'],
      children: ['db stopped', 'job stopped'],
    },
  },
  'unlimited-restarts.ts': {
    main: unlimitedRestarts,
    returns: {
      restarts: 20,
      alive: true,
      window: 100,
      refused:
        'RangeError: withinMs must be finite; got Infinity, which would make maxRestarts a budget for the whole life ' +
        'of the supervisor (OTP refuses an infinite period too). For a supervisor that never gives up, set maxRestarts: Infinity',
    },
  },
  'restart-in-place.ts': {
    main: restartInPlace,
    returns: {
      crashed: 'ExitError: Error: division by zero',
      answered: 2,
      alive: { summer: true, buddy: true, name: true },
      downAtRestart: [],
      deadLetters: [
        'crashed: {"type":"divide","by":0} (Error: division by zero)',
        'dropped: {"type":"add","n":1}',
        'crashed: {"type":"divide","by":0} (Error: division by zero)',
      ],
      afterEnd: { down: ['shutdown'], buddy: 'shutdown' },
    },
  },
  'restart-backoff.ts': {
    main: restartBackoff,
    returns: { delays: [80, 160, 320, 80], during: 'restarting', ping: 'pong at 5800 ms' },
  },
  'supervisor-reports.ts': {
    main: supervisorReports,
    returns: {
      msg: "supervisor Ref<1 app>: child 'parser' (Ref<2 parser>) exited: Error: not an object: oops",
      report: {
        supervisor: 'Ref<1 app>',
        path: ['Ref<1 app>'],
        childId: 'parser',
        dynamic: false,
        child: 'Ref<2 parser>',
        names: [],
        reason: 'Error: not an object: oops',
        spec: 'parser',
        args: undefined,
        messages: ['{"b":2}', 'oops'],
        state: undefined,
        restarts: 0,
      },
      gaveUp: "supervisor Ref<1 app> reached its restart intensity (1 in 5000 ms) on child 'parser'; shutting down",
      entries: 3,
    },
  },
  'supervisor-verbs.ts': {
    main: supervisorVerbs,
    returns: {
      startChild: 'ok',
      'startChild again': 'already_started',
      'deleteChild running': 'running',
      terminateChild: 'ok',
      whichChildren: ['a running Ref<2 a>', 'b stopped -'],
      'startChild stopped': 'already_present',
      restartChild: 'ok',
      'a new ref': true,
      'restartChild running': 'running',
      deleteChild: 'ok',
      'terminateChild unknown': 'not_found',
      countChildren: { specs: 1, active: 1, supervisors: 0, workers: 1 },
    },
  },
  'dynamic-supervisor.ts': {
    main: dynamicSupervisor,
    returns: {
      third: 'max_children',
      whoami: 'alice',
      ids: ['2', '3', '4'],
      terminated: ['ok', 'not_found'],
      spawned: 'Ref<4 session>',
      counts: { specs: 2, active: 2 },
      stoppedAtMs: 1_000,
    },
  },
  // Registry
  'unique-names.ts': {
    main: uniqueNames,
    returns: {
      whereis: 'hello',
      spawnTaken: 'NameTakenError: the name "cache" is taken by Ref<1>',
      registerTaken: 'taken by Ref<1>',
      holderIsCache: true,
      register: 'ok',
      unregister: true,
      registerDead: 'dead',
      afterDeath: undefined,
      structured: [true, undefined],
      via: [true, undefined],
      lookup: { plan: 'pro' },
      keys: ['acme', 'globex'],
      afterShutdown: 0,
    },
  },
  'duplicate-registry.ts': {
    main: duplicateRegistry,
    returns: {
      sent: 2,
      inbox: ['alice got carol: hi alice', 'bob got carol: hi bob'],
      before: ['alice', 'bob'],
      after: ['alice'],
      count: 1,
      keysOfAlice: ['lobby', 'dev'],
      unregister: true,
      keys: ['lobby'],
      size: 1,
    },
  },
  'registry-exit.ts': {
    main: registryExit,
    returns: { heard: ['bob left'], left: 0 },
  },
  // Introspection and events
  'inspect-tree.ts': {
    main: inspectTree,
    returns: {
      tree: [
        'Ref<1 app> supervisor id=- names=[app] idle mailbox=0 handled=1 restarts=- uptime=-',
        '  Ref<2 rooms> dynamic supervisor id=rooms names=[] idle mailbox=0 handled=2 restarts=0 uptime=1750',
        '    Ref<4 room> room id=4 names=[] idle mailbox=0 handled=3 restarts=1 uptime=250',
        '  Ref<3 janitor> janitor id=janitor names=[] idle mailbox=0 handled=0 restarts=0 uptime=1750',
        'Ref<5 loner> anonymous id=- names=[] idle mailbox=0 handled=0 restarts=- uptime=-',
      ],
      actors: 5,
      stats: { actors: 5, deadLetters: 1, queued: 0 },
    },
  },
  'summaries.ts': {
    main: summaries,
    returns: {
      behavior: 'room',
      plain: undefined,
      summary: '2 members',
      app: 'one_for_one, 1 children, restarts 0/3 in 5000 ms',
      busiest: 2,
    },
  },
  'system-events.ts': {
    main: systemEvents,
    returns: {
      events: [
        'spawned Ref<1 app> (supervisor) by nobody',
        'spawned Ref<2 parser> (parse) by Ref<1 app>',
        'crashed Ref<2 parser> in receive: not an object: oops',
        'dead_letter to Ref<2 parser> (crashed): "oops"',
        "restarted Ref<2 parser> as child 'parser' of Ref<1 app>, restart 1",
        'crash_report Ref<2 parser>, last messages ["oops"]',
        'crashed Ref<2 parser> in receive: not an object: again',
        'dead_letter to Ref<2 parser> (crashed): "again"',
        'crash_report Ref<2 parser>, last messages ["again"]',
        "intensity_exceeded in Ref<1 app> on 'parser' (1 in 5000 ms)",
        'exited Ref<2 parser>: shutdown',
        'exited Ref<1 app>: shutdown',
        'spawned Ref<3 v1> (parse) by nobody',
        'upgraded Ref<3 v1>: ok',
      ],
      flushes: ['one batch of words'],
    },
  },
  // Upgrades
  'hot-upgrade.ts': { main: hotUpgrade, returns: { before: 3, upgrade: { ok: true }, after: 6, later: 8 } },
  'upgrade-migrate.ts': {
    main: upgradeMigrate,
    returns: {
      migrated: { ok: true },
      afterMigrate: 'v2: 12 by 10',
      failed: 'migrate_failed: no way back',
      afterFailure: 'v2: 12 by 10',
      classes: 'TallyWithHistory: 2 after [2]',
      dead: { ok: false, reason: 'dead' },
      misuse:
        'system.upgrade: expected a function (msg, ctx) => void, a behaviour object with a receive(state, msg, ctx) method, or a class extending Actor; got object',
    },
  },
  'upgrade-children.ts': {
    main: upgradeChildren,
    returns: {
      live: { ok: true, upgraded: 1, failed: [] },
      dormant: { ok: true, upgraded: 1, failed: [] },
      stopped: { ok: true, upgraded: 0, failed: [] },
      liveNow: 'v2 (v1, started, migrated)',
      dormantNow: 'v2 (v2, started)',
      liveRestarted: 'v2 (v2, started)',
      stoppedRestarted: 'v2 (v2, started)',
      dynamic: { ok: false, upgraded: 2, failed: ['Ref<9 dynamic>: cannot migrate'] },
      versions: ['v2 (v1, started as a, migrated)', 'v2 (v1, started as b, migrated)', 'v1 (v1, started as stubborn)'],
      fresh: 'v2 (v2, started as new)',
    },
  },
};

describe('examples/snippets', () => {
  for (const [file, { main, returns, needs }] of Object.entries(snippets)) {
    it(`${file} returns what its comments say`, async (t) => {
      if (needs === 'nats' && natsServerPath() === undefined) {
        if (process.env.CI === 'true') assert.fail(`nats-server is missing; CI installs it with: ${INSTALL}`);
        t.skip(`needs nats-server: ${INSTALL}`);
        return;
      }
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

/** The manual: the runtime's README and its chapters, and the cluster package's README. */
const manualDir = fileURLToPath(new URL('../../packages/troupe/docs/', import.meta.url));
const manual: ReadonlyArray<readonly [string, string]> = [
  ['packages/troupe/README.md', readmePath],
  ...readdirSync(manualDir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => [`packages/troupe/docs/${f}`, `${manualDir}${f}`] as const),
  ['packages/cluster/README.md', fileURLToPath(new URL('../../packages/cluster/README.md', import.meta.url))],
];

describe('the manual', () => {
  it('shows every snippet somewhere, in some chapter (or the uws README, for its fake socket)', () => {
    const shown = new Set<string>();
    const uwsReadme = fileURLToPath(new URL('../../packages/uws/README.md', import.meta.url));
    for (const path of [...manual.map(([, p]) => p), uwsReadme]) {
      for (const [first] of tsBlocks(readFileSync(path, 'utf8'))) {
        const m = /^\/\/ examples\/snippets\/([\w-]+\.ts)\b/.exec(first ?? '');
        if (m) shown.add(m[1] as string);
      }
    }
    assert.deepEqual(
      Object.keys(snippets).filter((f) => !shown.has(f)),
      [],
      'snippets no chapter shows',
    );
  });
});

for (const [name, path] of manual) {
  describe(name, () => {
    it('shows only code taken from a snippet file it names in the first line', () => {
      const blocks = tsBlocks(readFileSync(path, 'utf8'));
      for (const [first, ...rest] of blocks) {
        const m = /^\/\/ examples\/snippets\/([\w-]+\.ts)\b/.exec(first ?? '');
        assert.ok(m, `a code block must start with "// examples/snippets/<file>.ts"; this one starts with ${first}`);
        const file = m[1] as string;
        assert.ok(file in snippets, `${name} names ${file}, which is not a checked snippet`);
        const source = readFileSync(`${snippetsDir}${file}`, 'utf8')
          .split('\n')
          .map((l) => l.trim());
        for (const run of chunks(rest)) {
          assert.ok(containsRun(source, run), `examples/snippets/${file} does not contain:\n${run.join('\n')}`);
        }
      }
    });
  });
}
