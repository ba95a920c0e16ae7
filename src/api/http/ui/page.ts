/**
 * The dashboard page: static HTML with inline CSS and JS. It polls /ui/data every second and
 * draws members (with their states), the ring (a grid of partitions in ring order, coloured
 * by owner), hints pending, and client requests per second and latency over the last minutes.
 * Plain ES2017 in the browser, no framework, no external resources. Elements carry data-*
 * attributes (data-node, data-state) so tests can read the page as a user sees it.
 *
 * With API tokens on, the page itself needs none (it holds no data) but /ui/data needs a token
 * with the read permission: the header's token field keeps it in sessionStorage (gone when the
 * tab closes, never in a URL or a cookie) and every poll sends it as `Authorization: Bearer`.
 */
const STYLE = String.raw`
:root { --bg:#0f1419; --panel:#171d24; --fg:#e6e6e6; --dim:#8a96a3; --ok:#3fb950; --warn:#d29922; --bad:#f85149; --line:#2a323c; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; gap:16px; align-items:baseline; padding:12px 20px; border-bottom:1px solid var(--line); }
header h1 { font-size:18px; margin:0; }
.dim { color:var(--dim); }
main { display:grid; grid-template-columns: minmax(320px, 1fr) minmax(320px, 1fr); gap:16px; padding:16px 20px; }
section { overflow-x:auto; min-width:0; background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 16px; }
section h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); margin:0 0 8px; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); white-space:nowrap; }
th { color:var(--dim); font-weight:500; }
tr.dc-row th { color:inherit; text-align:left; padding-top:.6em; border-bottom:1px solid var(--dim); }
.state { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; }
.state.alive { background:rgba(63,185,80,.15); color:var(--ok); }
.state.suspect, .state.leaving { background:rgba(210,153,34,.15); color:var(--warn); }
.state.faulty, .state.left { background:rgba(248,81,73,.15); color:var(--bad); }
.swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:6px; vertical-align:middle; }
.big { font-size:28px; font-weight:600; }
#ring svg { display:block; margin:8px 0; }
.chart svg { width:100%; height:120px; display:block; }
.chart .axis { stroke:var(--line); }
.badge { padding:2px 8px; border-radius:10px; font-size:12px; font-weight:600; }
.badge.ok { background:rgba(63,185,80,.15); color:var(--ok); }
.badge.bad { background:rgba(248,81,73,.15); color:var(--bad); }
#error { color:var(--bad); }
#auth { margin-left:auto; display:flex; gap:6px; align-items:baseline; }
#auth input { background:var(--panel); color:var(--fg); border:1px solid var(--line); border-radius:6px; padding:3px 8px; width:16em; }
#auth button { background:var(--panel); color:var(--fg); border:1px solid var(--line); border-radius:6px; padding:3px 10px; cursor:pointer; }
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var POLL_MS = 1000;
  var $ = function (id) { return document.getElementById(id); };
  var lastRingKey = '';
  var colours = {};

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]; });
  }
  function colourOf(ids) {
    colours = {};
    ids.forEach(function (id, i) { colours[id] = 'hsl(' + Math.round((i * 360) / Math.max(ids.length, 1) + 200) % 360 + ',65%,55%)'; });
  }
  function bytes(n) {
    if (n === null || n === undefined) return '-';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + u[i];
  }

  function renderMembers(d) {
    var ids = d.members.map(function (m) { return m.nodeId; }).sort();
    if (Object.keys(colours).length !== ids.length || ids.some(function (id) { return !colours[id]; })) colourOf(ids);
    var byId = {};
    d.members.forEach(function (m) { byId[m.nodeId] = m; });
    var groups = d.datacenters || [];
    var rows = groups.map(function (g) {
      return '<tr class="dc-row" data-dc="' + esc(g.dc) + '"><th colspan="6">data centre ' + esc(g.dc) +
        (g.replicas === null ? '' : ' <span class="dim">· ' + g.replicas + ' replicas per key</span>') +
        ' <span class="dim">· ' + g.alive + ' of ' + g.members.length + ' alive</span></th></tr>' +
        g.members.map(function (id) { return memberRow(d, byId[id]); }).join('');
    }).join('');
    var alive = d.members.filter(function (m) { return m.state === 'alive'; }).length;
    $('members').innerHTML = '<table><thead><tr><th>node</th><th>address</th><th>dc / rack</th><th>state</th><th>load</th><th>ownership</th></tr></thead><tbody>' +
      (rows || '<tr><td colspan="6" class="dim">no ring yet (waiting for the seeds)</td></tr>') + '</tbody></table>';
    $('member-count').textContent = alive + ' of ' + d.members.length + ' alive in ' + groups.length + (groups.length === 1 ? ' data centre' : ' data centres');
  }

  function memberRow(d, m) {
    var self = m.nodeId === d.nodeId;
    var load = d.self && d.self.nodeId === m.nodeId ? bytes(d.self.loadBytes) : '-';
    return '<tr data-node="' + esc(m.nodeId) + '" data-state="' + esc(m.state) + '">' +
      '<td><span class="swatch" style="background:' + (colours[m.nodeId] || '#888') + '"></span>' + esc(m.nodeId) + (self ? ' <span class="dim">(this node)</span>' : '') + '</td>' +
      '<td>' + esc(m.address) + '</td><td>' + esc(m.dc) + ' / ' + esc(m.rack) + '</td>' +
      '<td><span class="state ' + esc(m.state) + '">' + esc(m.state) + '</span></td>' +
      '<td>' + load + '</td><td>' + (m.ownership * 100).toFixed(1) + '%</td></tr>';
  }

  function renderRing(d) {
    if (!d.ring) { $('ring').innerHTML = '<p class="dim">the ring is not known yet</p>'; lastRingKey = ''; return; }
    var key = d.ring.owners.join(',') + '|' + Object.keys(colours).join(',');
    if (key === lastRingKey) return;
    lastRingKey = key;
    // One cell per partition, in ring order (left to right, top to bottom), coloured by owner.
    var q = d.ring.partitionCount, cols = Math.ceil(Math.sqrt(q)), rows = Math.ceil(q / cols);
    var cell = Math.max(3, Math.min(24, Math.floor(320 / cols))), cells = [];
    for (var i = 0; i < q; i++) {
      var owner = d.ring.owners[i];
      cells.push('<rect data-owner="' + esc(owner) + '" x="' + (i % cols) * cell + '" y="' + Math.floor(i / cols) * cell + '" width="' + (cell - 1) + '" height="' + (cell - 1) +
        '" fill="' + (colours[owner] || '#555') + '"><title>partition ' + i + ': ' + esc(owner) + '</title></rect>');
    }
    var counts = {};
    d.ring.owners.forEach(function (o) { counts[o] = (counts[o] || 0) + 1; });
    var legend = Object.keys(counts).sort().map(function (o) {
      return '<div><span class="swatch" style="background:' + (colours[o] || '#555') + '"></span>' + esc(o) + ' <span class="dim">' + counts[o] + ' partitions</span></div>';
    }).join('');
    $('ring').innerHTML = '<div class="dim">' + q + ' partitions, N=' + d.ring.n + '</div>' +
      '<svg shape-rendering="crispEdges" width="' + cols * cell + '" height="' + rows * cell + '">' + cells.join('') + '</svg>' + legend;
  }

  function chart(points, field, unit) {
    var w = 600, h = 120, pad = 4;
    var vals = points.map(function (p) { return p[field]; });
    var max = Math.max.apply(null, vals.filter(function (v) { return v !== null; }).concat([unit === 'ms' ? 1 : 1]));
    var coords = [];
    points.forEach(function (p, i) {
      if (p[field] === null) return;
      var x = pad + (i * (w - 2 * pad)) / Math.max(points.length - 1, 1);
      var y = h - pad - (p[field] / max) * (h - 2 * pad);
      coords.push(x.toFixed(1) + ',' + y.toFixed(1));
    });
    var dots = coords.length > 1 ? '' : coords.map(function (xy) { var p = xy.split(','); return '<circle r="3" fill="#58a6ff" cx="' + p[0] + '" cy="' + p[1] + '"/>'; }).join('');
    return '<svg viewBox="0 0 ' + w + ' ' + h + '" preserveAspectRatio="none"><line class="axis" x1="0" y1="' + (h - pad) + '" x2="' + w + '" y2="' + (h - pad) + '"/>' +
      '<polyline fill="none" stroke="#58a6ff" stroke-width="2" points="' + coords.join(' ') + '"/>' + dots + '</svg>' +
      '<div class="dim">max ' + (Math.round(max * 10) / 10) + ' ' + unit + ' over the last ' + Math.round(points.length * 5 / 60) + ' minutes</div>';
  }

  function renderTraffic(d) {
    var pts = d.series;
    var last = pts.length ? pts[pts.length - 1] : null;
    var prev = pts.length > 1 ? pts[pts.length - 2] : null;
    var shown = prev && last && last.requests < prev.requests ? prev : last;
    $('rate').textContent = shown ? shown.ratePerSec + ' req/s' : '-';
    $('p99').textContent = shown && shown.p99Ms !== null ? shown.p99Ms + ' ms p99' : '-';
    $('rate-chart').innerHTML = chart(pts, 'ratePerSec', 'req/s');
    $('latency-chart').innerHTML = chart(pts, 'p99Ms', 'ms');
  }

  function render(d) {
    $('node').textContent = d.nodeId;
    var s = $('serving');
    s.textContent = d.serving ? 'serving' : 'not serving';
    s.className = 'badge ' + (d.serving ? 'ok' : 'bad');
    renderMembers(d);
    renderRing(d);
    $('hints').textContent = d.hintsPending === null ? 'not tracked yet' : String(d.hintsPending);
    renderTraffic(d);
    $('updated').textContent = 'updated ' + new Date(d.timeMs).toLocaleTimeString();
    $('error').textContent = '';
  }

  var TOKEN_KEY = 'gossamer-token';
  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  $('auth').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var t = $('token').value.trim();
    try { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage off: this poll only */ }
    $('token').value = '';
    $('token-state').textContent = t ? 'token set' : '';
  });
  $('token-state').textContent = token() ? 'token set' : '';

  function poll() {
    var t = token();
    fetch('/ui/data', { cache: 'no-store', headers: t ? { Authorization: 'Bearer ' + t } : {} }).then(function (r) {
      if (r.status === 401) throw new Error(t ? 'the token was refused (401): enter another' : 'this node needs an API token (401): enter one above');
      if (r.status === 403) throw new Error('the token lacks the read permission (403)');
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    }).then(function (d) {
      try { render(d); } catch (e) { $('error').textContent = 'dashboard error: ' + e.message; throw e; }
    }, function (e) {
      $('error').textContent = 'cannot reach the node: ' + e.message;
      var s = $('serving');
      s.textContent = 'unreachable';
      s.className = 'badge bad';
    }).then(function () { setTimeout(poll, POLL_MS); }, function (e) { setTimeout(poll, POLL_MS); setTimeout(function () { throw e; }); });
  }
  poll();
})();
`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gossamer dashboard</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>Gossamer</h1>
  <span>node <strong id="node">…</strong></span>
  <span id="serving" class="badge">…</span>
  <span id="updated" class="dim"></span>
  <span id="error"></span>
  <form id="auth" autocomplete="off"><span id="token-state" class="dim"></span><input id="token" type="password" placeholder="API token (if the node needs one)" aria-label="API token"><button type="submit">use</button></form>
</header>
<main>
  <section id="members-panel"><h2>Members <span id="member-count" class="dim"></span></h2><div id="members"></div></section>
  <section id="ring-panel"><h2>Ring</h2><div id="ring"></div></section>
  <section class="chart"><h2>Client requests through this node</h2><div class="big" id="rate">-</div><div id="rate-chart"></div></section>
  <section class="chart"><h2>Latency (p99 per 5 s)</h2><div class="big" id="p99">-</div><div id="latency-chart"></div></section>
  <section><h2>Hints pending</h2><div class="big" id="hints">-</div><div class="dim">hinted handoff reports here once it exists</div></section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
