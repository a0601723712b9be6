/**
 * The ops files under docs/ops query only metrics the server exports: a real server on
 * 127.0.0.1 is scraped (`GET /metrics`), and every metric name each Grafana panel and each
 * Prometheus alert expression queries (parsed out of the PromQL) must be one of its metric
 * families (a histogram's `_bucket`, `_sum` and `_count` series included). The scrape config
 * scrapes that path and loads the alert file.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { REPO_ROOT } from '../helpers/compat.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const OPS = join(REPO_ROOT, 'docs', 'ops');

/** PromQL words that are not metric names: operators, keywords, aggregations and functions (when not called). */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression queries: identifiers left once strings, label
 * matchers, ranges, grouping clauses, Grafana variables, numbers and function calls are
 * taken out.
 */
function promqlMetricNames(expr: string): string[] {
  const e = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // grouping labels
    .replace(/\$\{[^}]*\}|\$\w+/g, ' '); // Grafana variables
  const names = new Set<string>();
  const re = /[a-zA-Z_:][a-zA-Z0-9_:]*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(e))) {
    const word = m[0];
    const before = e[m.index - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // 1e9, 0.5s
    if (/^\s*\(/.test(e.slice(m.index + word.length))) continue; // a function or an aggregation
    if (KEYWORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names];
}

/** Every `expr:` of a Prometheus rules file (plain scalars, and `|` / `>` blocks). */
function ruleExpressions(yaml: string): { alert: string; expr: string }[] {
  const lines = yaml.split('\n');
  const out: { alert: string; expr: string }[] = [];
  let alert = '';
  for (let i = 0; i < lines.length; i++) {
    const a = /^\s*-\s*alert:\s*(\S+)/.exec(lines[i]!);
    if (a) alert = a[1]!;
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    let expr = m[2]!.trim();
    if (/^[|>][-+]?$/.test(expr)) {
      const indent = m[1]!.length;
      const block: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || /^\s*/.exec(lines[i + 1]!)![0].length > indent))
        block.push(lines[++i]!.trim());
      expr = block.join(' ');
    } else if (/^'.*'$|^".*"$/.test(expr)) expr = expr.slice(1, -1);
    out.push({ alert, expr });
  }
  return out;
}

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

describe('ops: the Grafana dashboard and the Prometheus rules query exported metrics', function () {
  this.timeout(60_000);
  let ts: TestServer;
  let exported: Set<string>;

  before(async () => {
    ts = await startTestServer({ modelsDir: join(REPO_ROOT, 'models'), watch: false });
    const text = await (await fetch(`${ts.server.url}/metrics`)).text();
    exported = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]!));
  });

  after(async () => {
    await ts?.server.close();
  });

  /** Whether a queried name is an exported family (or a histogram/summary series of one). */
  const isExported = (name: string) => exported.has(name) || exported.has(name.replace(/_(?:bucket|sum|count)$/, ''));

  it('parses metric names out of PromQL', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.99, sum by (le, model) (rate(a_seconds_bucket{model=~"$model", x="y"}[$__rate_interval]))) / clamp_min(b_total offset 5m, 1e-3) > bool 0.05 and on (instance) c',
      ),
    ).to.have.members(['a_seconds_bucket', 'b_total', 'c']);
  });

  it('every dashboard panel queries exported metrics, and covers what operators watch', async () => {
    const dash = JSON.parse(await readFile(join(OPS, 'grafana-dashboard.json'), 'utf8')) as {
      panels: Panel[];
      __inputs: { type: string; pluginId: string }[];
    };
    expect(dash.__inputs.map((i) => i.pluginId)).to.include('prometheus');
    const panels = dash.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
    expect(panels.length).to.be.at.least(10);
    const queried = new Set<string>();
    for (const p of panels) {
      expect(p.targets ?? [], `panel "${p.title}" has queries`).to.have.length.above(0);
      for (const t of p.targets!) {
        const names = promqlMetricNames(t.expr);
        expect(names, `panel "${p.title}": ${t.expr}`).to.have.length.above(0);
        for (const n of names) {
          expect(isExported(n), `panel "${p.title}" queries ${n}, which /metrics does not export`).to.equal(true);
          queried.add(n.replace(/_(?:bucket|sum|count)$/, ''));
        }
      }
    }
    // Decisions, latency, batch sizes, queue depth, deadline misses, fallbacks, rejected files,
    // rooms, clients, tick time, event-loop lag.
    for (const family of [
      'playmind_requests_total',
      'playmind_inference_latency_seconds',
      'playmind_inference_batch_rows',
      'playmind_inference_queue_rows',
      'playmind_tick_deadline_misses_total',
      'playmind_fallbacks_total',
      'playmind_model_files_rejected_total',
      'playmind_rooms',
      'playmind_clients',
      'playmind_room_tick_seconds',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect([...queried], 'the dashboard shows it').to.include(family);
  });

  it('every alert expression queries exported metrics; tick budget and fallback rate are alerted', async () => {
    const rules = ruleExpressions(await readFile(join(OPS, 'alerts.yml'), 'utf8'));
    expect(rules.map((r) => r.alert)).to.include.members(['PlaymindTickOverBudget', 'PlaymindFallbackRateHigh']);
    for (const { alert, expr } of rules) {
      const names = promqlMetricNames(expr);
      expect(names, `${alert}: ${expr}`).to.have.length.above(0);
      for (const n of names)
        expect(isExported(n), `alert ${alert} queries ${n}, which /metrics does not export`).to.equal(true);
    }
  });

  it('the scrape config scrapes /metrics and loads the alert rules', async () => {
    const yaml = await readFile(join(OPS, 'prometheus.yml'), 'utf8');
    expect(yaml).to.match(/^\s*metrics_path:\s*\/metrics\s*$/m);
    expect(yaml).to.match(/^rule_files:\s*\n\s*-\s*alerts\.yml\s*$/m);
    expect(yaml).to.match(/^\s*-\s*job_name:\s*playmind\s*$/m);
  });
});
