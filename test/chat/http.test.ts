import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join, metric, startServer, supervisors } from './client.js';

describe('chat http', () => {
  it('serves the browser page at /', async (t) => {
    const srv = await startServer(t);
    const r = await srv.http('GET', '/');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.match(r.body, /^<!doctype html>/i);
    assert.match(r.body, /<title>[^<]*chat[^<]*<\/title>/i);
  });

  it('answers /healthz with 200, the node, and cluster "off" for a single process', async (t) => {
    const srv = await startServer(t, { node: 'solo' });
    const r = await srv.http('GET', '/healthz');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /application\/json/);
    assert.deepEqual(JSON.parse(r.body), { ok: true, node: 'solo', cluster: 'off', nodes: 1 });
  });

  it('answers /metrics in Prometheus text with the chat_ counters', async (t) => {
    const srv = await startServer(t);
    const alice = await srv.connect('alice');
    const bob = await srv.connect('bob');
    await join(alice, 'lobby');
    await join(bob, 'lobby');
    await alice.request({ type: 'message', room: 'lobby', content: 'hi' });
    await alice.request({ type: 'dm', to: 'bob', content: 'psst' });
    await alice.request({ type: 'nonsense' });
    await bob.sync();

    const r = await srv.http('GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    const text = r.body;
    // Every sample line is `name value` or `name{labels} value`, every family has HELP and TYPE.
    for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? ([-+]?[0-9.]+([eE][-+]?[0-9]+)?|[-+]?Inf|NaN)$/i, line);
    }
    const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]);
    for (const name of families) assert.match(text, new RegExp(`^# HELP ${name} `, 'm'), `HELP of ${name}`);

    assert.equal(metric(text, 'chat_connections'), 2);
    assert.equal(metric(text, 'chat_rooms'), 1);
    const counters: Record<string, number> = {
      chat_frames_in_total: 6, // 2 joins, message, dm, nonsense, and the ping of the sync
      chat_messages_in_total: 1,
      chat_dms_in_total: 1,
      chat_deliveries_total: 3, // the message to both members, the dm to bob
      chat_errors_total: 1,
      chat_rate_limited_total: 0,
    };
    for (const [name, value] of Object.entries(counters)) {
      assert.match(text, new RegExp(`^# TYPE ${name} counter$`, 'm'), `${name} is a counter`);
      assert.equal(metric(text, name), value, name);
    }
    for (const name of ['chat_gaps_total', 'chat_slow_closed_total', 'chat_abuse_closed_total']) {
      assert.equal(metric(text, name), 0, name);
    }
  });

  it("answers /metrics with the runtime's troupe_ metrics: call latency, crashes and restarts", async (t) => {
    const srv = await startServer(t, { testFaults: true });
    const alice = await srv.connect('alice');
    await join(alice, 'lobby');
    const scrape = async () => (await srv.http('GET', '/metrics')).body;
    const calls = 'troupe_call_duration_seconds_count{outcome="replied",request_type="supervisor.which_children"}';
    const before = await scrape();
    assert.match(before, /^# TYPE troupe_call_duration_seconds histogram$/m);
    assert.match(before, /^# TYPE troupe_actor_restarts_total counter$/m);
    await supervisors(srv); // two calls: whichChildren of the chat's tree, then of the socket server
    await srv.http('POST', '/_test/crash?room=lobby');
    await alice.syncRoom('lobby'); // the restarted room has answered
    const after = await scrape();
    const delta = (name: string) => (metric(after, name) ?? 0) - (metric(before, name) ?? 0);
    assert.equal(delta(calls), 2);
    assert.match(
      after,
      /^troupe_call_duration_seconds_bucket\{le="\+Inf",outcome="replied",request_type="supervisor.which_children"\} \d+$/m,
    );
    assert.equal(delta('troupe_actor_crashes_total'), 1);
    assert.equal(delta('troupe_actor_restarts_total'), 1);
    assert.equal(delta('troupe_dead_letters_total{reason="crashed"}'), 1, 'the message the room crashed on');
    assert.equal(metric(after, 'troupe_supervisor_intensity_exceeded_total'), 0);
    for (const name of ['troupe_actors', 'troupe_run_queue_length', 'troupe_mailbox_depth_high_water']) {
      assert.equal(typeof metric(after, name), 'number', name);
    }
  });

  it('answers 404 elsewhere', async (t) => {
    const srv = await startServer(t);
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/'],
    ] as const) {
      const r = await srv.http(method, path);
      assert.equal(r.status, 404, `${method} ${path}`);
    }
    // The socket path without an upgrade is a malformed upgrade, not a missing page (exposure.test.ts).
    assert.equal((await srv.http('GET', '/ws')).status, 400);
  });
});
