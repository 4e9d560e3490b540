/**
 * Links and exit signals, by OTP's rules. The core is one table, exit reason x trap_exit ->
 * outcome, checked three ways: a linked actor exits (link propagation), an actor sends `ctx.exit`,
 * and the system sends `system.exit` (both OTP's exit/2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ActorSystem,
  type Context,
  type ExitReason,
  type InfoMessage,
  type Ref,
  type SpawnOptions,
  silentLogger,
} from 'troupe';
import { settle } from 'troupe/testing';

/** A message that runs in the actor's context: lets a test act "from inside" any actor. */
type Do = (ctx: Context<Do>) => void;

interface Puppet {
  readonly ref: Ref<Do>;
  /** EXIT and DOWN messages its `info` handler received, oldest first. */
  readonly infos: InfoMessage[];
  /** Reasons its `terminate` ran with. */
  readonly terminated: ExitReason[];
}

function puppet(system: ActorSystem, options: SpawnOptions = {}): Puppet {
  const infos: InfoMessage[] = [];
  const terminated: ExitReason[] = [];
  const ref = system.spawn<Do, undefined>(
    {
      receive(_state, fn, ctx) {
        fn(ctx);
      },
      info(_state, msg) {
        infos.push(msg);
      },
      terminate(_state, reason) {
        terminated.push(reason);
      },
    },
    options,
  );
  return { ref, infos, terminated };
}

function newSystem(): ActorSystem {
  return new ActorSystem({ logger: silentLogger });
}

const boom = new Error('boom');
const detail = { shutdown: { why: 'maintenance' } } as const;

type Outcome = 'survives' | 'dies' | 'EXIT';

interface Row {
  readonly reason: string;
  readonly trapExit: boolean;
  /** B is linked to A; A exits with the reason. */
  readonly linked: Outcome;
  /** Someone sends B an exit signal with the reason (for `killed`: kills B, which no trap stops). */
  readonly exit2: Outcome;
}

/** How A is made to exit with each reason, and the reason value itself. */
const reasons: Record<string, { value: ExitReason; end: (system: ActorSystem, a: Ref<Do>) => void }> = {
  normal: { value: 'normal', end: (s, a) => void s.stop(a) },
  shutdown: { value: 'shutdown', end: (s, a) => void s.stop(a, 'shutdown') },
  '{ shutdown: detail }': { value: detail, end: (s, a) => void s.stop(a, detail) },
  'killed (kill)': { value: 'killed', end: (s, a) => s.kill(a) },
  error: {
    value: boom,
    end: (_s, a) =>
      a.send(() => {
        throw boom;
      }),
  },
};

// The table. Links ignore `normal` unless trapping; everything else kills a non-trapping actor with
// the same reason and reaches a trapping one as an EXIT message. A kill is never trapped.
const table: readonly Row[] = [
  { reason: 'normal', trapExit: false, linked: 'survives', exit2: 'survives' },
  { reason: 'normal', trapExit: true, linked: 'EXIT', exit2: 'EXIT' },
  { reason: 'shutdown', trapExit: false, linked: 'dies', exit2: 'dies' },
  { reason: 'shutdown', trapExit: true, linked: 'EXIT', exit2: 'EXIT' },
  { reason: '{ shutdown: detail }', trapExit: false, linked: 'dies', exit2: 'dies' },
  { reason: '{ shutdown: detail }', trapExit: true, linked: 'EXIT', exit2: 'EXIT' },
  { reason: 'killed (kill)', trapExit: false, linked: 'dies', exit2: 'dies' },
  { reason: 'killed (kill)', trapExit: true, linked: 'EXIT', exit2: 'dies' },
  { reason: 'error', trapExit: false, linked: 'dies', exit2: 'dies' },
  { reason: 'error', trapExit: true, linked: 'EXIT', exit2: 'EXIT' },
];

interface Observed {
  readonly case: string;
  readonly alive: boolean;
  readonly exitReason: ExitReason | undefined;
  readonly infos: ReadonlyArray<{ type: string; from: string; reason: ExitReason }>;
}

function expected(row: Row, outcome: Outcome, from: string): Observed {
  const reason = reasons[row.reason]!.value;
  return {
    case: `${row.reason}, trapExit: ${row.trapExit}`,
    alive: outcome !== 'dies',
    exitReason: outcome === 'dies' ? reason : undefined,
    infos: outcome === 'EXIT' ? [{ type: 'EXIT', from, reason }] : [],
  };
}

async function observe(system: ActorSystem, row: Row, b: Puppet, names: Map<Ref<never>, string>): Promise<Observed> {
  return {
    case: `${row.reason}, trapExit: ${row.trapExit}`,
    alive: b.ref.alive,
    exitReason: b.ref.alive ? undefined : await system.exited(b.ref),
    infos: b.infos.map((m) => ({
      type: m.type,
      from: m.type === 'EXIT' ? (names.get(m.from) ?? 'another ref') : '-',
      reason: m.reason,
    })),
  };
}

