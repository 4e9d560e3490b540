/**
 * How actors exit: crashes (a throw or a rejected promise) that stay inside the actor and become a
 * crash report; `stop` with `terminate`; `kill` without it; dead letters; `system.shutdown`; and the
 * exit reasons monitors see for each way out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ActorSystem,
  type Behavior,
  type ChildSpec,
  type Context,
  type CrashReport,
  type DeadLetter,
  describeReason,
  dynamicSupervisor,
  ExitError,
  type ExitReason,
  isCleanExit,
  type Logger,
  type Ref,
  type Reply,
  type RestartType,
  type SupervisorRef,
  SystemShutdownError,
  silentLogger,
  startChild,
  supervisor,
  terminateChild,
  whichChildren,
} from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

/** A logger that keeps what it is given. */
function recordingLogger(): Logger & { errors: Array<{ obj: object; msg: string | undefined }> } {
  const errors: Array<{ obj: object; msg: string | undefined }> = [];
  return {
    errors,
    error(obj, msg) {
      errors.push({ obj, msg });
    },
    warn() {},
  };
}

/** An actor that logs what it handles and how it terminates. */
function logging(log: string[], name: string): Behavior<string, undefined> {
  return {
    receive(_s, msg, ctx) {
      if (msg === 'throw') throw new Error(`${name} failed`);
      if (msg === 'stop') ctx.stop({ shutdown: 'asked' });
      log.push(`${name}: ${msg}`);
    },
    terminate(_s, reason) {
      log.push(`${name} terminate: ${describeReason(reason)}`);
    },
  };
}

function deadLetters(system: ActorSystem): DeadLetter[] {
  const seen: DeadLetter[] = [];
  system.onDeadLetter((dl) => seen.push(dl));
  return seen;
}

describe('a crash', () => {
  it('ends only the actor whose handler threw, and reports actor, phase, reason and message', async () => {
    const logger = recordingLogger();
    const system = new ActorSystem({ logger });
    const log: string[] = [];
    const crashing = system.spawn(logging(log, 'a'), { label: 'worker' });
    const other = system.spawn(logging(log, 'b'));
    crashing.send('throw');
    other.send('still here');
    await settle(system);

    assert.equal(crashing.alive, false);
    const reason = await system.exited(crashing);
    assert.ok(reason instanceof Error);
    assert.equal(reason.message, 'a failed');
    assert.equal(other.alive, true);
    other.send('and later');
    await settle(system);
    assert.deepEqual(log, ['a terminate: Error: a failed', 'b: still here', 'b: and later']);

    assert.equal(logger.errors.length, 1);
    const report = logger.errors[0]!.obj as CrashReport;
    assert.equal(report.actor, crashing.toString());
    assert.equal(report.id, crashing.id);
    assert.equal(report.label, 'worker');
    assert.equal(report.phase, 'receive');
    assert.equal(report.reason, reason);
    assert.equal(report.message, 'throw');
    assert.match(logger.errors[0]!.msg ?? '', /crashed in receive: Error: a failed/);
  });

  it('comes from a rejected promise in an async handler too', async () => {
    const logger = recordingLogger();
    const system = new ActorSystem({ logger });
    const boom = new Error('async failure');
    const ref = system.spawn(async (msg: { n: number }) => {
      await Promise.resolve();
      if (msg.n === 1) throw boom;
    });
    const bystander = system.spawn((_: string) => {});
    ref.send({ n: 1 });
    ref.send({ n: 2 });
    await settle(system);
    assert.equal(await system.exited(ref), boom);
    assert.equal(bystander.alive, true);
    const report = logger.errors[0]!.obj as CrashReport;
    assert.equal(report.phase, 'receive');
    assert.equal(report.reason, boom);
    assert.deepEqual(report.message, { n: 1 });
  });

  it('wraps a thrown non-Error in an Error that keeps it as cause', async () => {
    const system = new ActorSystem({ logger: recordingLogger() });
    const ref = system.spawn((_: string) => {
      throw 'plain string';
    });
    ref.send('x');
    await settle(system);
    const reason = await system.exited(ref);
    assert.ok(reason instanceof Error);
    assert.equal(reason.message, 'plain string');
    assert.equal(reason.cause, 'plain string');
  });

  it('in terminate is reported with phase terminate, and the actor still exits with its reason', async () => {
    const logger = recordingLogger();
    const system = new ActorSystem({ logger });
    const ref = system.spawn<string, undefined>({
      receive() {},
      terminate() {
        throw new Error('cleanup failed');
      },
    });
    assert.equal(await system.stop(ref, 'shutdown'), 'shutdown');
    const report = logger.errors[0]!.obj as CrashReport;
    assert.equal(report.phase, 'terminate');
    assert.equal(report.reason.message, 'cleanup failed');
  });
});

