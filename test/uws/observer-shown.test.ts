import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shown } from '../../packages/uws/src/observer.js';

describe("the observer's view of a crashed message", () => {
  it('shows a few keys of a huge object and says how many it left out, without walking them all into text', () => {
    const huge: Record<string, number> = {};
    for (let i = 0; i < 200_000; i++) huge[`k${i}`] = i;
    const text = shown({ type: 'publish', body: huge });
    assert.match(text, /^\{ type: 'publish', body: \{ k0: 0, k1: 1,/);
    assert.match(text, /k19: 19, '…': '199980 /, 'the first 20 keys, then how many are left');
    assert.ok(text.length <= 201, 'clipped');
  });

  it('shows the first items of a long array, the nested levels cut too', () => {
    assert.equal(
      shown({ list: Array.from({ length: 50 }, (_, i) => i) }),
      "{ list: [ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, '… 40 more items' ] }",
    );
    assert.equal(shown([{ i: 0, deep: { deeper: { deepest: 0 } } }]), '[ { i: 0, deep: { deeper: [Object] } } ]');
  });

  it('shows a small message whole, and a message that cannot be shown as such', () => {
    assert.equal(shown({ type: 'join', room: 'lobby' }), "{ type: 'join', room: 'lobby' }");
    const hostile = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('no');
        },
      },
    );
    assert.equal(shown(hostile), '(a message that cannot be shown)');
  });
});
