import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { expect } from '../helpers/chai.js';
import { compatFile, REPO_ROOT } from '../helpers/compat.js';
import { tensor, type Backend, type BackendSession, type Tensor } from '../../sdk/engine/backend.js';
import { nodeBackend } from '../../sdk/engine/backend-node.js';
import { workerBackend } from '../../sdk/engine/backend-worker.js';
import { GraphBuilder } from '../../sdk/onnx/graph-builder.js';
import { mlpPolicyBytes } from '../bench/engine.js';

const run = promisify(execFile);
/** Bound on child processes (compiling, running the compiled backend); PLAYMIND_TEST_CHILD_MS overrides. */
const CHILD_MS = Number(process.env.PLAYMIND_TEST_CHILD_MS) || 90_000;

const MLP = [16, 32, 32, 5];

function obs(rows: number, width: number, seed = 0): Float32Array {
  return Float32Array.from({ length: rows * width }, (_, i) => Math.sin(i * 0.61 + seed) * 3);
}

/** ids:int64[b,3] → sum = ids + 1 (int64); x:float32[b,4] → best = argmax(x) (int64[b,1]). */
function int64Model(): Uint8Array {
  const g = new GraphBuilder('int64');
  g.input('ids', 'int64', ['batch', 3]);
  g.input('x', 'float32', ['batch', 4]);
  const one = g.int64s('one', [1], [1]);
  g.node('Add', ['ids', one], ['sum']);
  g.node('ArgMax', ['x'], ['best'], { axis: 1, keepdims: 1 });
  g.output('sum', 'int64', ['batch', 3]);
  g.output('best', 'int64', ['batch', 1]);
  return g.toBytes();
}