describe('system.stop', () => {
  it('runs terminate with the reason and resolves with it; queued messages become dead letters', async () => {
    const system = new ActorSystem();
    const dead = deadLetters(system);
    const log: string[] = [];
    const ref = system.spawn(logging(log, 'a'));
    ref.send('first');
    await settle(system);
    ref.send('queued 1');
    ref.send('queued 2');
    const reason = { shutdown: 'deploy' };
    assert.equal(await system.stop(ref, reason), reason);
    assert.equal(ref.alive, false);
    assert.deepEqual(log, ['a: first', 'a terminate: { shutdown: "deploy" }']);
    assert.deepEqual(
      dead.map((dl) => [dl.to, dl.message, dl.reason]),
      [
        [ref, 'queued 1', 'dead'],
        [ref, 'queued 2', 'dead'],
      ],
    );
    assert.equal(system.stats().deadLetters, 2);
  });

  it('stops with normal by default', async () => {
    const system = new ActorSystem();
    const ref = system.spawn((_: string) => {});
    assert.equal(await system.stop(ref), 'normal');
  });

  it('resolves at once with the original reason for an actor that is already dead', async () => {
    const system = new ActorSystem();
    const ref = system.spawn((_: string) => {});
    system.kill(ref);
    assert.equal(await system.stop(ref, 'shutdown'), 'killed');
  });

  it('waits for an async terminate; messages sent meanwhile become dead letters', async () => {
    const system = new ActorSystem();
    const dead = deadLetters(system);
    let finish!: () => void;
    const log: string[] = [];
    const ref = system.spawn<string, undefined>({
      receive(_s, msg) {
        log.push(msg);
      },
      async terminate(_s, reason) {
        log.push(`terminate started: ${describeReason(reason)}`);
        await new Promise<void>((resolve) => {
          finish = resolve;
        });
        log.push('terminate finished');
      },
    });
    let stopped: ExitReason | undefined;
    const stopping = system.stop(ref, 'shutdown').then((r) => {
      stopped = r;
    });
    await settle(system);
    assert.deepEqual(log, ['terminate started: shutdown']);
    assert.equal(stopped, undefined, 'not stopped while terminate runs');
    ref.send('during terminate');
    await settle(system);

    finish();
    await stopping;
    assert.equal(stopped, 'shutdown');
    assert.equal(ref.alive, false);
    assert.deepEqual(log, ['terminate started: shutdown', 'terminate finished']);
    assert.deepEqual(
      dead.map((dl) => dl.message),
      ['during terminate'],
    );
  });

  it('waits for the message being handled by an async handler before stopping', async () => {
    const system = new ActorSystem();
    let release!: () => void;
    const log: string[] = [];
    const ref = system.spawn<string, undefined>({
      async receive(_s, msg) {
        log.push(`start ${msg}`);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        log.push(`end ${msg}`);
      },
      terminate() {
        log.push('terminate');
      },
    });
    ref.send('slow');
    await settle(system);
    const stopped = system.stop(ref);
    await settle(system);
    assert.deepEqual(log, ['start slow'], 'the stop waits for the running handler');
    release();
    assert.equal(await stopped, 'normal');
    assert.deepEqual(log, ['start slow', 'end slow', 'terminate']);
  });
});

