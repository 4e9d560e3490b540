/**
 * The system's seam for a distribution layer: a node name, the nodes it knows, and nodeup /
 * nodedown events reported through it (`@troupe/cluster` is the layer; here a hand-made one).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActorSystem, type SystemEvent } from 'troupe';

describe('system.attachDistribution', () => {
  it('names the node, answers nodes(), reports node events, and lets go on detach', () => {
    const system = new ActorSystem();
    const seen: string[] = [];
    system.subscribe((e: SystemEvent) => {
      if (e.type === 'nodeup') seen.push(`up ${e.node}`);
      if (e.type === 'nodedown') seen.push(`down ${e.node} ${e.reason}`);
    });
    let peers = ['b'];
    const hooks = system.attachDistribution({ node: 'a', nodes: () => peers });
    assert.equal(system.node, 'a');
    assert.deepEqual(system.nodes(), ['b']);
    hooks.nodeUp('b');
    peers = [];
    hooks.nodeDown('b', 'noconnection');
    assert.deepEqual(seen, ['up b', 'down b noconnection']);
    assert.throws(() => system.attachDistribution({ node: 'x', nodes: () => [] }), /already node 'a'; detach it first/);
    hooks.detach();
    hooks.nodeUp('late');
    assert.equal(system.node, 'nonode@nohost');
    assert.deepEqual(system.nodes(), []);
    assert.deepEqual(seen, ['up b', 'down b noconnection'], 'a detached layer reports nothing');
    assert.doesNotThrow(() => system.attachDistribution({ node: 'c', nodes: () => [] }).detach());
  });
});