describe('links and exit signals (OTP exit rules)', () => {
  it('propagates an exit to a linked actor by reason x trapExit (table)', async () => {
    const actual: Observed[] = [];
    for (const row of table) {
      const system = newSystem();
      const a = puppet(system);
      const b = puppet(system, { trapExit: row.trapExit });
      b.ref.send((ctx) => ctx.link(a.ref));
      await settle(system);
      reasons[row.reason]!.end(system, a.ref);
      await settle(system);
      actual.push(await observe(system, row, b, new Map([[a.ref, 'A']])));
    }
    assert.deepEqual(
      actual,
      table.map((row) => expected(row, row.linked, 'A')),
    );
  });

  it('applies ctx.exit(ref, reason) by reason x trapExit, with the sender as `from` (table)', async () => {
    const actual: Observed[] = [];
    for (const row of table) {
      const system = newSystem();
      const b = puppet(system, { trapExit: row.trapExit });
      const c = puppet(system);
      const reason = reasons[row.reason]!.value;
      c.ref.send((ctx) => (row.reason === 'killed (kill)' ? ctx.kill(b.ref) : ctx.exit(b.ref, reason)));
      await settle(system);
      actual.push(await observe(system, row, b, new Map([[c.ref, 'C']])));
      assert.equal(c.ref.alive, true, 'the sender of an exit signal is not affected');
    }
    assert.deepEqual(
      actual,
      table.map((row) => expected(row, row.exit2, 'C')),
    );
  });

  it('applies system.exit(ref, reason) by reason x trapExit (table)', async () => {
    const actual: Observed[] = [];
    for (const row of table) {
      const system = newSystem();
      const b = puppet(system, { trapExit: row.trapExit });
      const reason = reasons[row.reason]!.value;
      if (row.reason === 'killed (kill)') system.kill(b.ref);
      else system.exit(b.ref, reason);
      await settle(system);
      // There is no sending actor, so `from` is not asserted here.
      const seen = await observe(system, row, b, new Map());
      actual.push({ ...seen, infos: seen.infos.map((m) => ({ ...m, from: '?' })) });
    }
    assert.deepEqual(
      actual,
      table.map((row) => expected(row, row.exit2, '?')),
    );
  });

  it('ends a non-trapping actor with normal when it sends exit(self, normal) to itself', async () => {
    const system = newSystem();
    const ref = system.spawn((_m: string, ctx: Context<string>) => ctx.exit(ctx.self as Ref<never>, 'normal'));
    const exited = system.exited(ref as Ref<never>);
    ref.send('go');
    await settle(system);
    assert.equal(ref.alive, false);
    assert.equal(await exited, 'normal');
  });

  it('rejects an exit reason that is not one', () => {
    const system = newSystem();
    const b = puppet(system);
    assert.throws(
      () => system.exit(b.ref, 'kill' as never),
      (e: unknown) =>
        e instanceof TypeError && /exit reason must be 'normal', 'shutdown', \{ shutdown: detail \}/.test(e.message),
    );
  });
});

describe('system.kill', () => {
  it('kills a trapping actor at once without terminate, and its links see killed', async () => {
    const system = newSystem();
    const target = puppet(system, { trapExit: true });
    const trapping = puppet(system, { trapExit: true });
    const plain = puppet(system);
    target.ref.send((ctx) => ctx.link(trapping.ref));
    target.ref.send((ctx) => ctx.link(plain.ref));
    await settle(system);

    system.kill(target.ref);
    assert.equal(target.ref.alive, false, 'dead as soon as kill returns');
    await settle(system);

    assert.equal(await system.exited(target.ref), 'killed');
    assert.deepEqual(target.infos, [], 'a kill never becomes an EXIT message');
    assert.deepEqual(target.terminated, [], 'terminate does not run');
    assert.equal(trapping.infos.length, 1);
    assert.equal(trapping.infos[0]!.type, 'EXIT');
    assert.equal((trapping.infos[0] as { from: unknown }).from, target.ref);
    assert.equal(trapping.infos[0]!.reason, 'killed');
    assert.equal(await system.exited(plain.ref), 'killed');
  });

  it('is a no-op on an actor that is already dead', async () => {
    const system = newSystem();
    const a = puppet(system);
    await system.stop(a.ref, 'shutdown');
    system.kill(a.ref);
    assert.equal(await system.exited(a.ref), 'shutdown');
  });
});

