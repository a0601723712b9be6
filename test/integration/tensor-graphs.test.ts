/**
 * The ONNX graphs other exporters produce, imported with `playmind import` and served
 * through `brain.model(...).run()`, against onnxruntime run directly on the same file:
 * a tf2onnx graph with rank-0 and rank-1 outputs, a dynamic non-batch dim, float16 and
 * int8-quantised models, weights in an external file (model.onnx + model.onnx.data), and
 * an skl2onnx-style ZipMap output (a sequence of maps). The compat folder has none of
 * these, so they are written here with onnx-proto (the SDK's graph builder).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { expect } from '../helpers/chai.js';
import {
  createBrain,
  float16ToFloat32,
  float32ToFloat16,
  FsModelSource,
  HttpModelSource,
  ModelRepository,
  nodeBackend,
  silentLogger,
  type Brain,
} from '../../sdk/index.js';
import { writeModelIndex } from '../../sdk/repository/write-model-index.js';
import { importModel, type ImportResult } from '../../sdk/cli/import.js';
import { parseManifest } from '../../sdk/contract/manifest.js';
import { GraphBuilder } from '../../sdk/onnx/graph-builder.js';
import { tempDir } from '../helpers/compat.js';
import { linearPolicyManifest, writeModel } from '../helpers/models.js';

const { onnx } = onnxProto;

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 4 - 2);
}

const weights = (n: number, seed: number) => Array.from(values(n, seed), (x) => x / 2);

/** tf2onnx-style: x [unk__1, 4] → total (rank 0, sum over every row) and column maxima (rank 1, [4]). */
function scalarBytes(): Uint8Array {
  const g = new GraphBuilder('tf2onnx-scalar');
  g.input('x', 'float32', ['unk__1', 4]);
  g.node('ReduceSum', ['x', g.int64s('all_axes', [0, 1], [2])], ['total'], { keepdims: 0 });
  g.node('ReduceMax', ['x'], ['column_max'], { keepdims: 0, axes: [0] });
  g.output('total', 'float32', []);
  g.output('column_max', 'float32', [4]);
  return g.toBytes(13, 'tf2onnx');
}

/** A classifier with a rank-1 label output: x [batch, 4] → label int64 [batch], scores [batch, 3]. */
function labelBytes(): Uint8Array {
  const g = new GraphBuilder('label');
  g.input('x', 'float32', ['batch', 4]);
  const scores = g.dense('x', weights(12, 1), [0.1, 0, -0.1], 4, 3, 'scores');
  g.node('ArgMax', [scores], ['label'], { axis: 1, keepdims: 0 });
  g.output('label', 'int64', ['batch']);
  g.output('scores', 'float32', ['batch', 3]);
  return g.toBytes(13, 'pytorch');
}

/** A sequence model: x [batch, seq, 4] (seq dynamic) → mean over the sequence → y [batch, 2]. */
function sequenceBytes(): Uint8Array {
  const g = new GraphBuilder('sequence');
  g.input('x', 'float32', ['batch', 'seq', 4]);
  const mean = g.node('ReduceMean', ['x'], undefined, { axes: [1], keepdims: 0 });
  g.dense(mean, weights(8, 2), [0, 0.5], 4, 2, 'y');
  g.output('y', 'float32', ['batch', 2]);
  return g.toBytes(13, 'pytorch');
}

/** float16 in and out, float16 weights: x f16 [batch, 4] → y f16 [batch, 3]. */
function halfBytes(): Uint8Array {
  const g = new GraphBuilder('half');
  g.input('x', 'float16', ['batch', 4]);
  const w = g.tensor('w16', 'float16', float32ToFloat16(weights(12, 3)), [4, 3]);
  const x32 = g.node('Cast', ['x'], undefined, { to: onnx.TensorProto.DataType.FLOAT });
  const w32 = g.node('Cast', [w], undefined, { to: onnx.TensorProto.DataType.FLOAT });
  const y32 = g.node('MatMul', [x32, w32]);
  g.node('Cast', [y32], ['y'], { to: onnx.TensorProto.DataType.FLOAT16 });
  g.output('y', 'float16', ['batch', 3]);
  return g.toBytes(13, 'onnxconverter-common float16');
}

