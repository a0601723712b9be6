/**
 * `playmind copy-runtime <dir>`: copies the onnxruntime-web files the browser build of
 * `playmind/sdk` loads at run time (the WASM binary and its Emscripten loader) into a
 * folder the game serves; pass that folder's URL as `wasmPaths` to `createBrain`.
 *
 * @module
 */
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { ErrorCode, PlaymindError } from '../../protocol.js';
import { defineCommand } from '../command.js';

/** The onnxruntime-web entry the browser build imports (its WASM-only build). */
export const WEB_RUNTIME_ENTRY = 'onnxruntime-web/wasm';

/** What {@link copyWebRuntime} copied. */
export interface CopiedRuntime {
  dir: string;
  files: { name: string; bytes: number }[];
}

/**
 * The names of the files onnxruntime-web's WASM build loads at run time (found in the
 * build itself, so they follow the installed version).
 * @returns the entry's folder and the file names
 */
export async function webRuntimeFiles(): Promise<{ from: string; names: string[] }> {
  const entry = await webRuntimeEntry();
  const names = [
    ...new Set((await readFile(entry, 'utf8')).match(/ort-wasm-[a-z-]+(\.[a-z]+)*\.(wasm|mjs)/g) ?? []),
  ].sort();
  if (!names.some((f) => f.endsWith('.wasm')))
    throw new PlaymindError(
      ErrorCode.INTERNAL,
      `cannot tell which files ${entry} loads (found: ${names.join(', ') || 'none'})`,
    );
  return { from: dirname(entry), names };
}

/** The file a bundler takes for `import 'onnxruntime-web/wasm'` (its `import` condition), from the installed package. */
async function webRuntimeEntry(): Promise<string> {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(WEB_RUNTIME_ENTRY));
  for (;;) {
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8').catch(() => '{}')) as {
      name?: string;
      exports?: Record<string, { import?: string | Record<string, string> }>;
    };
    if (pkg.name === 'onnxruntime-web') {
      const target = pkg.exports?.['./wasm']?.import;
      const file = typeof target === 'string' ? target : target?.default;
      if (!file) throw new PlaymindError(ErrorCode.INTERNAL, `${dir}/package.json: no "./wasm" import entry`);
      return join(dir, file);
    }
    const up = dirname(dir);
    if (up === dir) throw new PlaymindError(ErrorCode.INTERNAL, `cannot find onnxruntime-web's package.json`);
    dir = up;
  }
}

/**
 * Copies onnxruntime-web's run-time files into `dir`.
 * @param dir - a folder the game serves, e.g. `public/ort`
 * @example await copyWebRuntime('public/ort'); // then createBrain({ ..., wasmPaths: './ort/' })
 */
export async function copyWebRuntime(dir: string): Promise<CopiedRuntime> {
  const { from, names } = await webRuntimeFiles();
  const out = resolve(dir);
  await mkdir(out, { recursive: true });
  const files: CopiedRuntime['files'] = [];
  for (const name of names) {
    await copyFile(join(from, name), join(out, name));
    files.push({ name, bytes: (await stat(join(out, name))).size });
  }
  return { dir: out, files };
}

const USAGE = `Usage: playmind copy-runtime <dir>

Copies the onnxruntime-web files the browser build of playmind/sdk loads at run time
(${'ort-wasm-simd-threaded.wasm'} and its .mjs loader, from the installed onnxruntime-web)
into <dir>. Serve <dir> with the game and pass its URL as wasmPaths:

  createBrain({ mode: 'local', models: './models/', wasmPaths: './ort/' })

Options
  -h, --help   this text
`;

/** `playmind copy-runtime`. */
export const copyRuntimeCommand = defineCommand({
  name: 'copy-runtime',
  summary: "copy onnxruntime-web's WASM files (what a browser game serves as wasmPaths) into a folder",
  usage: USAGE,
  options: {},
  positionals: { min: 1, max: 1, name: '<dir>' },
  async run({ positionals }, io) {
    const r = await copyWebRuntime(positionals[0]!);
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    io.stdout.write(`copied ${r.files.map((f) => `${f.name} (${mib(f.bytes)})`).join(', ')} into ${r.dir}\n`);
    return 0;
  },
});
