#!/usr/bin/env node
/**
 * Builds the demo game into demo-game/dist/ with esbuild: one ES module bundle
 * (Phaser, @colyseus/sdk and the demo), index.html and style.css. Nothing is
 * fetched: every input comes from this repository and node_modules.
 *
 *   node demo-game/build.mjs            minified, with a source map
 *   node demo-game/build.mjs --dev      not minified
 */
import { build } from 'esbuild';
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
const dev = process.argv.includes('--dev');

const started = performance.now();
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const result = await build({
  entryPoints: [join(here, 'src/main.ts')],
  outfile: join(out, 'main.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  conditions: ['browser'],
  minify: !dev,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': dev ? '"development"' : '"production"' },
});
await Promise.all(['index.html', 'style.css'].map((f) => copyFile(join(here, f), join(out, f))));

const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
const main = await stat(join(out, 'main.js'));
const top = Object.entries(result.metafile.outputs[relative(process.cwd(), join(out, 'main.js'))]?.inputs ?? {})
  .map(([file, v]) => [file.replace(/^.*node_modules\//, '').split('/').slice(0, file.includes('node_modules/@') ? 2 : 1).join('/'), v.bytesInOutput])
  .reduce((m, [k, v]) => m.set(k, (m.get(k) ?? 0) + v), new Map());
const parts = [...top].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${kib(v)}`).join(', ');
console.log(`demo-game: ${relative(process.cwd(), out)}/main.js ${kib(main.size)} (${parts}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
