/**
 * The page served at `/` when the demo game is not built: the models and their
 * state, and the endpoints, in plain HTML.
 */
import type { ModelState } from '../../sdk/index.js';
import { publicText } from './errors.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * @param models - the repository's state
 * @param demoDir - where the demo game was looked for
 * @param adminEnabled - whether model control is on
 * @returns an HTML page
 */
export function statusPage(models: readonly ModelState[], demoDir: string, adminEnabled: boolean): string {
  const rows = models
    .map(
      (m) =>
        `<tr><td>${esc(m.name)}</td><td>${esc(m.kind ?? '?')}</td><td>${esc(m.state)}</td><td>${m.served ?? '-'}</td><td>${esc(m.versions.join(', '))}</td><td>${esc(publicText(m.lastError?.reason ?? ''))}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Playmind server</title>
<style>body{font:15px/1.45 system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}code{background:#f4f4f4;padding:0 .2rem}</style>
</head><body>
<h1>Playmind server</h1>
<p><strong>The demo game is not built</strong> (looked for <code>${esc(publicText(demoDir))}/index.html</code>). Build it with <code>npm run build</code> in <code>demo-game/</code>; this server is running and serving models meanwhile.</p>
<h2>Models</h2>
${models.length === 0 ? '<p>No model in the repository.</p>' : `<table><tr><th>name</th><th>kind</th><th>state</th><th>served</th><th>versions</th><th>last error</th></tr>\n${rows}</table>`}
<h2>Endpoints</h2>
<ul>
<li>WebSocket rooms (Colyseus): <code>arena</code>, <code>inference</code></li>
<li><code>GET /v2/health/live</code>, <code>GET /v2/health/ready</code></li>
<li><code>GET /v2/models/:name</code>, <code>GET /v2/models/:name/ready</code>, <code>POST /v2/models/:name/infer</code></li>
<li><code>POST /v2/repository/models/:name/load</code> and <code>/unload</code> — ${adminEnabled ? 'need <code>Authorization: Bearer &lt;ADMIN_TOKEN&gt;</code>' : 'off (no ADMIN_TOKEN set)'}</li>
<li><code>GET /models/index.json</code> — the repository, read-only, for browsers in local mode</li>
<li><code>GET /metrics</code> — Prometheus metrics</li>
</ul>
</body></html>
`;
}
