/**
 * `npm run bench`: runs every benchmark module in `test/bench/` that exports a
 * `bench(ctx)` function (engine.ts, arena-tick.ts, remote.ts, ... — whichever exist),
 * prints their tables as Markdown and writes them to `bench-results.md` at the
 * repository root.
 *
 *   npm run bench                 # all benchmarks, writes bench-results.md
 *   npm run bench -- engine       # only files whose name contains "engine" (prints, does not write)
 *
 * Environment: BENCH_REPS (repetitions, default 5), BENCH_REP_MS / BENCH_SAT_MS
 * (lengths of one repetition), BENCH_OUT (output file).
 */
import { readdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { markdownTable, type BenchContext, type BenchTable } from './table.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '..', '..');
/** Modules of this folder that are not benchmarks. */
const NOT_BENCHES = new Set(['run.ts', 'table.ts', 'overload-load.ts']);
/** Known benchmarks first, in this order; any other module after them, by name. */
const ORDER = ['engine.ts', 'arena-tick.ts', 'remote.ts', 'protocols.ts'];

function isTable(x: unknown): x is BenchTable {
  return (
    typeof x === 'object' &&
    x !== null &&
    Array.isArray((x as BenchTable).columns) &&
    Array.isArray((x as BenchTable).rows)
  );
}

/** Renders what a bench returned: tables, Markdown strings, or lists of either. */
function render(result: unknown): string[] {
  if (Array.isArray(result)) return result.flatMap(render);
  if (typeof result === 'string') return [result];
  if (isTable(result)) return [markdownTable(result)];
  return [];
}

async function main(): Promise<number> {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const files = (await readdir(here))
    .filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith('.d.ts') && !f.endsWith('.test.ts') && !NOT_BENCHES.has(f))
    .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const reps = Number(process.env.BENCH_REPS);
  const ctx: BenchContext = {
    repetitions: Number.isInteger(reps) && reps > 0 ? reps : 5,
    log: (m) => process.stderr.write(`  · ${m}\n`),
  };
  const sections: string[] = [];
  let failed = 0;
  const started = performance.now();
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { bench?: unknown };
    if (typeof mod.bench !== 'function') continue;
    process.stderr.write(`bench ${file}\n`);
    const t0 = performance.now();
    try {
      const parts = render(await (mod.bench as (c: BenchContext) => Promise<unknown>)(ctx));
      const text = [
        `## ${basename(file).replace(/\.\w+$/, '')}`,
        '',
        parts.join('\n\n'),
        '',
        `_(${((performance.now() - t0) / 1000).toFixed(1)} s)_`,
      ].join('\n');
      sections.push(text);
      process.stdout.write(`${text}\n\n`);
    } catch (err) {
      failed++;
      process.stderr.write(`bench ${file} failed: ${(err as Error).stack ?? String(err)}\n`);
      sections.push(`## ${basename(file)}\n\nfailed: ${(err as Error).message}`);
    }
  }
  const cpu = cpus();
  const header = [
    '# Benchmark results',
    '',
    `\`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${process.platform}/${process.arch}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}; ` +
      `${ctx.repetitions} repetitions per figure, medians; total ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ].join('\n');
  if (filters.length === 0) {
    const out = resolve(root, process.env.BENCH_OUT ?? 'bench-results.md');
    await writeFile(out, `${header}\n\n${sections.join('\n\n')}\n`);
    process.stderr.write(`wrote ${out}\n`);
  }
  return failed > 0 ? 1 : 0;
}

function rank(f: string): number {
  const i = ORDER.indexOf(f);
  return i < 0 ? ORDER.length : i;
}

// Exit explicitly: a benchmark that leaves a handle open must not hang the run.
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