/** As onnxruntime's quantize_dynamic writes it: int8 weights, DynamicQuantizeLinear + MatMulInteger. */
function int8Bytes(): { bytes: Uint8Array; w: number[]; scale: number } {
  const g = new GraphBuilder('int8');
  g.input('x', 'float32', ['batch', 4]);
  const wf = weights(12, 4);
  const scale = Math.max(...wf.map(Math.abs)) / 127;
  const wq = wf.map((x) => Math.round(x / scale));
  const w = g.tensor('w_quantized', 'int8', wq, [4, 3]);
  const wzp = g.tensor('w_zero_point', 'int8', [0], []);
  const [xq, xs, xzp] = ['x_quantized', 'x_scale', 'x_zero_point'];
  g.node('DynamicQuantizeLinear', ['x'], [xq, xs, xzp]);
  const acc = g.node('MatMulInteger', [xq, w, xzp, wzp]);
  const accF = g.node('Cast', [acc], undefined, { to: onnx.TensorProto.DataType.FLOAT });
  const both = g.node('Mul', [xs, g.floats('w_scale', [scale], [])]);
  g.node('Mul', [accF, both], ['y']);
  g.output('y', 'float32', ['batch', 3]);
  return { bytes: g.toBytes(13, 'onnx.quantize'), w: wq.map((q) => q * scale), scale };
}

/** A policy-sized MLP with every weight in an external file. */
function externalFiles(): { model: Uint8Array; data: Uint8Array } {
  const g = new GraphBuilder('external');
  g.input('obs', 'float32', ['batch', 16]);
  const h = g.node('Relu', [g.dense('obs', weights(16 * 64, 5), weights(64, 6), 16, 64)]);
  g.dense(h, weights(64 * 4, 7), weights(4, 8), 64, 4, 'logits');
  g.output('logits', 'float32', ['batch', 4]);
  return g.toFilesWithExternalData('model.onnx.data');
}

/** skl2onnx's classifier outputs: output_label int64 [N] and output_probability, a ZipMap sequence of maps. */
function zipMapBytes(withLabel: boolean): Uint8Array {
  const g = new GraphBuilder('skl2onnx');
  g.domain('ai.onnx.ml', 1);
  g.input('float_input', 'float32', ['N', 4]);
  const p = g.node('Softmax', [g.dense('float_input', weights(12, 9), [0, 0, 0], 4, 3)], undefined, { axis: 1 });
  if (withLabel) {
    g.node('ArgMax', [p], ['output_label'], { axis: 1, keepdims: 0 });
    g.output('output_label', 'int64', ['N']);
  }
  g.node('ZipMap', [p], ['output_probability'], { classlabels_int64s: [0, 1, 2] }, 'ai.onnx.ml');
  g.outputOf('output_probability', {
    sequenceType: {
      elemType: {
        mapType: { keyType: onnx.TensorProto.DataType.INT64, valueType: { tensorType: { elemType: 1 } } },
      },
    },
  });
  return g.toBytes(13, 'skl2onnx');
}

