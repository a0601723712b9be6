/**
 * Playmind as a game developer receives it: the tarball `npm pack` makes, installed into a
 * new game project with production dependencies only and offline (npm's cache holds every
 * package; onnxruntime-node's download is skipped the way the README says), and used there as
 * the README says — the `playmind` bin (`--version`, `import` of a real ML-Agents export,
 * `train-recs`, `validate`, `copy-runtime`), a Node script on the shipped models, the README's
 * Node and browser calls type-checked as a game's TypeScript would (NodeNext strict without
 * skipLibCheck; bundler strict, no custom conditions; node10 too), and an esbuild bundle that
 * decides in headless Chromium from the folder the CLI wrote, served as plain static files.
 *
 * The tarball is packed once from the built dist/ (`npm test` builds it first; `--ignore-scripts`
 * skips `prepare`, which would build it again).
 */
import { execFile } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { BrowserContext } from 'playwright-core';
import { expect } from '../helpers/chai.js';
import { compatFile, REPO_ROOT, tempDir } from '../helpers/compat.js';
import { launchChromium, WAIT_MS } from '../helpers/demo-page.js';

declare global {
  interface Window {
    __result?: unknown;
  }
}

const run = promisify(execFile);
const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const VERSION = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** The server's packages: optional peers, not part of a game's install. */
const SERVER_PACKAGES = ['@colyseus/core', '@colyseus/ws-transport', '@grpc/grpc-js', 'express', 'pino', 'prom-client'];