describe('ctx.link', () => {
  it('links both ways: whichever side crashes takes the other down', async () => {
    for (const crashing of ['linker', 'linked'] as const) {
      const system = newSystem();
      const linker = puppet(system);
      const linked = puppet(system);
      linker.ref.send((ctx) => ctx.link(linked.ref));
      await settle(system);
      const [dying, other] = crashing === 'linker' ? [linker, linked] : [linked, linker];
      dying.ref.send(() => {
        throw boom;
      });
      await settle(system);
      assert.equal(await system.exited(other.ref), boom, `the ${crashing} crashed`);
    }
  });

  it('propagates along a chain of links', async () => {
    const system = newSystem();
    const [a, b, c] = [puppet(system), puppet(system), puppet(system)];
    a.ref.send((ctx) => ctx.link(b.ref));
    c.ref.send((ctx) => ctx.link(b.ref));
    await settle(system);
    a.ref.send(() => {
      throw boom;
    });
    await settle(system);
    assert.equal(await system.exited(b.ref), boom);
    assert.equal(await system.exited(c.ref), boom);
  });

  it('delivers noproc when linking to a dead actor: death without trapExit, EXIT with it', async () => {
    const system = newSystem();
    const dead = puppet(system);
    system.kill(dead.ref);

    const plain = puppet(system);
    plain.ref.send((ctx) => ctx.link(dead.ref));
    const trapping = puppet(system, { trapExit: true });
    trapping.ref.send((ctx) => ctx.link(dead.ref));
    await settle(system);

    assert.equal(await system.exited(plain.ref), 'noproc');
    assert.equal(trapping.ref.alive, true);
    assert.deepEqual(
      trapping.infos.map((m) => [m.type, (m as { from: unknown }).from === dead.ref, m.reason]),
      [['EXIT', true, 'noproc']],
    );
  });

  it('follows trapExit as it is switched on and off at run time', async () => {
    const system = newSystem();
    const b = puppet(system);
    const first = puppet(system);
    const second = puppet(system);
    b.ref.send((ctx) => {
      ctx.trapExit();
      ctx.link(first.ref);
      ctx.link(second.ref);
    });
    await settle(system);
    system.exit(first.ref, 'shutdown');
    await settle(system);
    assert.deepEqual(
      b.infos.map((m) => m.reason),
      ['shutdown'],
    );

    b.ref.send((ctx) => ctx.trapExit(false));
    await settle(system);
    system.exit(second.ref, 'shutdown');
    await settle(system);
    assert.equal(await system.exited(b.ref), 'shutdown');
  });
});

describe('ctx.unlink', () => {
  it('removes the link in both directions', async () => {
    for (const [unlinker, crashing] of [
      ['linker', 'linked'],
      ['linker', 'linker'],
      ['linked', 'linked'],
      ['linked', 'linker'],
    ] as const) {
      const system = newSystem();
      const linker = puppet(system);
      const linked = puppet(system);
      const who = { linker, linked };
      linker.ref.send((ctx) => ctx.link(linked.ref));
      await settle(system);
      const other = unlinker === 'linker' ? linked : linker;
      who[unlinker].ref.send((ctx) => ctx.unlink(other.ref));
      await settle(system);
      who[crashing].ref.send(() => {
        throw boom;
      });
      await settle(system);
      const survivor = crashing === 'linker' ? linked : linker;
      assert.equal(survivor.ref.alive, true, `unlinked by the ${unlinker}, then the ${crashing} crashed`);
    }
  });

  it('is a no-op without a link', async () => {
    const system = newSystem();
    const a = puppet(system);
    const b = puppet(system);
    a.ref.send((ctx) => ctx.unlink(b.ref));
    await settle(system);
    assert.equal(a.ref.alive, true);
    assert.equal(b.ref.alive, true);
  });
});

describe('ctx.spawn with { link: true }', () => {
  it('links the child to its parent both ways', async () => {
    for (const crashing of ['child', 'parent'] as const) {
      const system = newSystem();
      const parent = puppet(system);
      let child: Ref<Do> | undefined;
      parent.ref.send((ctx) => {
        child = ctx.spawn<Do>((fn, c) => fn(c), { link: true });
      });
      await settle(system);
      assert.ok(child !== undefined);
      const [dying, other] = crashing === 'child' ? [child, parent.ref] : [parent.ref, child];
      dying.send(() => {
        throw boom;
      });
      await settle(system);
      assert.equal(await system.exited(other), boom, `the ${crashing} crashed`);
    }
  });

  it('does not link without { link: true }', async () => {
    const system = newSystem();
    const parent = puppet(system);
    let child: Ref<Do> | undefined;
    parent.ref.send((ctx) => {
      child = ctx.spawn<Do>((fn, c) => fn(c));
    });
    await settle(system);
    child!.send(() => {
      throw boom;
    });
    await settle(system);
    assert.equal(child!.alive, false);
    assert.equal(parent.ref.alive, true);
  });

  it('is refused by system.spawn, which has no actor to link to', () => {
    const system = newSystem();
    assert.throws(
      () => system.spawn((_msg: string) => {}, { link: true }),
      (e: unknown) => e instanceof TypeError && /needs a spawning actor; use ctx\.spawn/.test(e.message),
    );
  });
});