describe('system.stop of a supervised child', () => {
  async function supervised(
    restart: RestartType,
    log: string[],
  ): Promise<{ system: ActorSystem; sup: SupervisorRef; child: Ref<string> }> {
    const system = new ActorSystem({ logger: silentLogger });
    const spec: ChildSpec = { id: 'w', behavior: logging(log, 'w'), restart };
    const sup = await system.start(supervisor({ children: [spec] }), { label: 'app' });
    const child = (await whichChildren(sup))[0]?.ref as unknown as Ref<string>;
    return { system, sup, child };
  }

  it('rejects at once for a permanent child, stops nothing, and names terminateChild', async () => {
    const log: string[] = [];
    const { system, sup, child } = await supervised('permanent', log);
    await assert.rejects(
      system.stop(child),
      (e: unknown) =>
        e instanceof TypeError &&
        e.message ===
          'system.stop(ref): Ref<2 w> is a permanent child of the supervisor Ref<1 app>, which restarts it in place ' +
            'whatever its exit reason, so it would never stop for good and this promise would never settle. ' +
            "Stop it for good with terminateChild(sup, 'w'); to make it restart, kill it (system.kill(ref))",
    );
    await settle(system);
    assert.deepEqual(log, [], 'no terminate: the child was not stopped');
    assert.deepEqual(
      (await whichChildren(sup)).map((c) => `${c.id} ${c.status} ${c.restarts}`),
      ['w running 0'],
    );
    assert.deepEqual(await terminateChild(sup, 'w'), { ok: true });
    assert.equal(child.alive, false);
    assert.deepEqual(log, ['w terminate: shutdown']);
    await system.shutdown();
  });

  it('resolves for a transient child stopped with a clean reason, and rejects with an abnormal one', async () => {
    const log: string[] = [];
    const { system, sup, child } = await supervised('transient', log);
    await assert.rejects(
      system.stop(child, new Error('drain')),
      /is a transient child of the supervisor Ref<1 app>, which restarts it in place after an abnormal exit such as Error: drain.*terminateChild\(sup, 'w'\) or with a clean reason/,
    );
    assert.equal(await system.stop(child, 'shutdown'), 'shutdown');
    assert.equal(child.alive, false);
    assert.deepEqual(
      (await whichChildren(sup)).map((c) => `${c.id} ${c.status}`),
      ['w stopped'],
    );
    await system.shutdown();
  });

  it('resolves for a temporary child, which its supervisor never restarts', async () => {
    const log: string[] = [];
    const { system, sup, child } = await supervised('temporary', log);
    const reason = new Error('done');
    assert.equal(await system.stop(child, reason), reason);
    assert.equal(child.alive, false);
    assert.deepEqual(await whichChildren(sup), []);
    await system.shutdown();
  });

  it("names terminateChild(sup, ref) for a dynamic supervisor's child", async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const rooms = await system.start(dynamicSupervisor({ child: { behavior: (_: string) => {}, label: 'room' } }));
    const room = await startChild(rooms, undefined);
    assert.ok(room.ok);
    await assert.rejects(system.stop(room.ref), /permanent child of the supervisor Ref<1>.*terminateChild\(sup, ref\)/);
    assert.equal(room.ref.alive, true);
    await system.shutdown();
  });
});

describe('ctx.stop', () => {
  it('stops after the current message; later messages become dead letters', async () => {
    const system = new ActorSystem();
    const dead = deadLetters(system);
    const log: string[] = [];
    const ref = system.spawn(logging(log, 'a'));
    ref.send('stop');
    ref.send('never handled');
    await settle(system);
    assert.deepEqual(log, ['a: stop', 'a terminate: { shutdown: "asked" }']);
    assert.deepEqual(await system.exited(ref), { shutdown: 'asked' });
    assert.deepEqual(
      dead.map((dl) => dl.message),
      ['never handled'],
    );
  });
});

