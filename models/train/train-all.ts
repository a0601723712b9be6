/**
 * `npm run train`: regenerates every shipped model, one pipeline after the other
 * (each is seeded and reproducible): npc-guard, quest-recs, then the Steam
 * benchmark of the recommender trainer.
 *
 * ```sh
 * npx tsx models/train/train-all.ts [--quick]   # --quick applies to npc-guard only
 * ```
 *
 * Pipelines are imported dynamically, so one that fails to load is reported and
 * the others still run; the exit code is non-zero if any failed.
 *
 * @module
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A pipeline: a module whose `main()` trains and writes one model. */
interface Pipeline {
  readonly name: string;
  /** Module path relative to this file. */
  readonly module: string;
  /** Arguments for `main` (only the guard pipeline takes any). */
  readonly args?: (argv: readonly string[]) => string[];
}

const PIPELINES: readonly Pipeline[] = [
  {
    name: 'npc-guard',
    module: './guard/train-npc-guard.js',
    args: (argv) => (argv.includes('--quick') ? ['--quick'] : []),
  },
  { name: 'quest-recs', module: './recs/train-quest-recs.js' },
  { name: 'steam (train-recs benchmark)', module: './recs/steam.js' },
];

/**
 * Runs every pipeline in order.
 *
 * @param argv - command-line arguments @default process.argv.slice(2)
 * @returns the names of the pipelines that failed
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<string[]> {
  const failed: string[] = [];
  const started = Date.now();
  for (const p of PIPELINES) {
    const t0 = Date.now();
    process.stderr.write(`\n=== ${p.name} ===\n`);
    try {
      const mod = (await import(new URL(p.module, import.meta.url).href)) as { main?: unknown };
      if (typeof mod.main !== 'function') throw new TypeError(`${p.module} does not export a main() function`);
      await (mod.main as (argv?: string[]) => Promise<unknown>)(...(p.args ? [p.args(argv)] : []));
      process.stderr.write(`=== ${p.name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s ===\n`);
    } catch (err) {
      failed.push(p.name);
      process.stderr.write(
        `=== ${p.name}: FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)} ===\n`,
      );
    }
  }
  process.stderr.write(
    `\ntrain: ${PIPELINES.length - failed.length}/${PIPELINES.length} pipelines done in ${((Date.now() - started) / 1000).toFixed(1)} s${failed.length > 0 ? `; failed: ${failed.join(', ')}` : ''}\n`,
  );
  return failed;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (failed) => {
      if (failed.length > 0) process.exitCode = 1;
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