describe('odd ONNX graphs through import and model().run(), like onnxruntime', function () {
  this.timeout(60_000);
  let dir: string;
  let models: string;
  let cleanup: () => Promise<void>;
  let brain: Brain;
  const file = (name: string) => join(dir, `${name}.onnx`);
  const imported: Record<string, ImportResult> = {};
  const direct = (name: string) => ort.InferenceSession.create(file(name));

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    models = join(dir, 'models');
    const ext = externalFiles();
    const int8 = int8Bytes();
    const sources: Record<string, Uint8Array> = {
      scalar: scalarBytes(),
      label: labelBytes(),
      sequence: sequenceBytes(),
      half: halfBytes(),
      int8: int8.bytes,
      external: ext.model,
      zipmap: zipMapBytes(true),
    };
    for (const [name, bytes] of Object.entries(sources)) await writeFile(file(name), bytes);
    await writeFile(join(dir, 'model.onnx.data'), ext.data);
    for (const name of Object.keys(sources)) imported[name] = await importModel(file(name), { into: models });
    brain = await createBrain({ mode: 'local', models, logger: silentLogger });
  });

  after(async () => {
    await brain?.close();
    await cleanup?.();
  });

  it('a tf2onnx rank-0 output: run() returns the scalar whole, each request alone (never merged with others)', async () => {
    const r = imported.scalar!;
    expect(r.kind).to.equal('tensor');
    expect(r.recognised.join('\n')).to.include('produced by tf2onnx');
    expect(r.assumed.join('\n')).to.include('output "total" is a scalar (rank 0)');
    const m = parseManifest(await readFile(join(models, 'scalar', 'manifest.json'), 'utf8'));
    expect(m.batching).to.deep.equal({ maxBatchSize: 1 });
    expect(m.outputs).to.deep.equal([
      { name: 'total', dtype: 'float32', shape: [] },
      { name: 'column_max', dtype: 'float32', shape: [4] },
    ]);
    const session = await direct('scalar');
    const inputs = [2, 3, 1, 5].map((rows, i) => values(rows * 4, 10 + i));
    const got = await Promise.all(
      inputs.map((x) => brain.model('scalar').run({ x: { type: 'float32', data: x, dims: [x.length / 4, 4] } })),
    );
    for (let i = 0; i < inputs.length; i++) {
      const want = await session.run({ x: new ort.Tensor('float32', inputs[i]!, [inputs[i]!.length / 4, 4]) });
      const out = got[i]!.outputs;
      expect(out.total!.dims).to.deep.equal([]);
      expect(Array.from(out.total!.data as Float32Array)).to.deep.equal(Array.from(want.total!.data as Float32Array));
      expect(out.column_max!.dims).to.deep.equal([4]);
      expect(Array.from(out.column_max!.data as Float32Array)).to.deep.equal(
        Array.from(want.column_max!.data as Float32Array),
      );
    }
    await session.release();
  });

  it('a rank-1 output with a dynamic batch: concurrent requests are merged and each gets its own labels', async () => {
    expect(imported.label!.assumed.join('\n')).to.include('dim 0 of every input and output is the batch');
    const session = await direct('label');
    const inputs = [1, 4, 2, 7].map((rows, i) => values(rows * 4, 20 + i));
    const got = await Promise.all(
      inputs.map((x) => brain.model('label').run({ x: { type: 'float32', data: x, dims: [x.length / 4, 4] } })),
    );
    const all = new Set<number>();
    for (let i = 0; i < inputs.length; i++) {
      const want = await session.run({ x: new ort.Tensor('float32', inputs[i]!, [inputs[i]!.length / 4, 4]) });
      const label = got[i]!.outputs.label!;
      expect(label.dims).to.deep.equal([inputs[i]!.length / 4]);
      expect(Array.from(label.data as BigInt64Array)).to.deep.equal(Array.from(want.label!.data as BigInt64Array));
      for (const x of label.data as BigInt64Array) all.add(Number(x));
    }
    expect(all.size, 'the inputs lead to different labels').to.be.above(1);
    await session.release();
  });

  it('a dynamic non-batch dim (sequence length): requests of different lengths each answer like onnxruntime', async () => {
    expect(imported.sequence!.assumed.join('\n')).to.include('dynamic dims besides the batch (dim 1 of x)');
    const session = await direct('sequence');
    const shapes = [
      [2, 3],
      [1, 5],
      [3, 3],
      [2, 1],
    ];
    const inputs = shapes.map(([b, s], i) => ({ dims: [b!, s!, 4], data: values(b! * s! * 4, 30 + i) }));
    const got = await Promise.all(
      inputs.map((t) => brain.model('sequence').run({ x: { type: 'float32', data: t.data, dims: t.dims } })),
    );
    for (let i = 0; i < inputs.length; i++) {
      const want = await session.run({ x: new ort.Tensor('float32', inputs[i]!.data, inputs[i]!.dims) });
      expect(got[i]!.outputs.y!.dims).to.deep.equal([inputs[i]!.dims[0], 2]);
      expect(Array.from(got[i]!.outputs.y!.data as Float32Array)).to.deep.equal(
        Array.from(want.y!.data as Float32Array),
      );
    }
    await session.release();
  });

  it('a float16 model: run() takes and returns half-precision bits, equal to onnxruntime', async () => {
    const text = imported.half!.recognised.join('\n');
    expect(text).to.include('float16 tensors: x, y');
    expect(text).to.include('float16 weights: 1 tensor(s)');
    const session = await direct('half');
    const x = float32ToFloat16(values(5 * 4, 40));
    const [got, want] = await Promise.all([
      brain.model('half').run({ x: { type: 'float16', data: x, dims: [5, 4] } }),
      session.run({ x: new ort.Tensor('float16', x, [5, 4]) }),
    ]);
    const y = got.outputs.y!;
    expect(y.type).to.equal('float16');
    expect(Array.from(y.data as Uint16Array)).to.deep.equal(Array.from(want.y!.data as Uint16Array));
    expect(Array.from(float16ToFloat32(y.data as Uint16Array)).every(Number.isFinite)).to.equal(true);
    await session.release();
  });

  it('a float16 policy: decide() converts the observations to half and the logits back, choosing as onnxruntime', async () => {
    const { dir: other, cleanup: done } = await tempDir();
    try {
      const g = new GraphBuilder('half-policy');
      g.input('obs', 'float16', ['batch', 6]);
      const x = g.node('Cast', ['obs'], undefined, { to: onnx.TensorProto.DataType.FLOAT });
      const logits = g.dense(x, weights(24, 12), [0, 0.1, 0, -0.1], 6, 4);
      g.node('Cast', [logits], ['logits'], { to: onnx.TensorProto.DataType.FLOAT16 });
      g.output('logits', 'float16', ['batch', 4]);
      const bytes = g.toBytes(13, 'onnxconverter-common float16');
      const manifest = linearPolicyManifest('half-policy', 6, 4, {
        inputs: [{ name: 'obs', dtype: 'float16', shape: [-1, 6] }],
        outputs: [{ name: 'logits', dtype: 'float16', shape: [-1, 4] }],
      });
      await writeModel(other, 'half-policy', 1, bytes, manifest);
      const local = await createBrain({ mode: 'local', models: other, logger: silentLogger });
      const session = await ort.InferenceSession.create(bytes);
      try {
        const obs = Array.from({ length: 16 }, (_, i) => values(6, 80 + i));
        const decisions = await local.policy('half-policy').decide(obs);
        const flat = new Float32Array(16 * 6);
        obs.forEach((o, i) => flat.set(o, i * 6));
        const out = await session.run({ obs: new ort.Tensor('float16', float32ToFloat16(flat), [16, 6]) });
        const scores = float16ToFloat32(out.logits!.data as Uint16Array);
        const want = obs.map((_, i) => {
          const row = Array.from(scores.subarray(i * 4, i * 4 + 4));
          return row.indexOf(Math.max(...row));
        });
        expect(decisions.map((d) => d.index)).to.deep.equal(want);
        expect(new Set(want).size, 'varied actions').to.be.above(1);
        expect(decisions[0]!.probabilities).to.be.instanceOf(Float32Array);
      } finally {
        await session.release();
        await local.close();
      }
    } finally {
      await done();
    }
  });

  it('an int8-quantised model (DynamicQuantizeLinear + MatMulInteger): equal to onnxruntime, close to the float product', async () => {
    expect(imported.int8!.recognised.join('\n')).to.include(
      'quantised: 2 int8/uint8 weight tensor(s), operators DynamicQuantizeLinear, MatMulInteger',
    );
    const { w } = int8Bytes();
    const session = await direct('int8');
    const x = values(6 * 4, 50);
    const [got, want] = await Promise.all([
      brain.model('int8').run({ x: { type: 'float32', data: x, dims: [6, 4] } }),
      session.run({ x: new ort.Tensor('float32', x, [6, 4]) }),
    ]);
    const y = got.outputs.y!.data as Float32Array;
    expect(Array.from(y)).to.deep.equal(Array.from(want.y!.data as Float32Array));
    for (let r = 0; r < 6; r++)
      for (let c = 0; c < 3; c++) {
        let exact = 0;
        for (let k = 0; k < 4; k++) exact += x[r * 4 + k]! * w[k * 3 + c]!;
        expect(y[r * 3 + c]).to.be.closeTo(exact, 0.1);
      }
    await session.release();
  });

  it('external weights (model.onnx + model.onnx.data): import carries the data file into the version folder and the repository loads it', async () => {
    const r = imported.external!;
    expect(r.recognised.join('\n')).to.match(
      /external weights: model\.onnx\.data \(0\.\d\d MiB\), copied beside model\.onnx/,
    );
    expect((await readdir(join(models, 'external', '1'))).sort()).to.deep.equal(['model.onnx', 'model.onnx.data']);
    expect(await readFile(join(models, 'external', '1', 'model.onnx.data'))).to.deep.equal(
      await readFile(join(dir, 'model.onnx.data')),
    );
    const session = await direct('external'); // onnxruntime finds model.onnx.data beside the file
    const obs = values(3 * 16, 60);
    const [got, want] = await Promise.all([
      brain.model('external').run({ obs: { type: 'float32', data: obs, dims: [3, 16] } }),
      session.run({ obs: new ort.Tensor('float32', obs, [3, 16]) }),
    ]);
    expect(Array.from(got.outputs.logits!.data as Float32Array)).to.deep.equal(
      Array.from(want.logits!.data as Float32Array),
    );
    await session.release();
  });

  it('external weights: a folder placed by hand loads; a missing data file is refused naming it', async () => {
    const { dir: other, cleanup: done } = await tempDir();
    try {
      const { model, data } = externalFiles();
      const manifest = JSON.parse(await readFile(join(models, 'external', 'manifest.json'), 'utf8')) as object;
      await writeModel(other, 'by-hand', 1, model, { ...manifest, name: 'by-hand', sha256: undefined });
      await writeFile(join(other, 'by-hand', '1', 'model.onnx.data'), data);
      const local = await createBrain({ mode: 'local', models: other, logger: silentLogger });
      try {
        const out = await local
          .model('by-hand')
          .run({ obs: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } });
        expect(out.outputs.logits!.dims).to.deep.equal([1, 4]);
      } finally {
        await local.close();
      }
      await rm(join(other, 'by-hand', '1', 'model.onnx.data'));
      await writeFile(join(other, 'lonely.onnx'), model);
      await expect(importModel(join(other, 'lonely.onnx'), { into: join(other, 'models') }))
        .to.be.rejectedWith(/lonely\.onnx: its weights are in "model\.onnx\.data" beside it, which cannot be read/)
        .and.eventually.have.property('code', 'model_load_failed');
    } finally {
      await done();
    }
  });

  it('external weights: a repository over HTTP (a browser game) fetches the data file beside model.onnx', async () => {
    await writeModelIndex(models);
    const requested: string[] = [];
    const server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url!, 'http://x').pathname));
      requested.push(path);
      readFile(join(models, path)).then(
        (body) => res.end(body),
        () => {
          res.statusCode = 404;
          res.end();
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const repo = new ModelRepository({
      source: new HttpModelSource(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
      backend: nodeBackend(),
      logger: silentLogger,
    });
    try {
      const v = await repo.reload('external');
      const obs = values(2 * 16, 61);
      const out = await v.session.run({ obs: { type: 'float32', data: obs, dims: [2, 16] } });
      const session = await direct('external');
      const want = await session.run({ obs: new ort.Tensor('float32', obs, [2, 16]) });
      expect(Array.from(out.logits!.data as Float32Array)).to.deep.equal(Array.from(want.logits!.data as Float32Array));
      await session.release();
      expect(requested).to.include('/external/1/model.onnx.data');
    } finally {
      await repo.close();
      server.close();
    }
  });

  it('external weights named outside the model folder are refused at import and at load', async () => {
    const { dir: other, cleanup: done } = await tempDir();
    try {
      const g = new GraphBuilder('escape');
      g.input('x', 'float32', ['batch', 2]);
      g.dense('x', [1, 2, 3, 4], [0, 0], 2, 2, 'y');
      g.output('y', 'float32', ['batch', 2]);
      const { model, data } = g.toFilesWithExternalData('../outside.bin');
      await writeFile(join(other, 'outside.bin'), data);
      await writeModel(other, 'escape', 1, model);
      await writeFile(join(other, 'escape', 'escape.onnx'), model);
      await expect(
        importModel(join(other, 'escape', 'escape.onnx'), { into: join(other, 'models') }),
      ).to.be.rejectedWith(/escape\.onnx: its weights are in "\.\.\/outside\.bin", which is not a file beside it/);
      await writeFile(
        join(other, 'escape', 'manifest.json'),
        JSON.stringify({
          name: 'escape',
          kind: 'tensor',
          inputs: [{ name: 'x', dtype: 'float32', shape: [-1, 2] }],
          outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 2] }],
        }),
      );
      const repo = new ModelRepository({
        source: new FsModelSource(other),
        backend: nodeBackend(),
        logger: silentLogger,
      });
      try {
        await expect(repo.reload('escape')).to.be.rejectedWith(
          /model\.onnx: its weights are in "\.\.\/outside\.bin", outside the version folder/,
        );
      } finally {
        await repo.close();
      }
    } finally {
      await done();
    }
  });

  it('an skl2onnx ZipMap output (a sequence of maps) is left out, named, and the tensor outputs are served', async () => {
    const r = imported.zipmap!;
    expect(r.kind).to.equal('tensor');
    expect(r.assumed.join('\n')).to.include(
      'left out of the manifest: "output_probability" (sequence(map(int64, float32))) — onnxruntime\'s JavaScript API returns tensors only',
    );
    const m = await brain.model('zipmap').manifest();
    expect(m.outputs.map((o) => o.name)).to.deep.equal(['output_label']);
    const session = await direct('zipmap');
    const x = values(5 * 4, 70);
    const got = await brain.model('zipmap').run({ float_input: { type: 'float32', data: x, dims: [5, 4] } });
    expect(Object.keys(got.outputs)).to.deep.equal(['output_label']);
    const want = await session.run({ float_input: new ort.Tensor('float32', x, [5, 4]) }, ['output_label']);
    expect(Array.from(got.outputs.output_label!.data as BigInt64Array)).to.deep.equal(
      Array.from(want.output_label!.data as BigInt64Array),
    );
    await expect(
      brain
        .model('zipmap')
        .run({ float_input: { type: 'float32', data: x, dims: [5, 4] } }, { fetches: ['output_probability'] }),
    ).to.be.rejectedWith(/unknown output "output_probability" \(outputs: output_label\)/);
    await session.release();
  });

  it('a model whose only output is a ZipMap is refused at import, naming the output and why', async () => {
    await writeFile(file('zipmap-only'), zipMapBytes(false));
    const err = await importModel(file('zipmap-only'), { into: models }).catch((e: unknown) => e);
    expect(err).to.have.property('code', 'model_load_failed');
    expect((err as Error).message).to.include(
      "zipmap-only.onnx: zipmap-only: no output can be served: \"output_probability\" is a sequence(map(int64, float32)). onnxruntime's JavaScript API returns tensors only; re-export the model with tensor outputs (skl2onnx: options={'zipmap': False})",
    );
    expect(await readdir(models)).to.not.include('zipmap-only');
  });
});
