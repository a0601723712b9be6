/**
 * The replay page served at `/replay`: one self-contained HTML file (no build, no
 * third-party script). It lists the recorded matches (`GET /v2/replays`, with the
 * admin token typed in once per tab), loads one (`GET /v2/replays/:match`), and plays
 * it back on a canvas with a tick slider; clicking a guard opens the inspector with
 * that guard's decision at the tick shown: the action, the version that decided it and
 * the route, the tick it observed, the probability of every action and what the
 * scripted expert guard would have done.
 *
 * @module
 */

/** The page's HTML. */
export const REPLAY_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Playmind — match replay</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #15171c; color: #e6e6e6; }
  header { padding: 10px 16px; background: #1f232b; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 16px; margin: 0 12px 0 0; }
  main { display: flex; gap: 16px; padding: 16px; flex-wrap: wrap; }
  canvas { background: #22262f; border: 1px solid #333; max-width: 100%; cursor: crosshair; }
  #side { min-width: 280px; max-width: 360px; }
  #inspector { background: #1f232b; padding: 10px; border-radius: 6px; }
  .bar { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
  .bar span:first-child { width: 64px; }
  .bar i { display: inline-block; height: 10px; background: #4fa3ff; }
  .bar.chosen span:first-child { font-weight: bold; color: #ffd166; }
  #status { color: #aaa; }
  input, select, button { font: inherit; }
  #timeline { width: 480px; max-width: 100%; }
</style>
</head>
<body>
<header>
  <h1>Match replay</h1>
  <label>Admin token <input id="token" type="password" size="18" autocomplete="off"></label>
  <button id="list">List matches</button>
  <select id="matches"><option value="">(no match)</option></select>
  <button id="load" disabled>Watch</button>
  <span id="status">Type the server's ADMIN_TOKEN and list the recorded matches.</span>
</header>
<main>
  <div>
    <canvas id="arena" width="960" height="640"></canvas>
    <div>
      <button id="play" disabled>Play</button>
      <input id="timeline" type="range" min="0" max="0" value="0" disabled>
      <span id="tick">tick –</span>
    </div>
  </div>
  <div id="side">
    <div id="summary"></div>
    <div id="inspector" hidden>
      <div><b id="insp-guard"></b> at tick <span id="insp-tick"></span></div>
      <div>action: <b id="insp-action"></b></div>
      <div>decided by: <span id="insp-model"></span> (<span id="insp-route"></span>), observed tick <span id="insp-observed"></span></div>
      <div>target: <span id="insp-target"></span></div>
      <div>scripted expert would: <span id="insp-expert"></span></div>
      <div id="insp-probs"></div>
    </div>
    <p id="hint">Click a guard to inspect its decision at this tick.</p>
  </div>
</main>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const token = $('token');
  token.value = sessionStorage.getItem('playmind-admin-token') || '';
  let match = null;
  let index = 0;
  let selected = null;
  let timer = null;
  const say = (t) => { $('status').textContent = t; };
  const api = async (path) => {
    sessionStorage.setItem('playmind-admin-token', token.value);
    const res = await fetch(path, { headers: { Authorization: 'Bearer ' + token.value } });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || res.statusText);
    return body;
  };
  $('list').onclick = async () => {
    try {
      const { matches } = await api('/v2/replays');
      const sel = $('matches');
      sel.innerHTML = '';
      for (const m of matches) {
        const o = document.createElement('option');
        o.value = m.matchId;
        o.textContent = m.matchId + ' (' + (m.bytes / 1024).toFixed(1) + ' KiB' + (m.fromStart ? '' : ', no start') + ')';
        sel.appendChild(o);
      }
      $('load').disabled = matches.length === 0;
      say(matches.length + ' recorded match' + (matches.length === 1 ? '' : 'es') + '.');
    } catch (e) { say('Could not list the matches: ' + e.message); }
  };
  $('load').onclick = async () => {
    const id = $('matches').value;
    if (!id) return;
    say('Re-simulating ' + id + ' from its log…');
    try {
      match = await api('/v2/replays/' + encodeURIComponent(id));
      const c = $('arena');
      c.width = match.width; c.height = match.height;
      const tl = $('timeline');
      tl.max = String(Math.max(0, match.frames.length - 1));
      tl.value = '0'; tl.disabled = false; $('play').disabled = false;
      index = 0; selected = null; $('inspector').hidden = true;
      $('summary').textContent = match.matchId + ': ' + match.ticks + ' ticks, ' + match.identicalTicks +
        ' identical to the log' + (match.meta && match.meta.served ? ' · served ' + match.meta.served : '') +
        (match.meta && match.meta.canary ? ' · canary ' + match.meta.canary : '');
      document.body.dataset.loaded = match.matchId;
      say('Loaded ' + match.frames.length + ' ticks.');
      show(0);
    } catch (e) { say('Could not load the match: ' + e.message); }
  };
  $('timeline').oninput = (e) => show(Number(e.target.value));
  $('play').onclick = () => {
    if (timer) { clearInterval(timer); timer = null; $('play').textContent = 'Play'; return; }
    $('play').textContent = 'Pause';
    timer = setInterval(() => {
      if (!match || index >= match.frames.length - 1) { clearInterval(timer); timer = null; $('play').textContent = 'Play'; return; }
      show(index + 1);
    }, 50);
  };
  $('arena').onclick = (e) => {
    if (!match) return;
    const c = $('arena');
    const r = c.getBoundingClientRect();
    const x = (e.clientX - r.left) * (c.width / r.width);
    const y = (e.clientY - r.top) * (c.height / r.height);
    let best = null; let bestD = 30 * 30;
    for (const g of match.frames[index].guards) {
      const d = (g.x - x) ** 2 + (g.y - y) ** 2;
      if (d < bestD) { bestD = d; best = g.id; }
    }
    selected = best;
    show(index);
  };
  function show(i) {
    if (!match) return;
    index = Math.max(0, Math.min(i, match.frames.length - 1));
    $('timeline').value = String(index);
    const f = match.frames[index];
    $('tick').textContent = 'tick ' + f.tick + (f.identical ? '' : ' (differs from the log)');
    document.body.dataset.tick = String(f.tick);
    draw(f);
    inspect(f);
  }
  function draw(f) {
    const ctx = $('arena').getContext('2d');
    ctx.clearRect(0, 0, match.width, match.height);
    ctx.fillStyle = '#3a3f4b';
    for (const o of match.obstacles) ctx.fillRect(o.x, o.y, o.w, o.h);
    for (const p of f.players) {
      ctx.fillStyle = !p.alive ? '#555' : p.kind === 'human' ? '#7bd88f' : '#6fb3d2';
      ctx.beginPath(); ctx.arc(p.x, p.y, 9, 0, Math.PI * 2); ctx.fill();
      ctx.fillStyle = '#ddd'; ctx.font = '11px sans-serif'; ctx.fillText(p.name, p.x + 11, p.y - 8);
    }
    for (const g of f.guards) {
      ctx.fillStyle = !g.alive ? '#553' : g.id === selected ? '#ffd166' : '#ef6f6c';
      ctx.fillRect(g.x - 9, g.y - 9, 18, 18);
      ctx.fillStyle = '#fff'; ctx.font = '10px sans-serif'; ctx.fillText(g.action, g.x - 14, g.y + 22);
      if (g.id === selected && g.target) {
        const t = f.players.find((p) => p.id === g.target);
        if (t) { ctx.strokeStyle = g.sees ? '#ffd166' : '#887'; ctx.beginPath(); ctx.moveTo(g.x, g.y); ctx.lineTo(t.x, t.y); ctx.stroke(); }
      }
    }
  }
  function inspect(f) {
    const g = selected && f.guards.find((x) => x.id === selected);
    $('inspector').hidden = !g;
    if (!g) return;
    $('insp-guard').textContent = g.id;
    $('insp-tick').textContent = String(f.tick);
    $('insp-action').textContent = g.action;
    $('insp-model').textContent = g.model;
    $('insp-route').textContent = g.servedBy || '–';
    $('insp-observed').textContent = String(g.decisionTick);
    $('insp-target').textContent = g.target ? g.target + (g.sees ? ' (in sight)' : ' (remembered)') : 'none';
    $('insp-expert').textContent = g.expert || '–';
    const probs = $('insp-probs');
    probs.innerHTML = '';
    if (!g.probabilities) { probs.textContent = 'no probabilities (not decided by a model)'; return; }
    match.actions.forEach((a, k) => {
      const row = document.createElement('div');
      row.className = 'bar' + (a === g.action ? ' chosen' : '');
      row.dataset.action = a;
      row.dataset.p = String(g.probabilities[k]);
      const name = document.createElement('span'); name.textContent = a;
      const bar = document.createElement('i'); bar.style.width = Math.round(160 * g.probabilities[k]) + 'px';
      const pct = document.createElement('span'); pct.textContent = (100 * g.probabilities[k]).toFixed(1) + ' %';
      row.append(name, bar, pct);
      probs.appendChild(row);
    });
  }
})();
</script>
</body>
</html>
`;
