/**
 * The model repository: refusing bad files with the file and the reason while the
 * previous version keeps serving, hot swap under load, and file watching.
 */
import { createHash } from 'node:crypto';
import { copyFile, readFile, writeFile, rm, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { createBrain, silentLogger, type Brain, ModelRepository, FsModelSource, nodeBackend } from '../../sdk/index.js';
import { compatFile, tempDir, waitFor } from '../helpers/compat.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';
import { GraphBuilder } from '../../sdk/onnx/graph-builder.js';

const F = 6;
const A = 4;
const obs = (i: number) => Float32Array.from({ length: F }, (_, j) => Math.cos(i + j));

/** A repository over a folder, loaded and watching it (changes settle in 100 ms). */
async function watchedRepository(dir: string): Promise<ModelRepository> {
  const repo = new ModelRepository({
    source: new FsModelSource(dir, { settleMs: 100 }),
    backend: nodeBackend(),
    logger: silentLogger,
  });
  await repo.loadAll();
  repo.watch();
  return repo;
}

describe('model repository', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let brain: Brain;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    await writeModel(dir, 'guard', 1, linearPolicyBytes(F, A, 1), linearPolicyManifest('guard', F, A));
    brain = await createBrain({ mode: 'local', models: dir, logger: silentLogger });
  });

  afterEach(async () => {
    await brain.close();
    await cleanup();
  });

  const badFiles: [string, (ctx: Mocha.Context) => Promise<Uint8Array>, RegExp][] = [
    [
      'the broken ML-Agents export from compat/negative',
      async (ctx) =>
        new Uint8Array(
          await readFile(compatFile(ctx, 'negative', 'deterDiscrete1obs3action_v2_0.yiqide-invalid.onnx')),
        ),
      /onnxruntime refused it: .*Graph output \(memory_size\) does not exist/,
    ],
    ['a truncated file', async () => linearPolicyBytes(F, A, 2).slice(0, 60), /onnxruntime refused it/],
    [
      'random bytes',
      async () => Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24),
      /onnxruntime refused it/,
    ],
    ['an empty file', async () => new Uint8Array(0), /the file is empty/],
    [
      'a model whose inputs do not match its manifest',
      async () => linearPolicyBytes(F + 2, A, 2),
      /does not match its manifest: input "obs" dim 1: manifest says 6, the model says 8/,
    ],
  ];

  for (const [what, make, reason] of badFiles) {
    it(`refuses ${what}, naming the file and the reason, and keeps serving the previous version`, async function () {
      const bytes = await make(this);
      await writeModel(dir, 'guard', 2, bytes);
      const file = join(dir, 'guard', '2', 'model.onnx');
      const err = await brain.repository!.reload('guard').then(
        () => null,
        (e: Error) => e,
      );
      expect(err, 'reload must fail').to.be.instanceOf(Error);
      expect(err!.message).to.contain(file);
      expect(err!.message).to.match(reason);
      const state = brain.repository!.state('guard')!;
      expect(state.served).to.equal(1);
      expect(state.state).to.equal('READY');
      expect(state.lastError!.file).to.equal(file);
      expect(state.lastError!.reason).to.match(reason);
      const [d] = await brain.policy('guard').decide([obs(1)]);
      expect(d!.model).to.equal('guard@1');
    });
  }

  it('refuses a manifest that does not parse and keeps serving', async () => {
    await writeFile(join(dir, 'guard', 'manifest.json'), '{"name": "guard", "kind": "policy"');
    await writeModel(dir, 'guard', 2, linearPolicyBytes(F, A, 2));
    await expect(brain.repository!.reload('guard')).to.be.rejectedWith(/manifest.json: not valid JSON/);
    expect((await brain.policy('guard').decide([obs(2)]))[0]!.model).to.equal('guard@1');
  });

  it('serves the highest version, or the pinned one', async () => {
    await writeModel(dir, 'guard', 3, linearPolicyBytes(F, A, 3));
    await brain.repository!.reload('guard');
    expect((await brain.policy('guard').decide([obs(0)]))[0]!.model).to.equal('guard@3');
    await writeFile(
      join(dir, 'guard', 'manifest.json'),
      JSON.stringify({ ...linearPolicyManifest('guard', F, A), version: 1 }),
    );
    await brain.repository!.reload('guard');
    expect((await brain.policy('guard').decide([obs(0)]))[0]!.model).to.equal('guard@1');
  });

  it('falls back to the heuristic the manifest names when no version can answer, and counts it', async () => {
    const routes: string[] = [];
    brain.on('route', (e) => routes.push(`${e.from}->${e.to}:${e.reason}`));
    await brain.repository!.unload('guard');
    const d = await brain.policy('guard').decide([obs(1), obs(2)], {
      masks: [
        [0, 1, 1, 1],
        [1, 1, 1, 1],
      ],
    });
    expect(d.map((x) => x.servedBy)).to.deep.equal(['fallback', 'fallback']);
    expect(d[0]!.action).to.equal('a1'); // first-action skips the masked a0
    expect(d[1]!.action).to.equal('a0');
    expect(d[0]!.model).to.equal('guard@fallback:first-action');
    expect(brain.stats().fallbacks.total).to.equal(1);
    expect(brain.stats().fallbacks.byReason).to.deep.equal({ model_unavailable: 1 });
    expect(routes).to.deep.equal(['local->fallback:model_unavailable']);
    await brain.repository!.load('guard');
    expect((await brain.policy('guard').decide([obs(1)]))[0]!.servedBy).to.equal('local');
  });

  it('does not hide a bug behind the fallback: bad input is thrown, not served by a heuristic', async () => {
    await expect(brain.policy('guard').decide([new Float32Array(F + 1)])).to.be.rejectedWith(/has 7 values/);
    expect(brain.stats().fallbacks.total).to.equal(0);
  });

  it('swaps versions 20 times under 8 concurrent callers with zero failed calls, every result naming its version', async () => {
    const policy = brain.policy('guard');
    let stop = false;
    const seen = new Set<string>();
    let calls = 0;
    const failures: unknown[] = [];
    const caller = async (c: number) => {
      let i = 0;
      while (!stop) {
        try {
          const ds = await policy.decide([obs(c * 1000 + i), obs(c * 1000 + i + 1)]);
          for (const d of ds) {
            expect(d.model).to.match(/^guard@\d+$/);
            seen.add(d.model);
          }
          calls++;
        } catch (err) {
          failures.push(err);
        }
        i++;
      }
    };
    const callers = Array.from({ length: 8 }, (_, c) => caller(c));
    for (let v = 2; v <= 21; v++) {
      await writeModel(dir, 'guard', v, linearPolicyBytes(F, A, v));
      const loaded = await brain.repository!.reload('guard');
      expect(loaded.version).to.equal(v);
      await waitFor(() => seen.has(`guard@${v}`), 10_000, `a decision by guard@${v}`);
    }
    const before = calls;
    await waitFor(() => calls > before + 100, 10_000, 'more calls after the last swap');
    stop = true;
    await Promise.all(callers);
    expect(failures).to.deep.equal([]);
    expect(calls).to.be.greaterThan(1000);
    for (let v = 1; v <= 21; v++) expect(seen.has(`guard@${v}`), `guard@${v} served`).to.equal(true);
  });

  it('picks up a model file written on disk, once it is completely written', async () => {
    const repo = await watchedRepository(dir);
    const failures: string[] = [];
    repo.on('load-failed', (f) => failures.push(f.reason));
    try {
      // Write version 2 slowly, in pieces, as a copy over a network share would.
      const bytes = linearPolicyBytes(F, A, 7);
      await mkdir(join(dir, 'guard', '2'), { recursive: true });
      const target = join(dir, 'guard', '2', 'model.onnx');
      const third = Math.ceil(bytes.length / 3);
      for (let k = 0; k < 3; k++) {
        await writeFile(target, bytes.subarray(k * third, (k + 1) * third), { flag: k === 0 ? 'w' : 'a' });
        await new Promise((r) => setTimeout(r, 40));
      }
      await waitFor(() => repo.get('guard')?.version === 2, 10_000, 'version 2 to be served');
      expect(failures).to.deep.equal([]);
      // A broken replacement, written atomically (rename), is refused and version 2 keeps serving.
      await writeFile(join(dir, 'tmp.onnx'), Uint8Array.from([1, 2, 3, 4]));
      await mkdir(join(dir, 'guard', '3'), { recursive: true });
      await rename(join(dir, 'tmp.onnx'), join(dir, 'guard', '3', 'model.onnx'));
      await waitFor(
        () => repo.state('guard')?.lastError?.file === join(dir, 'guard', '3', 'model.onnx'),
        10_000,
        'the broken file to be refused',
      );
      expect(repo.state('guard')!.lastError!.reason).to.match(/onnxruntime refused it/);
      expect(repo.get('guard')?.version).to.equal(2);
      expect(repo.state('guard')!.lastError!.file).to.equal(join(dir, 'guard', '3', 'model.onnx'));
      await rm(join(dir, 'guard', '3'), { recursive: true });
    } finally {
      await repo.close();
    }
  });

  it('stops serving a model whose folder is removed, and serves it again when the folder is back', async () => {
    const repo = await watchedRepository(dir);
    try {
      expect(repo.get('guard')?.version).to.equal(1);
      const saved = await readFile(join(dir, 'guard', '1', 'model.onnx'));
      const manifest = await readFile(join(dir, 'guard', 'manifest.json'));
      await rm(join(dir, 'guard'), { recursive: true });
      await waitFor(() => repo.get('guard') === undefined, 10_000, 'guard to stop being served');
      expect(repo.state('guard')).to.deep.include({ state: 'UNAVAILABLE' });
      expect(repo.state('guard')!.lastError!.reason).to.equal('the folder of model "guard" was removed');
      await expect(repo.use('guard', async () => 1)).to.be.rejectedWith(
        /cannot answer: its last load failed: the folder/,
      );
      // Put back (atomically: a folder renamed into place), it serves again.
      await mkdir(join(dir, '.incoming', '1'), { recursive: true });
      await writeFile(join(dir, '.incoming', '1', 'model.onnx'), saved);
      await writeFile(join(dir, '.incoming', 'manifest.json'), manifest);
      await rename(join(dir, '.incoming'), join(dir, 'guard'));
      await waitFor(() => repo.get('guard')?.version === 1, 10_000, 'guard to be served again');
    } finally {
      await repo.close();
    }
  });

  it('loads a model written by the graph builder with a pinned sha256, and refuses a file whose sha256 differs', async () => {
    const g = new GraphBuilder('id');
    g.input('x', 'float32', ['n', 2]);
    g.node('Identity', ['x'], ['y']);
    g.output('y', 'float32', ['n', 2]);
    const bytes = g.toBytes();
    const sha = createHash('sha256').update(bytes).digest('hex');
    const manifest = {
      name: 'ident',
      kind: 'tensor',
      inputs: [{ name: 'x', dtype: 'float32', shape: [-1, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 2] }],
      sha256: { '1': sha, '2': sha },
    };
    await writeModel(dir, 'ident', 1, bytes, manifest);
    await brain.repository!.reload('ident');
    const out = await brain
      .model('ident')
      .run({ x: { type: 'float32', data: Float32Array.from([1, 2]), dims: [1, 2] } });
    expect(Array.from(out.outputs.y!.data as Float32Array)).to.deep.equal([1, 2]);
    await copyFile(join(dir, 'guard', '1', 'model.onnx'), join(dir, 'ident', '1', 'other.onnx'));
    await writeModel(dir, 'ident', 2, linearPolicyBytes(2, 2, 1));
    await expect(brain.repository!.reload('ident')).to.be.rejectedWith(/sha256 is [0-9a-f]{64}, the manifest expects/);
    expect(brain.repository!.get('ident')!.version).to.equal(1);
  });
});