describe('send to a dead actor', () => {
  it('returns false, never throws, and counts a dead letter', async () => {
    const system = new ActorSystem();
    const dead = deadLetters(system);
    const ref = system.spawn((_: string) => {});
    await system.stop(ref);
    const before = system.stats().deadLetters;
    assert.equal(ref.send('late'), false);
    assert.equal(system.stats().deadLetters, before + 1);
    assert.deepEqual(
      dead.map((dl) => [dl.to, dl.message, dl.reason]),
      [[ref, 'late', 'dead']],
    );
  });

  it('keeps delivering dead letters to other listeners when one listener throws, and unsubscribes', async () => {
    const logger = recordingLogger();
    const system = new ActorSystem({ logger });
    system.onDeadLetter(() => {
      throw new Error('listener bug');
    });
    const seen: unknown[] = [];
    const off = system.onDeadLetter((dl) => seen.push(dl.message));
    const ref = system.spawn((_: string) => {});
    system.kill(ref);
    assert.equal(ref.send('one'), false);
    off();
    assert.equal(ref.send('two'), false);
    assert.deepEqual(seen, ['one']);
    assert.equal(logger.errors.length, 2, 'the throwing listener is logged, not rethrown');
  });
});

describe('system.kill', () => {
  it('does not run terminate', async () => {
    const system = new ActorSystem();
    const log: string[] = [];
    const ref = system.spawn(logging(log, 'a'));
    ref.send('hello');
    await settle(system);
    system.kill(ref);
    await settle(system);
    assert.equal(await system.exited(ref), 'killed');
    assert.deepEqual(log, ['a: hello']);
  });

  it('ends an actor that is stuck in an async handler', async () => {
    const system = new ActorSystem();
    const ref = system.spawn(async (_: string) => {
      await new Promise(() => {});
    });
    ref.send('hang');
    await settle(system);
    system.kill(ref);
    assert.equal(ref.alive, false);
    assert.equal(await system.exited(ref), 'killed');
  });
});

describe('system.exit', () => {
  it('ends an actor stuck in an async handler without waiting for the handler', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const ref = system.spawn((_m: string) => new Promise<void>(() => {}));
    ref.send('go');
    await settle(system);
    system.exit(ref, { shutdown: 'now' } as never);
    await settle(system);
    assert.equal(ref.alive, false);
  });

  it('does not wait for a pending async handler even when a polite stop is already queued', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    // Handler that never settles (e.g. a hung I/O call).
    const ref = system.spawn((_m: string) => new Promise<void>(() => {}));
    ref.send('go');
    await settle(system);
    void system.stop(ref); // polite: waits for the handler (documented)
    system.exit(ref, { shutdown: 'now' } as never); // exit signal: documented not to wait
    await settle(system);
    assert.equal(ref.alive, false, 'exit signal should end the actor even though a stop is pending');
  });

  it('does not wait for a pending async handler that called ctx.stop', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const ref = system.spawn((_m: string, ctx) => {
      ctx.stop(); // stop after this message (normal)
      return new Promise<void>(() => {}); // ...but the handler hangs
    });
    ref.send('go');
    await settle(system);
    system.exit(ref, { shutdown: 'now' } as never);
    await settle(system);
    assert.equal(ref.alive, false, 'exit signal should end the actor');
  });
});