/** The environment of a developer's shell: no npm_* variables of the `npm test` running this, no skip flag. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === 'INIT_CWD' || /^ONNXRUNTIME_NODE_INSTALL/.test(k)) continue;
    env[k] = v;
  }
  return env;
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in the game project; resolves with its exit code and output whatever the code. */
async function sh(cwd: string, cmd: string, args: string[], timeout = 120_000): Promise<Ran> {
  try {
    const r = await run(cmd, args, { cwd, env: userEnv(), timeout, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message?: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? e.message ?? '',
    };
  }
}

/** Like {@link sh}, failing with the output when the exit code is not 0. */
async function ok(cwd: string, cmd: string, args: string[], timeout?: number): Promise<Ran> {
  const r = await sh(cwd, cmd, args, timeout);
  if (r.code !== 0) {
    // The lines that say what failed (tsc's errors, npm's), not a whole trace.
    const lines = `${r.stdout}\n${r.stderr}`.split('\n');
    const errors = lines.filter((l) => /error|ERR!|Error:/i.test(l));
    const shown = (errors.length > 0 ? errors : lines).slice(0, 60).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${shown}`);
  }
  return r;
}

/** Bytes under a folder (files, not links). */
async function du(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await du(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

/** The README's ```ts block whose first line is `// <file>`. */
function readmeBlock(readme: string, file: string): string {
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.startsWith(`// ${file}`));
  if (!block) throw new Error(`README.md has no \`\`\`ts block starting with "// ${file}"`);
  return block;
}

/** A static file server over `dir`, as a game's web server (or `npx serve`) would be. */
async function staticServer(dir: string): Promise<{ url: string; close: () => Promise<void>; requests: string[] }> {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.mjs': 'text/javascript',
    '.json': 'application/json',
    '.wasm': 'application/wasm',
    '.onnx': 'application/octet-stream',
  };
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(`${req.method} ${path}`);
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(dir + sep)) return void res.writeHead(403).end();
    readFile(file).then(
      (body) => {
        res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The browser game's page script: decides and recommends, or reports the error it got. */
const PAGE_SCRIPT = `import { createBrain, PlaymindError } from 'playmind/sdk';

declare global {
  interface Window {
    __result?: unknown;
  }
}

const ort = new URLSearchParams(location.search).get('ort') ?? '/ort/';
try {
  const brain = await createBrain({ mode: 'local', models: '/models/', wasmPaths: ort });
  const observation: Record<string, number> = {};
  for (let i = 0; i < 20; i++) observation[\`obs_0_\${i}\`] = i === 7 ? 1 : 0;
  const [d] = await brain.policy('basic').decide([observation]);
  const recs = await brain.recommender('shop-recs').recommend({ history: ['q1', 'q6'], k: 3, exclude: ['q1', 'q6'] });
  window.__result = { ok: true, action: d?.action, model: d?.model, servedBy: d?.servedBy, items: recs.items.map((i) => i.id), recs: recs.model };
  await brain.close();
} catch (err) {
  window.__result = { ok: false, code: err instanceof PlaymindError ? err.code : null, message: (err as Error).message };
}
`;

/** The Node game's script (plain JS, as `node` runs it): the shipped models from the installed package. */
const NODE_SCRIPT = `import { fileURLToPath } from 'node:url';
import { createBrain, GUARD_OBSERVATION_FEATURES, GUARD_ACTION_NAMES, silentLogger } from 'playmind/sdk';

const shipped = fileURLToPath(new URL('./models/', import.meta.resolve('playmind/package.json')));
const brain = await createBrain({ mode: 'local', models: shipped, logger: silentLogger });
const observation = Object.fromEntries(GUARD_OBSERVATION_FEATURES.map((f, i) => [f, (i % 4) / 4]));
const [guard] = await brain.policy('npc-guard').decide([observation]);
const recs = await brain.recommender('quest-recs').recommend({ history: ['q-forest-1'], k: 3, exclude: ['q-forest-1'] });
const mine = await createBrain({ mode: 'local', models: './web/models', logger: silentLogger });
const basic = {};
for (let i = 0; i < 20; i++) basic['obs_0_' + i] = i === 7 ? 1 : 0;
const [b] = await mine.policy('basic').decide([basic]);
console.log(JSON.stringify({ guard, actions: GUARD_ACTION_NAMES, recs, basic: b.action }));
await Promise.all([brain.close(), mine.close()]);
`;

describe('the npm package in a new game project (packed, installed offline, production dependencies only)', function () {
  this.timeout(300_000);
  let root: string;
  let cleanup: () => Promise<void>;
  let game: string;
  let files: string[];
  let installed: Ran;
  let installBytes = 0;
  let nodeResult: { basic: string } | undefined;
  let browser: BrowserContext | undefined;
  let site: Awaited<ReturnType<typeof staticServer>> | undefined;

  before(async function () {
    expect(
      existsSync(join(REPO_ROOT, 'dist', 'sdk', 'index.js')),
      'dist/ is built by npm test (and npm install)',
    ).to.equal(true);
    ({ dir: root, cleanup } = await tempDir('playmind-package-'));
    const packed = await ok(REPO_ROOT, 'npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root]);
    const info = (JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[])[0]!;
    files = info.files.map((f) => f.path);
    game = join(root, 'my-game');
    await mkdir(game);
    await writeFile(
      join(game, 'package.json'),
      JSON.stringify({ name: 'my-game', version: '1.0.0', private: true, type: 'module' }, null, 2),
    );
    // The README's install, word for word: deny onnxruntime-node's download, then install the package.
    await ok(game, 'npm', ['pkg', 'set', 'allowScripts.onnxruntime-node=false', '--json']);
    installed = await ok(
      game,
      'npm',
      ['install', join(root, info.filename), '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'],
      240_000,
    );
    installBytes = await du(join(game, 'node_modules'));
  });

  after(async () => {
    await browser?.close();
    await site?.close();
    await cleanup?.();
  });

  it('ships dist, the shipped models, README and LICENSE — no TypeScript sources, source maps, tests or CI files', () => {
    for (const f of files) {
      expect(
        /^(dist\/(sdk|server)\/|models\/(npc-guard|quest-recs)\/)/.test(f) ||
          ['README.md', 'LICENSE', 'package.json'].includes(f),
        f,
      ).to.equal(true);
      expect(/\.ts$/.test(f) && !/\.d\.ts$/.test(f), `raw TypeScript source ${f}`).to.equal(false);
      expect(f.endsWith('.map'), f).to.equal(false);
    }
    for (const f of ['dist/sdk/index.js', 'dist/sdk/index.d.ts', 'dist/sdk/index.browser.js', 'dist/sdk/cli/main.js'])
      expect(files).to.include(f);
    for (const f of ['models/npc-guard/1/model.onnx', 'models/quest-recs/manifest.json', 'LICENSE', 'README.md'])
      expect(files).to.include(f);
  });

  it("installs offline without onnxruntime-node's download and without the server's packages", async () => {
    expect(installed.stderr).not.to.match(/ENOTFOUND|nuget|Unknown project config/);
    const nm = join(game, 'node_modules');
    expect(
      existsSync(join(nm, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'onnxruntime_binding.node')),
    ).to.equal(true);
    expect(
      existsSync(join(nm, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so')),
    ).to.equal(false, 'the CUDA providers were downloaded');
    for (const p of SERVER_PACKAGES) expect(existsSync(join(nm, p)), `${p} installed`).to.equal(false);
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    const ortNode = await du(join(nm, 'onnxruntime-node'));
    const ortWeb = await du(join(nm, 'onnxruntime-web'));
    const runtimes = ortNode + ortWeb;
    const added = /added (\d+) packages/.exec(installed.stdout)?.[1] ?? '?';
    console.log(
      `      node_modules: ${mb(installBytes)} in ${added} packages: onnxruntime-node ${mb(ortNode)}, onnxruntime-web ${mb(ortWeb)}, playmind ${mb(await du(join(nm, 'playmind')))}, the rest ${mb(installBytes - runtimes)}`,
    );
    // The two runtimes are most of it; the rest (the SDK's own dependencies) stays small.
    expect(installBytes - runtimes).to.be.below(80e6);
  });

  it('imports only declared packages: the SDK its dependencies, the Phaser plugin phaser too, the server its optional peers', async () => {
    const pkgDir = join(game, 'node_modules', 'playmind');
    const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    const deps = new Set(Object.keys(pkg.dependencies));
    const peers = new Set(Object.keys(pkg.peerDependencies));
    const builtins = new Set(builtinModules);
    const undeclared: string[] = [];
    let scanned = 0;
    for (const f of files.filter((p) => p.startsWith('dist/') && p.endsWith('.js'))) {
      scanned++;
      // Doc comments hold examples (`import … from 'playmind/sdk'`); only code counts.
      const code = (await readFile(join(pkgDir, f), 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '');
      const specs = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)['"]([^'"]+)['"]/gm)].map(
        (m) => m[1]!,
      );
      for (const spec of specs) {
        if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        const allowed =
          deps.has(name) ||
          (f.startsWith('dist/server/') && peers.has(name) && name !== 'phaser') ||
          (f.startsWith('dist/sdk/phaser/') && name === 'phaser');
        if (!allowed) undeclared.push(`${f} imports '${spec}'`);
      }
    }
    expect(scanned, 'shipped .js files scanned').to.be.above(50);
    expect(undeclared, 'imports of packages the package does not declare for that entry').to.deep.equal([]);
  });

  it("playmind/server without the server's packages: dependency_missing naming the package and the install command", async () => {
    await writeFile(
      join(game, 'host.mjs'),
      `try { await import('playmind/server'); console.log('imported'); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }\n`,
    );
    const r = await ok(game, process.execPath, ['host.mjs']);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { name: string; code: string; message: string };
    expect(out.name).to.equal('PlaymindError');
    expect(out.code).to.equal('dependency_missing');
    expect(out.message).to.match(/'@colyseus\/[a-z-]+' is not installed/);
    expect(out.message).to.match(/npm install @colyseus\/core@\^0\.18/);
    for (const p of SERVER_PACKAGES) expect(out.message, p).to.contain(`${p}@`);
  });

  it('runs the bin: --version, import of an ML-Agents export, train-recs on a small log, validate, copy-runtime', async function () {
    const onnx = compatFile(this, 'mlagents', 'Basic.onnx');
    const bin = join(game, 'node_modules', '.bin', 'playmind');
    expect((await ok(game, bin, ['--version'])).stdout.trim()).to.equal(VERSION);
    expect((await ok(game, bin, ['train-recs', '--help'])).stdout).to.match(/^Usage: playmind train-recs/);
    const imported = await ok(game, bin, ['import', onnx, '--name', 'basic', '--into', 'web/models']);
    expect(imported.stdout).to.include('as basic version 1 (ml-agents, kind policy)');
    const log = ['player\tquest'];
    for (let u = 0; u < 40; u++) for (let k = 0; k < 4; k++) log.push(`p${u}\tq${(u * 3 + k * 5) % 12}`);
    await writeFile(join(game, 'plays.tsv'), `${log.join('\n')}\n`);
    const trained = await ok(game, bin, [
      'train-recs',
      '--interactions',
      'plays.tsv',
      '--user-col',
      'player',
      '--item-col',
      'quest',
      '--out',
      'web/models/shop-recs',
      '--quiet',
    ]);
    expect(trained.stdout).to.match(/wrote .*shop-recs \(12 items/);
    const index = JSON.parse(await readFile(join(game, 'web', 'models', 'index.json'), 'utf8')) as unknown;
    expect(index).to.deep.equal({
      models: [
        { name: 'basic', versions: [1] },
        { name: 'shop-recs', versions: [1] },
      ],
    });
    const validated = await ok(game, bin, ['validate', 'web/models']);
    expect(validated.stdout).to.include('a model repository with 2 model(s): basic, shop-recs');
    expect(validated.stdout).to.include('index.json: up to date');
    const copied = await ok(game, bin, ['copy-runtime', 'web/ort']);
    expect(copied.stdout).to.include('ort-wasm-simd-threaded.wasm');
    expect((await readdir(join(game, 'web', 'ort'))).sort()).to.deep.equal([
      'ort-wasm-simd-threaded.mjs',
      'ort-wasm-simd-threaded.wasm',
    ]);
  });

  it('a Node script decides and recommends with the shipped models, and decides with the imported one', async () => {
    await writeFile(join(game, 'game.mjs'), NODE_SCRIPT);
    const r = await ok(game, process.execPath, ['game.mjs']);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      guard: { action: string; model: string; servedBy: string };
      actions: string[];
      recs: { items: { id: string }[]; model: string };
      basic: string;
    };
    expect(out.guard.model).to.equal('npc-guard@1');
    expect(out.guard.servedBy).to.equal('local');
    expect(out.actions).to.include(out.guard.action);
    expect(out.recs.model).to.equal('quest-recs@1');
    expect(out.recs.items).to.have.length(3);
    expect(out.recs.items.map((i) => i.id)).not.to.include('q-forest-1');
    expect(['action_0', 'action_1', 'action_2']).to.include(out.basic);
    nodeResult = out;
  });

  it("type-checks the README's Node call (NodeNext, strict, no skipLibCheck) and runs it; its browser call (bundler, strict, no custom conditions); node10 finds the types", async () => {
    // The game's own dev dependency, at the version this repository has (so npm's cache holds it).
    const typesNode = (
      JSON.parse(await readFile(join(REPO_ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    await ok(game, 'npm', [
      'install',
      '--save-dev',
      `@types/node@${typesNode}`,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
    ]);
    const readme = await readFile(join(game, 'node_modules', 'playmind', 'README.md'), 'utf8');
    await mkdir(join(game, 'src'), { recursive: true });
    await writeFile(join(game, 'src', 'game-server.ts'), readmeBlock(readme, 'game-server.ts'));
    await writeFile(join(game, 'src', 'browser-game.ts'), readmeBlock(readme, 'browser-game.ts'));
    await writeFile(join(game, 'web', 'main.ts'), PAGE_SCRIPT);
    await writeFile(
      join(game, 'src', 'old-resolution.ts'),
      `import type { Brain, BrainOptions } from 'playmind/sdk';\nexport const options: BrainOptions = { mode: 'local', models: './models' };\nexport type B = Brain;\n`,
    );
    const common = { target: 'ES2022', strict: true, skipLibCheck: false, noUncheckedIndexedAccess: true };
    await writeFile(
      join(game, 'tsconfig.node.json'),
      JSON.stringify({
        compilerOptions: {
          ...common,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          types: ['node'],
          outDir: 'out',
        },
        files: ['src/game-server.ts'],
      }),
    );
    await writeFile(
      join(game, 'tsconfig.browser.json'),
      JSON.stringify({
        compilerOptions: {
          ...common,
          module: 'ESNext',
          moduleResolution: 'bundler',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          types: [],
          verbatimModuleSyntax: true,
          noEmit: true,
        },
        files: ['src/browser-game.ts', 'web/main.ts'],
      }),
    );
    await writeFile(
      join(game, 'tsconfig.node10.json'),
      JSON.stringify({
        // As \`tsc --init\` writes it for CommonJS (esModuleInterop: zod's CommonJS typings need it).
        compilerOptions: {
          ...common,
          module: 'CommonJS',
          moduleResolution: 'node10',
          esModuleInterop: true,
          types: ['node'],
          noEmit: true,
          // This one checks how node10 finds the declarations; the NodeNext one above checks every library file.
          skipLibCheck: true,
        },
        files: ['src/old-resolution.ts'],
      }),
    );
    const traced = await ok(game, process.execPath, [TSC, '-p', 'tsconfig.node10.json', '--traceResolution']);
    expect(traced.stdout).to.match(
      /'playmind\/sdk' was successfully resolved to '[^']*node_modules\/playmind\/dist\/sdk\/index\.d\.ts'/,
    );
    await ok(game, process.execPath, [TSC, '-p', 'tsconfig.browser.json']);
    await ok(game, process.execPath, [TSC, '-p', 'tsconfig.node.json']);
    // The README's Node game server, compiled as above, runs against the shipped models copied as the README says.
    await cp(join(game, 'node_modules', 'playmind', 'models', 'npc-guard'), join(game, 'models', 'npc-guard'), {
      recursive: true,
    });
    await cp(join(game, 'node_modules', 'playmind', 'models', 'quest-recs'), join(game, 'models', 'quest-recs'), {
      recursive: true,
    });
    const served = await ok(game, process.execPath, ['out/game-server.js']);
    expect(served.stdout).to.match(/npc-guard@1 .+ served by local/);
    expect(served.stdout).to.match(/quests: q-[a-z]+-\d+, q-[a-z]+-\d+, q-[a-z]+-\d+/);
  });

  it('an esbuild bundle decides in headless Chromium from the models folder the CLI wrote, served as static files', async () => {
    expect(existsSync(join(game, 'web', 'main.ts')), 'the page script (written by the type-check case)').to.equal(true);
    const result = await build({
      absWorkingDir: game,
      entryPoints: ['web/main.ts'],
      outfile: join(game, 'web', 'main.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2022'],
      logLevel: 'silent',
      metafile: true,
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).to.include('node_modules/playmind/dist/sdk/index.browser.js');
    expect(inputs.filter((i) => /onnxruntime-node|worker_threads|node:/.test(i))).to.deep.equal([]);
    await writeFile(join(game, 'web', 'index.html'), '<!doctype html><script type="module" src="/main.js"></script>\n');
    // A folder with the loader only: the .wasm is missing.
    await mkdir(join(game, 'web', 'ort-no-wasm'));
    await copyFile(
      join(game, 'web', 'ort', 'ort-wasm-simd-threaded.mjs'),
      join(game, 'web', 'ort-no-wasm', 'ort-wasm-simd-threaded.mjs'),
    );
    site = await staticServer(join(game, 'web'));
    const { dir: profile } = await tempDir('playmind-package-chromium-');
    browser = await launchChromium(profile);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${site.url}/`);
    await page.waitForFunction(() => window.__result !== undefined, undefined, { timeout: WAIT_MS * 2 });
    const r = (await page.evaluate(() => window.__result)) as {
      ok: boolean;
      action?: string;
      model?: string;
      servedBy?: string;
      items?: string[];
      recs?: string;
      message?: string;
    };
    expect(r.ok, r.message).to.equal(true);
    expect(r.model).to.equal('basic@1');
    expect(r.servedBy).to.equal('local');
    expect(r.action).to.equal(nodeResult?.basic ?? r.action);
    expect(r.recs).to.equal('shop-recs@1');
    expect(r.items).to.have.length(3);
    expect(errors).to.deep.equal([]);
    expect(site.requests).to.include.members([
      'GET /models/index.json',
      'GET /models/basic/1/model.onnx',
      'GET /ort/ort-wasm-simd-threaded.mjs',
      'GET /ort/ort-wasm-simd-threaded.wasm',
    ]);
    await page.close();
  });

  it('in the browser, a missing .wasm fails createBrain with runtime_load_failed naming the file, not the model', async () => {
    expect(site, 'the static site (made by the bundle case)').not.to.equal(undefined);
    const page = await browser!.newPage();
    await page.goto(`${site!.url}/?ort=/ort-no-wasm/`);
    await page.waitForFunction(() => window.__result !== undefined, undefined, { timeout: WAIT_MS * 2 });
    const r = (await page.evaluate(() => window.__result)) as { ok: boolean; code?: string; message?: string };
    expect(r.ok).to.equal(false);
    expect(r.code).to.equal('runtime_load_failed');
    expect(r.message).to.include(`${site!.url}/ort-no-wasm/ort-wasm-simd-threaded.wasm (HTTP 404)`);
    expect(r.message).to.include('copy-runtime');
    expect(r.message).not.to.include('.mjs (');
    expect(r.message).not.to.match(/basic|model\.onnx/);
    await page.close();
  });
});
