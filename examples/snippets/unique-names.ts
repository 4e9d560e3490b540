/**
 * Unique names: one actor per name. The system has a registry of its own (the `name` option of
 * `spawn` and `start`, `system.register`, `system.whereis`); a `UniqueRegistry` is one more, with a
 * value per name, and can stand in for the system's with `name: { via, key }`. A name goes away in
 * the same step as its actor dies, so a lookup never returns a dead actor.
 * Run: `node --conditions=source --import tsx examples/snippets/unique-names.ts`.
 */
import { ActorSystem, key, NameTakenError, type RegisterResult, type Reply, UniqueRegistry } from 'troupe';

type CacheMsg = { type: 'get'; key: string; reply: Reply<string | undefined> };

const cache = (msg: CacheMsg) => msg.reply(msg.key === 'greeting' ? 'hello' : undefined);

// A typed key: it names the actor and says what it accepts. A plain string names it too.
const CACHE = key<CacheMsg>('cache');

const show = (r: RegisterResult<unknown>) => (r.ok ? 'ok' : r.reason === 'taken' ? `taken by ${r.ref}` : r.reason);

export async function main(): Promise<Record<string, unknown>> {
  const system = new ActorSystem();
  const out: Record<string, unknown> = {};

  system.spawn(cache, { name: CACHE }); // registered before spawn returns
  const found = system.whereis(CACHE); // Ref<CacheMsg> | undefined, checked by the compiler
  out.whereis = await found?.call({ type: 'get', key: 'greeting' }); // 'hello'

  try {
    system.spawn(cache, { name: 'cache' }); // the same name: taken, throws, and starts nothing
  } catch (e) {
    if (!(e instanceof NameTakenError)) throw e;
    out.spawnTaken = `${e.name}: ${e.message}`;
  }
  const other = system.spawn(cache);
  const taken = system.register('cache', other); // a result: { ok: false, reason: 'taken', ref }
  out.registerTaken = show(taken);
  out.holderIsCache = !taken.ok && taken.reason === 'taken' && taken.ref === found;
  out.register = show(system.register('spare', other)); // { ok: true }
  out.unregister = system.unregister('spare'); // true

  system.kill(other);
  out.registerDead = show(system.register('late', other)); // { ok: false, reason: 'dead' }
  if (found !== undefined) system.kill(found);
  out.afterDeath = system.whereis('cache'); // undefined the moment kill returns

  // Structured names match by value: a fresh ['user', 42] finds what ['user', 42] registered.
  const session = system.spawn(cache, { name: ['user', 42] });
  out.structured = [system.whereis(['user', 42]) === session, system.whereis(['user', 43])]; // [true, undefined]

  // Another naming service, with a value per name: the `via` of OTP.
  const tenants = new UniqueRegistry<string, { plan: string }>('tenants');
  const acme = system.spawn(cache, { name: { via: tenants, key: 'acme' } });
  tenants.register('globex', system.spawn(cache), { plan: 'pro' });
  out.via = [tenants.whereis('acme') === acme, system.whereis('acme')]; // [true, undefined]
  out.lookup = tenants.lookup('globex')?.value; // { plan: 'pro' }
  out.keys = tenants.keys(); // ['acme', 'globex']

  await system.shutdown();
  out.afterShutdown = tenants.size; // 0
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
