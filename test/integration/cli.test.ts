/**
 * The `playmind` command as users run it: a separate process, its exit code and
 * what it prints.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from '../helpers/chai.js';
import { compatFile, REPO_ROOT, tempDir } from '../helpers/compat.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';
import { parseManifest } from '../../sdk/contract/manifest.js';
import { main } from '../../sdk/cli/main.js';

const run = promisify(execFile);

/** Runs the CLI in this process (argument handling needs no child process). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

/** Runs the CLI from source; resolves with the exit code and output whatever the code. */
async function playmind(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'sdk/cli/main.ts'), ...args], {
      cwd: REPO_ROOT,
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('playmind CLI', function () {
  this.timeout(120_000);

  it('imports an ML-Agents export and writes a manifest that loads', async function () {
    const file = compatFile(this, 'mlagents', 'PushBlock.onnx');
    const { dir, cleanup } = await tempDir();
    try {
      const r = await playmind('import', file, '--name', 'push-block', '--into', dir);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('as push-block version 1 (ml-agents, kind policy)');
      const m = parseManifest(await readFile(join(dir, 'push-block', 'manifest.json'), 'utf8'));
      if (m.kind !== 'policy') throw new Error('kind');
      expect(m.policy.observation.inputs).to.deep.equal(['obs_0', 'obs_1']);
      expect(m.policy.actions.discrete!.output).to.equal('deterministic_discrete_actions');
      expect(m.policy.mask).to.deep.equal({ input: 'action_masks' });
      expect(m.sha256!['1']).to.match(/^[0-9a-f]{64}$/);
      // A second import of the same name is refused unless --force adds a version.
      expect((await playmind('import', file, '--name', 'push-block', '--into', dir)).code).to.equal(1);
      const forced = await playmind('import', file, '--name', 'push-block', '--into', dir, '--force');
      expect(forced.stdout).to.contain('version 2');
      // The folder's listing follows, so a browser can read the folder as static files.
      expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))).to.deep.equal({
        models: [{ name: 'push-block', versions: [1, 2] }],
      });
    } finally {
      await cleanup();
    }
  });

  it('refuses the broken export with exit code 1, naming the file and the reason', async function () {
    const file = compatFile(this, 'negative', 'deterDiscrete1obs3action_v2_0.yiqide-invalid.onnx');
    const { dir, cleanup } = await tempDir();
    try {
      const r = await playmind('import', file, '--into', dir);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain(file);
      expect(r.stderr).to.contain('Graph output (memory_size) does not exist');
    } finally {
      await cleanup();
    }
  });

  it('validate prints every problem of a model folder and exits 1', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const manifest = linearPolicyManifest('guard', 4, 3) as Record<string, unknown>;
      manifest.format = 'unity';
      (manifest.policy as { observation: { features: string[] } }).observation.features = ['a'];
      await writeModel(dir, 'guard', 1, linearPolicyBytes(4, 3), manifest);
      const r = await playmind('validate', join(dir, 'guard'));
      expect(r.code).to.equal(1);
      expect(r.stdout).to.match(/format/);
      expect(r.stdout).to.match(/problem/);
      // Fix the manifest; break version 2's file: validate checks every version.
      await writeFile(join(dir, 'guard', 'manifest.json'), JSON.stringify(linearPolicyManifest('guard', 4, 3)));
      await mkdir(join(dir, 'guard', '2'), { recursive: true });
      await writeFile(join(dir, 'guard', '2', 'model.onnx'), 'not a model');
      const r2 = await playmind('validate', join(dir, 'guard'));
      expect(r2.code).to.equal(1);
      expect(r2.stdout).to.contain('version 1: ok');
      expect(r2.stdout).to.contain('version 2: refused');
      expect(r2.stdout).to.contain(join(dir, 'guard', '2', 'model.onnx'));
      await writeModel(dir, 'guard', 2, linearPolicyBytes(4, 3, 2));
      const r3 = await playmind('validate', join(dir, 'guard'));
      expect(r3.code, r3.stdout).to.equal(0);
      expect(r3.stdout).to.contain('valid');
    } finally {
      await cleanup();
    }
  });

  it('prints its version (the package.json version) and lists every command in --help', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const version = await playmind('--version');
    expect(version.code).to.equal(0);
    expect(version.stdout.trim()).to.equal(pkg.version);
    const help = await playmind('--help');
    expect(help.code).to.equal(0);
    for (const c of ['import', 'validate', 'train-recs', 'index', 'copy-runtime'])
      expect(help.stdout).to.match(new RegExp(`^  ${c} `, 'm'));
    const bad = await cli('frobnicate');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('unknown command "frobnicate"');
  });

  for (const command of ['import', 'validate', 'train-recs', 'index', 'copy-runtime']) {
    it(`answers ${command} --help with its own usage and exit code 0`, async () => {
      const r = await cli(command, '--help');
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(new RegExp(`^Usage: playmind ${command}\\b`));
    });
  }

  it('validate prints every problem once each, unknown keys included', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const manifest = linearPolicyManifest('guardian', 4, 3) as Record<string, unknown> & {
        policy: Record<string, unknown>;
      };
      manifest.policy.fallbak = { heuristic: 'first-action' };
      manifest.descripton = 'typo';
      manifest.format = 'unity';
      await writeModel(dir, 'guard', 1, linearPolicyBytes(4, 3), manifest);
      await writeModel(dir, 'guard', 2, linearPolicyBytes(4, 3, 2));
      const r = await cli('validate', join(dir, 'guard'));
      expect(r.code).to.equal(1);
      const file = join(dir, 'guard', 'manifest.json');
      const problems = r.stdout.split('\n').filter((l) => l.startsWith('  - '));
      expect(problems).to.have.length(3);
      expect(problems.filter((l) => l.includes(`${file}: policy.fallbak: unknown key`))).to.have.length(1);
      expect(problems.filter((l) => l.includes(`${file}: descripton: unknown key`))).to.have.length(1);
      expect(problems.filter((l) => l.includes(`${file}: format:`))).to.have.length(1);
      expect(r.stdout).to.contain('3 problem(s)');
      // Schema-valid but misnamed: the name problem once, not once per version.
      delete manifest.format;
      await writeFile(file, JSON.stringify(manifest));
      const r2 = await cli('validate', join(dir, 'guard'));
      expect(r2.stdout.split('\n').filter((l) => l.includes('does not match its folder "guard"'))).to.have.length(1);
    } finally {
      await cleanup();
    }
  });

  it('validate reports a fallback heuristic nothing provides, unless --heuristic names it', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const manifest = linearPolicyManifest('guard', 4, 3) as { policy: { fallback: { heuristic: string } } };
      manifest.policy.fallback.heuristic = 'sneak-around';
      await writeModel(dir, 'guard', 1, linearPolicyBytes(4, 3), manifest);
      const r = await cli('validate', join(dir, 'guard'));
      expect(r.code).to.equal(1);
      expect(r.stdout).to.contain('names the fallback heuristic "sneak-around", which nothing provides');
      expect(r.stdout).to.contain('available: expert-guard, first-action');
      const declared = await cli('validate', join(dir, 'guard'), '--heuristic', 'sneak-around');
      expect(declared.code, declared.stdout).to.equal(0);
    } finally {
      await cleanup();
    }
  });

  it('validate on a repository lists its models, checks each, and checks its index.json', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeModel(dir, 'guard', 1, linearPolicyBytes(4, 3), linearPolicyManifest('guard', 4, 3));
      await writeModel(dir, 'scout', 1, linearPolicyBytes(3, 2), linearPolicyManifest('scout', 3, 2));
      const r = await cli('validate', dir);
      expect(r.code, r.stdout).to.equal(0);
      expect(r.stdout).to.contain(`${dir}: a model repository with 2 model(s): guard, scout`);
      expect(r.stdout).to.contain('index.json: missing');
      await cli('index', dir);
      expect((await cli('validate', dir)).stdout).to.contain('index.json: up to date');
      await writeModel(dir, 'scout', 2, linearPolicyBytes(3, 2, 2));
      const stale = await cli('validate', dir);
      expect(stale.code).to.equal(1);
      expect(stale.stdout).to.contain('index.json: stale');
      expect(stale.stdout).to.contain(
        `${join(dir, 'index.json')}: does not list the models and versions in the folder`,
      );
      const empty = await cli('validate', join(dir, 'guard', '1'));
      expect(empty.code).to.equal(1);
      expect(empty.stderr).to.contain('neither a model folder');
    } finally {
      await cleanup();
    }
  });

  it('index writes the listing of a hand-made model folder, and refuses a folder that does not exist', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeModel(dir, 'guard', 1, linearPolicyBytes(4, 3), linearPolicyManifest('guard', 4, 3));
      await writeModel(dir, 'guard', 3, linearPolicyBytes(4, 3, 2));
      const r = await cli('index', dir);
      expect(r.code, r.stderr).to.equal(0);
      expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))).to.deep.equal({
        models: [{ name: 'guard', versions: [1, 3] }],
      });
      expect((await cli('index', dir)).stdout).to.match(/^kept /);
      const missing = await cli('index', join(dir, 'nope'));
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.contain(`${join(dir, 'nope')}: no such folder`);
    } finally {
      await cleanup();
    }
  });

  it("copy-runtime copies onnxruntime-web's WASM binary and loader, byte for byte", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const r = await cli('copy-runtime', join(dir, 'ort'));
      expect(r.code, r.stderr).to.equal(0);
      const files = (await readdir(join(dir, 'ort'))).sort();
      expect(files).to.deep.equal(['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']);
      for (const f of files) {
        const copied = await readFile(join(dir, 'ort', f));
        const original = await readFile(join(REPO_ROOT, 'node_modules/onnxruntime-web/dist', f));
        expect(copied.equals(original), f).to.equal(true);
      }
      expect(r.stdout).to.contain('ort-wasm-simd-threaded.wasm (13.');
    } finally {
      await cleanup();
    }
  });

  it('refuses an unknown flag, a flag without its value and a missing or extra argument with exit code 2', async () => {
    const unknown = await cli('validate', 'models/npc-guard', '--strict');
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain("Unknown option '--strict'");
    expect(unknown.stderr).to.contain('playmind validate --help');
    const noValue = await cli('import', 'x.onnx', '--name');
    expect(noValue.code).to.equal(2);
    expect(noValue.stderr).to.contain("Option '--name <value>' argument missing");
    const swallowed = await cli('import', 'x.onnx', '--name', '--force');
    expect(swallowed.code).to.equal(2);
    expect(swallowed.stderr).to.contain("'--name' argument is ambiguous");
    const missing = await cli('import');
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('missing <file.onnx>');
    const extra = await cli('validate', 'a', 'b');
    expect(extra.code).to.equal(2);
    expect(extra.stderr).to.contain('unexpected argument "b"');
  });
});
