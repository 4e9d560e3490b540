/**
 * registry-register: names/s registering 1,000,000 unique names (for 1,000 actors) in a
 * `UniqueRegistry`, each a `register` that checks the name is free and the actor alive and records
 * the entry on the actor for cleanup at its death. The baseline is a bare `Map` with a `has` check.
 */
import { ActorSystem, type Ref, UniqueRegistry } from 'troupe';
import * as baseline from './baseline.js';
import { check, defineWorkload, type Sample } from './harness.js';

export interface RegistryParams {
  readonly names: number;
}

async function troupe(p: RegistryParams): Promise<Sample> {
  const system = new ActorSystem();
  const refs = Array.from({ length: 1000 }, () => system.spawn((_: number) => {}) as Ref<never>);
  const registry = new UniqueRegistry<string>();
  const keys = Array.from({ length: p.names }, (_, i) => `name-${i}`);
  const t0 = performance.now();
  for (let i = 0; i < p.names; i++) {
    if (!registry.register(keys[i] as string, refs[i % 1000] as Ref<never>).ok) throw new Error('taken');
  }
  const s = (performance.now() - t0) / 1000;
  check(registry.size === p.names, 'every name registered');
  check(registry.whereis('name-999999') === refs[999] || p.names < 1_000_000, 'lookup');
  await system.shutdown();
  check(registry.size === 0, 'every name gone with its actor');
  return { 'registry-register': p.names / s };
}

export const registry = defineWorkload<RegistryParams>({
  name: 'registry',
  about: 'registering 1,000,000 unique names in a UniqueRegistry; names/s',
  figures: [{ name: 'registry-register', unit: 'names/s', better: 'higher', decimals: 0 }],
  params: { full: { names: 1_000_000 }, quick: { names: 200_000 } },
  troupe,
  baseline: baseline.registryRegister,
});