describe('system.shutdown', () => {
  it('stops every actor newest first with reason shutdown, children before their parents', async () => {
    const system = new ActorSystem();
    const log: string[] = [];
    const first = system.spawn(logging(log, 'first'));
    const parent = system.spawn<(ctx: Context<never>) => void, undefined>({
      receive(_s, fn, ctx) {
        fn(ctx as Context<never>);
      },
      terminate(_s, reason) {
        log.push(`parent terminate: ${describeReason(reason)}`);
      },
    });
    let child: Ref<string> | undefined;
    parent.send((ctx) => {
      child = ctx.spawn(logging(log, 'child'));
    });
    await settle(system);
    system.spawn(logging(log, 'last'));

    await system.shutdown();
    assert.deepEqual(log, [
      'last terminate: shutdown',
      'child terminate: shutdown',
      'parent terminate: shutdown',
      'first terminate: shutdown',
    ]);
    assert.equal(first.alive || parent.alive || child!.alive, false);
    assert.equal(system.stats().actors, 0);
  });

  it('kills an actor whose terminate never settles after shutdownTimeoutMs, then stops the next, then refuses spawn', async () => {
    const clock = new SimulatedClock();
    const system = new ActorSystem({ clock, shutdownTimeoutMs: 1_000 });
    const log: string[] = [];
    const polite = system.spawn(logging(log, 'polite'));
    const stuck = system.spawn<string, undefined>({
      receive() {},
      terminate() {
        log.push('stuck terminate');
        return new Promise(() => {});
      },
    });
    let done = false;
    const shutdown = system.shutdown().then(() => {
      done = true;
    });
    await settle(system);
    assert.deepEqual(log, ['stuck terminate'], 'one at a time: the older actor waits its turn');
    assert.equal(polite.alive, true);

    clock.advance(999);
    await settle(system);
    assert.equal(done, false);
    assert.equal(stuck.alive, true, 'still in terminate before the timeout');

    clock.advance(1);
    await settle(system);
    await shutdown;
    assert.deepEqual(log, ['stuck terminate', 'polite terminate: shutdown']);
    assert.equal(polite.alive, false);
    assert.equal(stuck.alive, false);
    assert.equal(await system.exited(stuck), 'killed');

    assert.throws(() => system.spawn((_: string) => {}), SystemShutdownError);
    await assert.rejects(
      system.start((_: string) => {}),
      SystemShutdownError,
    );
  });

  it('resolves at once for a system without actors, and refuses spawn afterwards', async () => {
    const system = new ActorSystem();
    await system.shutdown();
    assert.throws(
      () => system.spawn((_: string) => {}),
      (e: unknown) => e instanceof SystemShutdownError && e.message === 'the actor system has been shut down',
    );
  });
});

describe('exit reasons', () => {
  it('are seen by monitors as normal, shutdown, { shutdown: detail }, killed, or the error', async () => {
    const system = new ActorSystem({ logger: recordingLogger() });
    const boom = new Error('boom');
    const ways: Array<[string, (ref: Ref<string>) => void, ExitReason]> = [
      ['stop', (ref) => void system.stop(ref), 'normal'],
      ['stop shutdown', (ref) => void system.stop(ref, 'shutdown'), 'shutdown'],
      ['stop { shutdown }', (ref) => void system.stop(ref, { shutdown: 42 }), { shutdown: 42 }],
      ['kill', (ref) => system.kill(ref), 'killed'],
      ['crash', (ref) => ref.send('boom'), boom],
    ];
    // Seen twice: by a monitoring actor (DOWN messages) and by system.watch.
    const names = new Map<Ref<never>, string>();
    const downs: Array<[string, ExitReason]> = [];
    const watcher = system.spawn<Ref<never>, undefined>({
      receive(_s, ref, ctx) {
        ctx.monitor(ref);
      },
      info(_s, msg) {
        if (msg.type === 'DOWN') downs.push([names.get(msg.actor) ?? '?', msg.reason]);
      },
    });
    const watched: Array<[string, ExitReason]> = [];
    for (const [name, end] of ways) {
      const ref = system.spawn((msg: string) => {
        if (msg === 'boom') throw boom;
      });
      names.set(ref, name);
      watcher.send(ref);
      system.monitor(ref, (reason) => watched.push([name, reason]));
      await settle(system);
      end(ref);
      await settle(system);
    }
    const expected = ways.map(([name, , reason]) => [name, reason]);
    assert.deepEqual(downs, expected);
    assert.deepEqual(watched, expected);
  });

  it('are clean for normal, shutdown and { shutdown: detail } only', () => {
    const clean = (['normal', 'shutdown', { shutdown: 1 }, 'killed', 'noproc', new Error('x')] as ExitReason[]).map(
      isCleanExit,
    );
    assert.deepEqual(clean, [true, true, true, false, false, false]);
  });
});