/** Counts turns of the event loop (setImmediate callbacks) until `p` settles. */
async function loopTurnsDuring(start: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let running = true;
  const spin = () => {
    if (!running) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  try {
    await start();
  } finally {
    running = false;
  }
  return turns;
}

const values = (t: Tensor | undefined) => Array.from(t!.data as ArrayLike<number | bigint>);

describe('workerBackend', () => {
  let backend: Backend;
  const sessions: BackendSession[] = [];
  const open = async (b: Backend, bytes: Uint8Array) => {
    const s = await b.createSession(bytes);
    sessions.push(s);
    return s;
  };

  beforeEach(() => {
    backend = workerBackend();
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.release().catch(() => undefined)));
    await backend.dispose?.();
  });

  it('answers exactly like the node backend on the same model', async () => {
    const bytes = mlpPolicyBytes(MLP);
    const [w, n] = [await open(backend, bytes), await open(nodeBackend(), bytes)];
    expect(w.inputs).to.deep.equal(n.inputs);
    expect(w.outputs).to.deep.equal(n.outputs);
    for (const rows of [1, 7, 64]) {
      const feeds = { obs: tensor('float32', obs(rows, MLP[0]!, rows), [rows, MLP[0]!]) };
      const [a, b] = [await w.run(feeds), await n.run(feeds)];
      expect(a.logits!.type).to.equal('float32');
      expect(a.logits!.dims).to.deep.equal([rows, MLP[3]!]);
      expect(a.logits!.data).to.be.instanceOf(Float32Array);
      expect(values(a.logits)).to.deep.equal(values(b.logits));
    }
  });

  it('answers like the node backend on an ML-Agents model (int64 discrete actions)', async function () {
    const bytes = new Uint8Array(await readFile(compatFile(this, 'mlagents', 'Basic.onnx')));
    const [w, n] = [await open(backend, bytes), await open(nodeBackend(), bytes)];
    const feeds = {
      obs_0: tensor(
        'float32',
        Float32Array.from({ length: 32 * 20 }, (_, i) => (i % 20 === ((i / 20) | 0) % 20 ? 1 : 0)),
        [32, 20],
      ),
      action_masks: tensor('float32', new Float32Array(32 * 3).fill(1), [32, 3]),
    };
    const fetches = ['deterministic_discrete_actions'];
    const [a, b] = [await w.run(feeds, fetches), await n.run(feeds, fetches)];
    expect(Object.keys(a)).to.deep.equal(fetches);
    expect(a.deterministic_discrete_actions!.data).to.be.instanceOf(BigInt64Array);
    expect(a.deterministic_discrete_actions!.dims).to.deep.equal([32, 1]);
    expect(values(a.deterministic_discrete_actions)).to.deep.equal(values(b.deterministic_discrete_actions));
  });

  it('carries int64 tensors both ways as BigInt64Array, beyond 2^53', async () => {
    const s = await open(backend, int64Model());
    const big = 2n ** 60n + 1n;
    const out = await s.run({
      ids: tensor('int64', BigInt64Array.from([big, -5n, 0n, 7n, 8n, 9n]), [2, 3]),
      x: tensor('float32', Float32Array.from([0, 3, 1, 2, 9, 0, 0, 1]), [2, 4]),
    });
    expect(out.sum!.type).to.equal('int64');
    expect(out.sum!.data).to.be.instanceOf(BigInt64Array);
    expect(values(out.sum)).to.deep.equal([big + 1n, -4n, 1n, 8n, 9n, 10n]);
    expect(values(out.best)).to.deep.equal([1n, 0n]);
  });

  it('computes only the fetched outputs', async () => {
    const s = await open(backend, int64Model());
    const out = await s.run(
      {
        ids: tensor('int64', new BigInt64Array(3), [1, 3]),
        x: tensor('float32', Float32Array.from([0, 0, 5, 0]), [1, 4]),
      },
      ['best'],
    );
    expect(Object.keys(out)).to.deep.equal(['best']);
    expect(values(out.best)).to.deep.equal([2n]);
  });

  it("leaves the caller's input arrays intact (inputs are copied, not moved)", async () => {
    const s = await open(backend, mlpPolicyBytes(MLP));
    const big = obs(4, MLP[0]!);
    const view = big.subarray(MLP[0]!, 3 * MLP[0]!);
    const before = Array.from(view);
    const out = await s.run({ obs: tensor('float32', view, [2, MLP[0]!]) });
    expect(view.length).to.equal(2 * MLP[0]!);
    expect(big.length).to.equal(4 * MLP[0]!);
    expect(Array.from(view)).to.deep.equal(before);
    expect(out.logits!.dims).to.deep.equal([2, MLP[3]!]);
  });

  it("refuses bytes that are not a model with onnxruntime's message", async () => {
    const junk = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
    const expected = await nodeBackend()
      .createSession(junk)
      .then(
        () => 'loaded',
        (e: Error) => e.message,
      );
    expect(expected).to.not.equal('loaded');
    await expect(backend.createSession(junk)).to.be.rejectedWith(Error, expected);
  });

  it("refuses the broken compat model with onnxruntime's message", async function () {
    const bytes = new Uint8Array(
      await readFile(compatFile(this, 'negative', 'deterDiscrete1obs3action_v2_0.yiqide-invalid.onnx')),
    );
    const expected = await nodeBackend()
      .createSession(bytes)
      .then(
        () => 'loaded',
        (e: Error) => e.message,
      );
    expect(expected).to.not.equal('loaded');
    await expect(backend.createSession(bytes)).to.be.rejectedWith(Error, expected);
  });

  it("rejects a run with bad feeds with onnxruntime's message, and keeps serving", async () => {
    const bytes = mlpPolicyBytes(MLP);
    const [w, n] = [await open(backend, bytes), await open(nodeBackend(), bytes)];
    const bad = { obs: tensor('float32', new Float32Array(2 * 3), [2, 3]) };
    const expected = await n.run(bad).then(
      () => 'ran',
      (e: Error) => e.message,
    );
    expect(expected).to.not.equal('ran');
    await expect(w.run(bad)).to.be.rejectedWith(Error, expected);
    const ok = await w.run({ obs: tensor('float32', obs(1, MLP[0]!), [1, MLP[0]!]) });
    expect(ok.logits!.dims).to.deep.equal([1, MLP[3]!]);
  });

  it('checks its arguments', async () => {
    expect(() => workerBackend({ threads: 0 })).to.throw(RangeError, "'threads'");
    expect(() => workerBackend({ threads: 1.5 })).to.throw(RangeError, "'threads'");
    await expect(backend.createSession('model.onnx' as unknown as Uint8Array)).to.be.rejectedWith(TypeError, "'model'");
  });

  it("keeps the main thread's event loop turning while a heavy batch runs", async function () {
    // A batch of 4096 rows through 64→512→512→8 takes tens of ms or more of native compute.
    const bytes = mlpPolicyBytes([64, 512, 512, 8]);
    const feeds = { obs: tensor('float32', obs(4096, 64), [4096, 64]) };
    const main = await open(nodeBackend(), bytes);
    const worker = await open(backend, bytes);
    await worker.run(feeds);
    await main.run(feeds);
    const onMain = await loopTurnsDuring(() => main.run(feeds));
    const onWorker = await loopTurnsDuring(() => worker.run(feeds));
    // onnxruntime-node runs the whole batch inside one callback: the loop stands still.
    expect(onMain).to.be.at.most(3);
    // On a worker the loop keeps going, turn after turn, for the whole run.
    expect(onWorker).to.be.at.least(50);
  });

  it('runs sessions on different threads side by side', async () => {
    const pool = workerBackend({ threads: 2 });
    try {
      const heavy = await pool.createSession(mlpPolicyBytes([64, 512, 512, 8]));
      const light = await pool.createSession(mlpPolicyBytes(MLP));
      const order: string[] = [];
      const big = heavy.run({ obs: tensor('float32', obs(4096, 64), [4096, 64]) }).then(() => order.push('heavy'));
      const small = light
        .run({ obs: tensor('float32', obs(1, MLP[0]!), [1, MLP[0]!]) })
        .then(() => order.push('light'));
      await Promise.all([big, small]);
      expect(order).to.deep.equal(['light', 'heavy']);
    } finally {
      await pool.dispose?.();
    }
  });

  it('finishes runs in flight at release and dispose, then refuses new work', async () => {
    const s = await backend.createSession(mlpPolicyBytes(MLP));
    const feeds = { obs: tensor('float32', obs(2, MLP[0]!), [2, MLP[0]!]) };
    const inFlight = s.run(feeds);
    const released = s.release();
    expect((await inFlight).logits!.dims).to.deep.equal([2, MLP[3]!]);
    await released;
    await expect(s.run(feeds)).to.be.rejectedWith(Error, 'released');

    const t = await backend.createSession(mlpPolicyBytes(MLP));
    const last = t.run(feeds);
    const disposed = backend.dispose!();
    expect((await last).logits!.dims).to.deep.equal([2, MLP[3]!]);
    await disposed;
    await expect(t.run(feeds)).to.be.rejectedWith(Error, 'disposed');
    await expect(backend.createSession(mlpPolicyBytes(MLP))).to.be.rejectedWith(Error, 'disposed');
  });

  it('runs from compiled JavaScript without tsx, and the process exits after dispose', async function () {
    this.timeout(CHILD_MS * 2);
    await mkdir(join(REPO_ROOT, '.tmp'), { recursive: true });
    const out = await mkdtemp(join(REPO_ROOT, '.tmp', 'worker-dist-'));
    try {
      const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      await run(
        process.execPath,
        [
          tsc,
          '--outDir',
          out,
          '--rootDir',
          REPO_ROOT,
          '--module',
          'NodeNext',
          '--moduleResolution',
          'NodeNext',
          '--target',
          'ES2022',
          '--strict',
          '--skipLibCheck',
          '--esModuleInterop',
          '--resolveJsonModule',
          '--types',
          'node',
          join(REPO_ROOT, 'sdk/engine/backend-worker.ts'),
          join(REPO_ROOT, 'sdk/engine/backend-worker-thread.ts'),
        ],
        { cwd: REPO_ROOT, timeout: CHILD_MS },
      );
      const bytes = mlpPolicyBytes(MLP);
      await writeFile(join(out, 'model.onnx'), bytes);
      const input = Array.from(obs(3, MLP[0]!));
      const script = `
        import { readFile } from 'node:fs/promises';
        import { workerBackend } from ${JSON.stringify(pathToFileURL(join(out, 'sdk/engine/backend-worker.js')).href)};
        const backend = workerBackend();
        const s = await backend.createSession(new Uint8Array(await readFile(${JSON.stringify(join(out, 'model.onnx'))})));
        const r = await s.run({ obs: { type: 'float32', data: Float32Array.from(${JSON.stringify(input)}), dims: [3, ${MLP[0]}] } });
        await backend.dispose();
        process.stdout.write(JSON.stringify(Array.from(r.logits.data)));
      `;
      // Plain node: no tsx loader, so the worker must be the compiled .js file.
      const child = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: out,
        timeout: CHILD_MS,
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      const direct = await (
        await open(nodeBackend(), bytes)
      ).run({ obs: tensor('float32', Float32Array.from(input), [3, MLP[0]!]) });
      expect(JSON.parse(child.stdout)).to.deep.equal(values(direct.logits));
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
