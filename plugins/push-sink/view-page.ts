/**
 * The live page at `/push/<channel>/view`: plain HTML and JavaScript, no build step. It subscribes
 * with EventSource (which resumes with Last-Event-ID by itself after a drop) and shows the records
 * as a table, newest first. The token comes from `?token=`, else from this tab's session storage,
 * else a prompt; it travels as `?token=` because EventSource cannot set headers. Values are put
 * in the page as text, never as HTML.
 */
export function viewPage(channel: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${channel} · Tributary push</title>
<style>
  :root { color-scheme: light dark; font: 14px/1.4 system-ui, sans-serif; }
  body { margin: 0; }
  header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: .75rem 1rem; border-bottom: 1px solid #8884; }
  h1 { font-size: 1.1rem; margin: 0; }
  .pill { padding: .1rem .6rem; border-radius: 1rem; background: #8883; }
  .pill[data-state="live"] { background: #2a7d2a; color: #fff; }
  .pill[data-state="error"], .pill[data-state="unauthorized"] { background: #b3261e; color: #fff; }
  .stats span { margin-right: 1rem; font-variant-numeric: tabular-nums; }
  form { margin-left: auto; display: flex; gap: .4rem; }
  input { min-width: 18rem; font: inherit; }
  #message { padding: .5rem 1rem; color: #b3261e; }
  #message:empty { display: none; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: .25rem .75rem; border-bottom: 1px solid #8882; white-space: nowrap; }
  th { position: sticky; top: 0; background: Canvas; }
  tr.fresh { animation: fresh 1.5s ease-out; }
  @keyframes fresh { from { background: #e6b80055; } to { background: transparent; } }
</style>
</head>
<body>
<header>
  <h1>push · <span id="channel"></span></h1>
  <span id="status" class="pill" data-state="connecting">connecting</span>
  <span class="stats"><span>records <b id="count">0</b></span><span>last id <b id="last-id">–</b></span><span>dropped <b id="dropped">0</b></span><span>missed <b id="missed">0</b></span></span>
  <form id="filter-form"><input id="filter" placeholder="filter, e.g. value > 100" autocomplete="off"><button>apply</button></form>
</header>
<div id="message"></div>
<table id="rows"><thead><tr><th>id</th></tr></thead><tbody></tbody></table>
<script>
(function () {
  'use strict';
  var CHANNEL = ${JSON.stringify(channel)};
  var MAX_ROWS = 200, MAX_COLUMNS = 16;
  var params = new URLSearchParams(location.search);
  var storageKey = 'tributary-push-token:' + CHANNEL;
  var token = params.get('token') || sessionStorage.getItem(storageKey) || '';
  var filter = params.get('filter') || '';
  var columns = [];
  var counts = { records: 0, dropped: 0, missed: 0 };
  var source = null;
  var el = function (id) { return document.getElementById(id); };
  el('channel').textContent = CHANNEL;
  el('filter').value = filter;

  function setStatus(state, text) {
    var s = el('status');
    s.dataset.state = state;
    s.textContent = text || state;
  }
  function say(text) { el('message').textContent = text || ''; }
  function cell(v) {
    if (v === undefined) return '';
    if (v !== null && typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }
  function addColumns(record) {
    var added = false;
    Object.keys(record).forEach(function (k) {
      if (columns.indexOf(k) < 0 && columns.length < MAX_COLUMNS) { columns.push(k); added = true; }
    });
    if (!added) return;
    var tr = document.createElement('tr');
    ['id'].concat(columns).forEach(function (c) {
      var th = document.createElement('th');
      th.textContent = c;
      tr.appendChild(th);
    });
    var head = el('rows').tHead;
    head.replaceChild(tr, head.rows[0]);
    // Older rows get empty cells for the new columns.
    Array.prototype.forEach.call(el('rows').tBodies[0].rows, function (row) {
      while (row.cells.length < columns.length + 1) row.insertCell();
    });
  }
  function show(id, record) {
    addColumns(record);
    var tr = document.createElement('tr');
    tr.className = 'fresh';
    tr.dataset.id = id;
    ['#' + id].concat(columns.map(function (c) { return cell(record[c]); })).forEach(function (text) {
      var td = document.createElement('td');
      td.textContent = text;
      tr.appendChild(td);
    });
    var body = el('rows').tBodies[0];
    body.insertBefore(tr, body.firstChild);
    while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
    counts.records++;
    el('count').textContent = String(counts.records);
    el('last-id').textContent = id;
  }
  function streamUrl() {
    var q = new URLSearchParams();
    q.set('token', token);
    if (filter) q.set('filter', filter);
    q.set('last', '50');
    return location.pathname.replace(/\\/view$/, '') + '?' + q.toString();
  }
  // EventSource does not say why a connection was refused: ask once with fetch to tell the user.
  function explain() {
    var ctl = new AbortController();
    fetch(streamUrl(), { signal: ctl.signal }).then(function (r) {
      if (r.ok) { ctl.abort(); setStatus('reconnecting'); setTimeout(connect, 2000); return; }
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.status === 401) {
          setStatus('unauthorized');
          sessionStorage.removeItem(storageKey);
          token = '';
          askToken((body && body.error) || 'wrong token');
        } else {
          setStatus('error', 'error ' + r.status);
          say((body && body.error) || ('the channel answered ' + r.status));
        }
      });
    }).catch(function () { setStatus('reconnecting'); setTimeout(connect, 2000); });
  }
  function askToken(why) {
    var t = window.prompt('Token for channel ' + CHANNEL + (why ? ' (' + why + ')' : ''), '');
    if (!t) { say('a token is needed to subscribe to ' + CHANNEL + ': open this page with ?token=…'); return; }
    token = t.trim();
    connect();
  }
  function connect() {
    if (source) source.close();
    if (!token) { askToken(''); return; }
    say('');
    setStatus('connecting');
    source = new EventSource(streamUrl());
    source.onopen = function () {
      sessionStorage.setItem(storageKey, token);
      setStatus('live');
    };
    source.onmessage = function (ev) {
      var record;
      try { record = JSON.parse(ev.data); } catch (e) { return; }
      show(ev.lastEventId, record);
    };
    source.addEventListener('dropped', function (ev) {
      counts.dropped += JSON.parse(ev.data).count;
      el('dropped').textContent = String(counts.dropped);
    });
    source.addEventListener('gap', function (ev) {
      counts.missed += JSON.parse(ev.data).missed;
      el('missed').textContent = String(counts.missed);
    });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) { explain(); return; }
      setStatus('reconnecting');
    };
  }
  el('filter-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    filter = el('filter').value.trim();
    var q = new URLSearchParams(location.search);
    if (filter) q.set('filter', filter); else q.delete('filter');
    q.delete('token');
    history.replaceState(null, '', location.pathname + (q.toString() ? '?' + q.toString() : ''));
    el('rows').tBodies[0].innerHTML = '';
    counts.records = 0;
    el('count').textContent = '0';
    connect();
  });
  // The token should not linger in the address bar (or in screenshots and history).
  if (params.has('token')) {
    params.delete('token');
    history.replaceState(null, '', location.pathname + (params.toString() ? '?' + params.toString() : ''));
  }
  connect();
})();
</script>
</body>
</html>
`
}
