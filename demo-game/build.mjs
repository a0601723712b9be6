#!/usr/bin/env node
/**
 * Builds the demo game into demo-game/dist/ with esbuild. Nothing is fetched:
 * every input comes from this repository and node_modules.
 *
 * dist/
 *   index.html, style.css
 *   main.js               the game (Phaser, @colyseus/sdk, online mode)
 *   chunks/*.js           code split off main.js, only loaded for offline mode:
 *                         offline-runtime-*.js, index.browser-*.js (the SDK's browser
 *                         build and onnxruntime-web, imported by the scene plugin)
 *   ort/                  onnxruntime-web's WASM and its .mjs loader (the files the
 *                         bundled build loads with numThreads = 1: no SharedArrayBuffer)
 *   offline-models/       the shipped models for offline mode, in the layout
 *                         HttpModelSource reads: index.json, <name>/manifest.json,
 *                         <name>/<version>/model.onnx
 *   offline-files.json    the WASM's path and size (offline mode's progress bar)
 *   *.br, *.gz            brotli and gzip copies of every text and WASM file over
 *                         1 KiB, for servers that send precompressed files
 *                         (`server/http/static-files.ts`)
 *
 * The models live under offline-models/, not models/: the Playmind server serves
 * its live repository at /models/, which would shadow a models/ folder here.
 *
 *   node demo-game/build.mjs            minified, with source maps
 *   node demo-game/build.mjs --dev      not minified
 */
import { build } from 'esbuild';
import { copyFile, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const out = join(here, 'dist');
const dev = process.argv.includes('--dev');
/** The models offline mode plays with (folders of the repository's models/). */
const OFFLINE_MODELS = ['npc-guard', 'quest-recs'];

const started = performance.now();
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const result = await build({
  entryPoints: [join(here, 'src/main.ts')],
  outdir: out,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
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

// onnxruntime-web: copy the files its bundled build loads at run time when
// `env.wasm.wasmPaths` is set (the .mjs Emscripten loader and the .wasm it fetches).
const ortInputs = Object.keys(result.metafile.inputs).filter((f) => /onnxruntime-web\/dist\/ort[^/]*\.mjs$/.test(f));
if (ortInputs.length !== 1)
  throw new Error(`expected one onnxruntime-web bundle among the inputs, found: ${ortInputs.join(', ') || 'none'}`);
const ortDist = dirname(join(process.cwd(), ortInputs[0]));
const ortFiles = [
  ...new Set(
    (await readFile(join(process.cwd(), ortInputs[0]), 'utf8')).match(/ort-wasm-[a-z-]+(\.[a-z]+)*\.(wasm|mjs)/g) ?? [],
  ),
];
if (!ortFiles.some((f) => f.endsWith('.wasm')) || !ortFiles.some((f) => f.endsWith('.mjs'))) {
  throw new Error(`cannot tell which files ${ortInputs[0]} loads (found: ${ortFiles.join(', ') || 'none'})`);
}
await mkdir(join(out, 'ort'), { recursive: true });
await Promise.all(ortFiles.map((f) => copyFile(join(ortDist, f), join(out, 'ort', f))));

// The shipped models, with the index.json HttpModelSource reads.
const modelsOut = join(out, 'offline-models');
const index = { models: [] };
for (const name of OFFLINE_MODELS) {
  const src = join(root, 'models', name);
  const versions = [];
  for (const entry of await readdir(src, { withFileTypes: true })) {
    if (!entry.isDirectory() || !/^[1-9]\d*$/.test(entry.name)) continue;
    const file = join(src, entry.name, 'model.onnx');
    if (!(await stat(file).catch(() => null))?.isFile()) continue;
    await mkdir(join(modelsOut, name, entry.name), { recursive: true });
    await copyFile(file, join(modelsOut, name, entry.name, 'model.onnx'));
    versions.push(Number(entry.name));
  }
  if (versions.length === 0)
    throw new Error(`${relative(process.cwd(), src)}: no <version>/model.onnx to ship for offline mode`);
  await copyFile(join(src, 'manifest.json'), join(modelsOut, name, 'manifest.json'));
  index.models.push({ name, versions: versions.sort((a, b) => a - b) });
}
await writeFile(join(modelsOut, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);

// What offline mode downloads, for its progress bar.
const wasmFile = ortFiles.find((f) => f.endsWith('.wasm'));
await writeFile(
  join(out, 'offline-files.json'),
  `${JSON.stringify({ wasm: `ort/${wasmFile}`, wasmBytes: (await stat(join(out, 'ort', wasmFile))).size }, null, 2)}\n`,
);

// Precompressed copies. Levels chosen for build time on two cores: brotli 9 on the code (main.js
// 1.4 MiB -> 0.34 MiB in 0.3 s; 11 saves 10 % more in 5 s), 5 on the 13.6 MiB WASM (-> 2.7 MiB in
// 0.6 s; 11 takes 50 s). Source maps are left as they are (only developer tools fetch them).
const COMPRESSIBLE = new Set(['.html', '.css', '.js', '.mjs', '.json', '.txt', '.wasm', '.onnx', '.svg']);
const brotli = promisify(brotliCompress);
const gz = promisify(gzip);
let rawBytes = 0;
let brBytes = 0;
for (const e of await readdir(out, { withFileTypes: true, recursive: true })) {
  if (!e.isFile() || !COMPRESSIBLE.has(extname(e.name))) continue;
  const file = join(e.parentPath, e.name);
  const body = await readFile(file);
  if (body.length < 1024) continue;
  const quality = body.length > 4 << 20 ? 5 : 9;
  const [br, gzBody] = await Promise.all([
    brotli(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: quality, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }),
    gz(body, { level: 6 }),
  ]);
  rawBytes += body.length;
  brBytes += br.length;
  await Promise.all([writeFile(`${file}.br`, br), writeFile(`${file}.gz`, gzBody)]);
}

// Report sizes.
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
async function folderSize(dir, plainOnly = false) {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile() && !(plainOnly && /\.(br|gz)$/.test(e.name))) total += (await stat(join(e.parentPath, e.name))).size;
  return total;
}
const js = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
const mainOut = js.find(([f]) => f.endsWith('/main.js'));
// Every chunk split off main.js is loaded for offline mode only (the runtime, the SDK's browser build that
// the scene plugin imports on first use, the chunks they share).
const offlineOut = js.filter(([f]) => f.includes('/chunks/'));
const top = (inputs) => {
  const sums = Object.entries(inputs)
    .map(([file, v]) => [
      file
        .replace(/^.*node_modules\//, '')
        .split('/')
        .slice(0, file.includes('node_modules/@') ? 2 : 1)
        .join('/'),
      v.bytesInOutput,
    ])
    .reduce((m, [k, v]) => m.set(k, (m.get(k) ?? 0) + v), new Map());
  return [...sums]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([k, v]) => `${k} ${kib(v)}`)
    .join(', ');
};
const dist = relative(process.cwd(), out);
console.log(
  `demo-game: ${dist}/main.js ${kib(mainOut?.[1].bytes ?? 0)} (${top(mainOut?.[1].inputs ?? {})}); ` +
    `offline chunks ${kib(offlineOut.reduce((n, [, o]) => n + o.bytes, 0))} (${top(Object.assign({}, ...offlineOut.map(([, o]) => o.inputs)))}); ` +
    `${dist}/ort ${mib(await folderSize(join(out, 'ort'), true))} (${ortFiles.join(', ')}); ${dist}/offline-models ${kib(await folderSize(modelsOut, true))}; ` +
    `precompressed ${mib(rawBytes)} -> ${mib(brBytes)} (brotli); ` +
    `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