describe('system.shutdown order', () => {
  it('stops every actor newest first, even when an older one has mail queued', async () => {
    const system = new ActorSystem();
    const log: string[] = [];
    const spawnLogged = (name: string) =>
      system.spawn<string, undefined>({
        receive(_s, msg) {
          log.push(`${name}: ${msg}`);
        },
        terminate(_s, reason) {
          log.push(`${name} terminate: ${describeReason(reason)}`);
        },
      });
    const first = spawnLogged('first');
    spawnLogged('second');
    spawnLogged('third');
    first.send('queued'); // `first` is now in the run queue, ahead of the others
    await system.shutdown();
    // Its mail is handled while the newer actors stop, but it terminates last.
    assert.deepEqual(log, [
      'first: queued',
      'third terminate: shutdown',
      'second terminate: shutdown',
      'first terminate: shutdown',
    ]);
  });
});

describe('async handlers after death', () => {
  it('keeps the exit reason when a killed actor’s pending receive resolves later', async () => {
    const system = new ActorSystem();
    let release!: (n: number) => void;
    const ref = system.spawn<string, number>({
      init: () => 0,
      receive() {
        return new Promise<number>((r) => {
          release = r;
        });
      },
    });
    ref.send('go');
    await settle(system);
    system.kill(ref as never);
    release(42);
    await settle(system);
    assert.equal(await system.exited(ref as never), 'killed');
    await assert.rejects(ref.call({ type: 'x' } as never), /exited: killed/);
  });
});

describe('an actor that kills itself in a synchronous init or handler', () => {
  it('stays dead after killing itself in init, and takes no more mail', async () => {
    const system = new ActorSystem({ clock: new SimulatedClock(), logger: silentLogger });
    const handled: string[] = [];
    const b: Behavior<string, number> = {
      init(ctx) {
        ctx.kill(); // it finds it has nothing to do, and ends itself at once
        return 0;
      },
      receive(_s, msg) {
        handled.push(msg);
      },
    };
    const ref = system.spawn(b);
    await settle(system);
    assert.equal(ref.alive, false);
    assert.equal(system.stats().actors, 0);
    ref.send('after its death');
    await settle(system);
    assert.deepEqual(handled, []);
    assert.equal(await system.exited(ref), 'killed');
    await system.shutdown();
  });

  it('keeps killed as its exit reason, whatever the handler returns after the kill', async () => {
    for (const supervised of [false, true]) {
      const system = new ActorSystem({ clock: new SimulatedClock(), logger: silentLogger });
      type M = { type: 'die' } | { type: 'get'; reply: Reply<number> };
      const b: Behavior<M, { count: number } | undefined> = {
        receive(state, msg, ctx) {
          if (msg.type === 'die') {
            ctx.kill();
            return { count: (state?.count ?? 0) + 1 }; // the handler still returns a next state
          }
          msg.reply(state?.count ?? 0);
          return state;
        },
      };
      if (!supervised) {
        const ref = system.spawn(b);
        ref.send({ type: 'die' });
        await settle(system);
        assert.equal(await system.exited(ref), 'killed');
        await assert.rejects(
          ref.call({ type: 'get' }),
          (e: unknown) => e instanceof ExitError && e.reason === 'killed',
        );
      } else {
        // Restarted in place: a behaviour without init starts its next incarnation on undefined
        // state, not on what the killed one returned.
        const sup = await system.start(supervisor({ children: [{ id: 'w', behavior: b }] }));
        const ref = (await whichChildren(sup))[0]?.ref as unknown as Ref<M>;
        ref.send({ type: 'die' });
        await settle(system);
        assert.equal(await ref.call({ type: 'get' }), 0);
      }
      await system.shutdown();
    }
  });
});
