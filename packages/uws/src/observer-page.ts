/**
 * The observer's page (`@troupe/uws/observer`): one self-contained HTML document, no build step and
 * no request but its feed. It renders each sample the feed sends: the system's figures, the
 * supervision tree (expand and collapse; a page of children at a time), the top actors; and it sends
 * the actions (an exit signal, a restart, another page of children).
 * @internal
 */
export const OBSERVER_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Troupe observer</title>
<style>
  :root { --bg: #0f1419; --panel: #171d24; --line: #263039; --text: #d8dee4; --muted: #7d8a96;
          --accent: #5ab0f6; --ok: #5fd38d; --warn: #f2c94c; --bad: #f2776c; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
         background: var(--bg); color: var(--text); }
  header { display: flex; align-items: baseline; gap: 16px; padding: 12px 18px; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 15px; margin: 0; color: var(--accent); }
  #conn { color: var(--muted); }
  #conn.live { color: var(--ok); }
  #cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; padding: 14px 18px; }
  .card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
  .card .v { font-size: 18px; color: #fff; }
  .card .k { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .04em; }
  main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(260px, 1fr); gap: 14px; padding: 0 18px 18px; }
  section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px; min-width: 0; }
  section h2 { font-size: 12px; margin: 0 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
  .row { display: grid; grid-template-columns: minmax(0, 1fr) 90px 70px 80px 60px 120px; align-items: center;
         gap: 6px; padding: 2px 4px; border-radius: 4px; }
  .row:hover { background: #1e2630; }
  .row.head { color: var(--muted); font-size: 11px; }
  .name { overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
  .tog { display: inline-block; width: 14px; color: var(--muted); cursor: pointer; user-select: none; }
  .beh { color: var(--muted); margin-left: 6px; }
  .names { color: var(--accent); margin-left: 6px; }
  .sum { color: #b7c2cc; margin-left: 8px; }
  .crash { color: var(--bad); margin-left: 8px; }
  .rel { color: var(--muted); margin-left: 8px; font-size: 11px; }
  .num { text-align: right; font-variant-numeric: tabular-nums; }
  .st { font-size: 11px; }
  .st.idle { color: var(--muted); } .st.runnable { color: var(--ok); } .st.waiting { color: var(--warn); }
  .st.restarting, .st.stopping, .st.dead { color: var(--bad); }
  .deep { color: var(--warn); } .hot { color: var(--ok); }
  button { font: inherit; font-size: 11px; background: #222b35; color: var(--text); border: 1px solid var(--line);
           border-radius: 4px; padding: 1px 6px; cursor: pointer; }
  button:hover { border-color: var(--accent); }
  select { font: inherit; font-size: 11px; background: #222b35; color: var(--text); border: 1px solid var(--line); border-radius: 4px; }
  button.kill:hover { border-color: var(--bad); color: var(--bad); }
  .pager { color: var(--muted); padding: 2px 4px 4px; }
  table { width: 100%; border-collapse: collapse; }
  td { padding: 2px 4px; border-bottom: 1px solid var(--line); }
  td.num { text-align: right; }
  #status { padding: 0 18px 10px; color: var(--muted); min-height: 1.5em; }
  #status.bad { color: var(--bad); }
</style>
</head>
<body>
<header><h1>Troupe observer</h1><span id="node"></span><span id="conn">connecting</span>
  <label style="margin-left:auto;color:var(--muted)">kill with
    <select id="reason"><option value="kill">kill (untrappable)</option><option value="shutdown">shutdown</option><option value="crash">a crash (Error)</option></select></label></header>
<div id="cards"></div>
<div id="status"></div>
<main>
  <section><h2>Supervision tree</h2>
    <div class="row head"><span>actor</span><span>status</span><span class="num">mailbox</span><span class="num">msgs/s</span><span class="num">restarts</span><span></span></div>
    <div id="tree"></div>
  </section>
  <section><h2>Deepest mailboxes</h2><table id="top-mailbox"></table>
    <h2 style="margin-top:14px">Busiest (messages/s)</h2><table id="top-busy"></table>
    <div id="named-box" hidden><h2 style="margin-top:14px">Named actors (cluster) <span id="named-count" class="beh"></span></h2><table id="named"></table></div></section>
</main>
<script>
const params = new URLSearchParams(location.search);
const token = params.get('token');
const feed = location.origin.replace(/^http/, 'ws') + location.pathname.replace(/\\/$/, '') + '/feed' +
  (token ? '?token=' + encodeURIComponent(token) : '');
const expanded = new Set();
const collapsed = new Set();
let ws;
let last;
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const fmt = (n) => n >= 1e6 ? (n / 1e6).toFixed(1) + 'M' : n >= 1e4 ? (n / 1e3).toFixed(1) + 'k' : String(Math.round(n));
const mb = (b) => (b / 1048576).toFixed(1) + ' MB';
const ago = (t) => { const s = Math.max(0, Math.round((Date.now() - t) / 1000)); return s < 60 ? s + ' s ago' : Math.round(s / 60) + ' min ago'; };

function card(id, k, v) { return '<div class="card" id="' + id + '"><div class="v">' + esc(v) + '</div><div class="k">' + esc(k) + '</div></div>'; }

function render(s) {
  last = s;
  const y = s.system;
  $('node').textContent = y.node + (y.nodes.length ? ' + ' + y.nodes.join(', ') : '');
  $('cards').innerHTML =
    card('actors', 'actors', fmt(y.actors)) +
    card('messages', 'messages / s', fmt(y.messagesPerS)) +
    card('queued', 'queued', fmt(y.queued)) +
    card('backlog', 'scheduler backlog', y.backlogMs.toFixed(1) + ' ms') +
    card('turns', 'turns / s', fmt(y.turnsPerS)) +
    card('yields', 'scheduler yields / s', fmt(y.yieldsPerS)) +
    card('loop', 'event-loop delay p99', y.loopDelayP99Ms.toFixed(1) + ' ms') +
    card('heap', 'heap used', mb(y.heapUsed)) +
    card('rss', 'rss', mb(y.rss)) +
    card('dead', 'dead letters / s', fmt(y.deadLettersPerS)) +
    card('crashes', 'crashes / s', fmt(y.crashesPerS));
  const out = [];
  for (const n of s.tree) row(n, 0, out);
  if (s.truncated) out.push('<div class="pager">… more actors than one sample describes: collapse some, or page</div>');
  $('tree').innerHTML = out.join('');
  $('top-mailbox').innerHTML = s.top.mailbox.map((a) => '<tr><td>' + esc(a.name) + ' <span class="beh">#' + a.id + '</span></td><td class="num">' + fmt(a.mailbox) + '</td></tr>').join('');
  $('top-busy').innerHTML = s.top.busy.map((a) => '<tr><td>' + esc(a.name) + ' <span class="beh">#' + a.id + '</span></td><td class="num">' + fmt(a.perS) + '</td></tr>').join('');
  $('named-box').hidden = !y.named;
  if (y.named) {
    $('named-count').textContent = y.namedCount > y.named.length ? y.named.length + ' of ' + fmt(y.namedCount) : fmt(y.namedCount);
    $('named').innerHTML = y.named.map((p) => '<tr data-name="' + esc(p[0]) + '"><td>' + esc(p[0]) + '</td><td>' + esc(p[1]) + (p[1] === y.node ? ' (here)' : '') + '</td></tr>').join('');
  }
}

function isOpen(n, depth) { return expanded.has(n.id) || (depth < 2 && !collapsed.has(n.id)); }

function row(n, depth, out) {
  const open = isOpen(n, depth);
  const tog = n.childCount > 0 ? (open ? '▾' : '▸') : '';
  const st = esc(n.status);
  out.push('<div class="row" data-id="' + n.id + '" data-name="' + esc(n.name) + '" data-status="' + st + '">' +
    '<span class="name" style="padding-left:' + depth * 16 + 'px"><span class="tog" data-tog="' + n.id + '" data-depth="' + depth + '">' + tog + '</span>' +
    esc(n.name) + '<span class="beh">' + esc(n.behavior) + ' #' + n.id + (n.childCount ? ' · ' + fmt(n.childCount) + ' children' : '') + '</span>' +
    (n.names.length ? '<span class="names">' + esc(n.names.join(' ')) + '</span>' : '') +
    (n.summary ? '<span class="sum" data-k="summary">' + esc(n.summary) + '</span>' : '') +
    relations(n) +
    (n.lastCrash ? '<span class="crash" data-k="crash" title="' + esc(n.lastCrash.stack) + '">crashed ' + ago(n.lastCrash.at) + ' in ' + esc(n.lastCrash.phase) + ': ' + esc(n.lastCrash.error) + '</span>' : '') +
    (n.lastCrash && n.lastCrash.messages.length ? '<span class="crash msgs" data-k="crash-messages">last messages: ' + esc(n.lastCrash.messages.join(' · ')) + '</span>' : '') + '</span>' +
    '<span class="st ' + st + '">' + st + '</span>' +
    '<span class="num' + (n.mailbox > 100 ? ' deep' : '') + '" data-k="mailbox">' + fmt(n.mailbox) + '</span>' +
    '<span class="num' + (n.perS > 0 ? ' hot' : '') + '" data-k="perS">' + fmt(n.perS) + '</span>' +
    '<span class="num" data-k="restarts">' + (n.restarts === undefined ? '' : n.restarts) + '</span>' +
    '<span><button class="kill" data-kill="' + n.id + '" title="exit signal (kill)">kill</button> ' +
    (n.restartable ? '<button class="restart" data-restart="' + n.id + '" title="terminate and restart this child">restart</button>' : '') +
    '</span></div>');
  if (!open) return;
  for (const c of n.children) row(c, depth + 1, out);
  if (n.childCount > n.children.length) {
    const from = n.offset + 1;
    const to = n.offset + n.children.length;
    out.push('<div class="pager" style="padding-left:' + ((depth + 1) * 16 + 18) + 'px">children ' + from + '-' + to + ' of ' + fmt(n.childCount) + ' ' +
      (n.offset > 0 ? '<button data-page="' + n.id + '" data-offset="' + Math.max(0, n.offset - last.pageSize) + '">previous</button> ' : '') +
      (to < n.childCount ? '<button data-page="' + n.id + '" data-offset="' + to + '">next</button>' : '') + '</div>');
  }
}

function relations(n) {
  const parts = [];
  if (n.links.length) parts.push('<span title="linked to ' + esc(n.links.join(' ')) + '">links ' + n.links.length + '</span>');
  if (n.monitoring.length) parts.push('<span title="monitors ' + esc(n.monitoring.join(' ')) + '">monitors ' + n.monitoring.length + '</span>');
  if (n.monitoredBy) parts.push('<span>monitored by ' + n.monitoredBy + '</span>');
  return parts.length ? '<span class="rel" data-k="relations">' + parts.join(' · ') + '</span>' : '';
}

function status(text, bad) { const el = $('status'); el.textContent = text; el.className = bad ? 'bad' : ''; }

document.addEventListener('click', (e) => {
  const t = e.target;
  if (!(t instanceof HTMLElement)) return;
  if (t.dataset.tog) {
    const id = Number(t.dataset.tog);
    const depth = Number(t.dataset.depth);
    const open = expanded.has(id) || (depth < 2 && !collapsed.has(id));
    if (open) { expanded.delete(id); collapsed.add(id); } else { collapsed.delete(id); expanded.add(id); }
    if (last) render(last);
  } else if (t.dataset.kill) {
    const reason = $('reason').value;
    if (!confirm('Send ' + reason + ' to actor #' + t.dataset.kill + '?')) return;
    ws.send(JSON.stringify({ type: 'kill', id: Number(t.dataset.kill), reason }));
  } else if (t.dataset.restart) {
    if (!confirm('Terminate and restart actor #' + t.dataset.restart + '?')) return;
    ws.send(JSON.stringify({ type: 'restart', id: Number(t.dataset.restart) }));
  } else if (t.dataset.page) {
    ws.send(JSON.stringify({ type: 'page', id: Number(t.dataset.page), offset: Number(t.dataset.offset) }));
  }
});

function connect() {
  ws = new WebSocket(feed);
  ws.onopen = () => { $('conn').textContent = 'live'; $('conn').className = 'live'; };
  ws.onmessage = (m) => {
    const f = JSON.parse(m.data);
    if (f.type === 'sample') render(f);
    else if (f.type === 'done') status(f.text, !f.ok);
  };
  ws.onclose = () => { $('conn').textContent = 'disconnected, retrying'; $('conn').className = ''; setTimeout(connect, 2000); };
}
connect();
</script>
</body>
</html>
`;
