/**
 * KServe v2 over gRPC against a real server on 127.0.0.1, with a generic client built
 * from the `.proto` file alone (`@grpc/proto-loader` with its default options, so field
 * names are camelCase and int64 are Long objects — nothing of the server's own code):
 * the health and metadata RPCs, ModelInfer on the shipped npc-guard and on the ONNX
 * Model Zoo MNIST with typed and raw contents, compared with REST and with onnxruntime
 * run directly; each error's gRPC status next to the REST status of the same request.
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as ort from 'onnxruntime-node';
import { importModel } from '../../sdk/cli/import.js';
import { expect } from '../helpers/chai.js';
import { REPO_ROOT, requireCompat, tempDir, waitFor } from '../helpers/compat.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';
import { metricValue, prng, startTestServer, type TestServer } from '../helpers/server.js';

const PROTO = join(REPO_ROOT, 'server', 'grpc', 'proto', 'open_inference_grpc.proto');
const GUARD_FEATURES = 24;
const MAX_DEADLINE_MS = 1500;

/** Messages as proto-loader's defaults decode them (camelCase, int64 as Long). */
interface Long {
  toString(): string;
}
interface Contents {
  fp32Contents?: number[];
  intContents?: number[];
  int64Contents?: Long[];
  bytesContents?: Buffer[];
}
interface InferResponse {
  modelName: string;
  modelVersion: string;
  id?: string;
  outputs: Array<{ name: string; datatype: string; shape: Long[]; contents?: Contents }>;
  rawOutputContents?: Buffer[];
}
type Unary = (
  req: object,
  meta: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: unknown) => void,
) => void;
type InferenceClient = grpc.Client & Record<string, Unary>;

/** Calls one unary RPC; resolves with the response or rejects with the ServiceError. */
function rpc<T>(client: InferenceClient, method: string, req: object, deadlineMs?: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const opts: grpc.CallOptions = deadlineMs ? { deadline: Date.now() + deadlineMs } : {};
    client[method]!.call(client, req, new grpc.Metadata(), opts, (err, res) => (err ? reject(err) : resolve(res as T)));
  });
}

/** The status and Playmind code of a failed call. */
async function failure(p: Promise<unknown>): Promise<{ code: string; playmind: string; details: string }> {
  const err = (await p.then(
    () => {
      throw new Error('the call succeeded; it should have failed');
    },
    (e: unknown) => e,
  )) as grpc.ServiceError;
  if (!(err instanceof Error) || typeof err.code !== 'number') throw err;
  return {
    code: grpc.status[err.code],
    playmind: String(err.metadata?.get('playmind-error-code')[0] ?? ''),
    details: err.details,
  };
}

const num = (l: Long | number) => Number(l.toString());
const f32 = (b: Buffer) => Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
const rawOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
/** Values as Float32 rounds them (what fp32 contents and JSON of an FP32 output carry). */
const asF32 = (a: ArrayLike<number>) => Array.from(Float32Array.from(a));

function observations(rows: number, seed: number): Float32Array {
  const r = prng(seed);
  return Float32Array.from({ length: rows * GUARD_FEATURES }, () => r() * 2 - 1);
}

/** A 28×28 "7": a top bar and a diagonal, pixel values 0..255. */
function digitSeven(): Float32Array {
  const img = new Float32Array(28 * 28);
  for (let x = 6; x < 22; x++) for (let y = 5; y < 8; y++) img[y * 28 + x] = 255;
  for (let y = 8; y < 24; y++) for (let d = 0; d < 3; d++) img[y * 28 + Math.round(21 - (y - 8) * 0.55) + d] = 255;
  return img;
}

describe('server: KServe v2 gRPC (generic client from the .proto)', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let t: TestServer;
  let client: InferenceClient;
  let mnistFile: string;
  const url = (p: string) => `${t.server.url}${p}`;
  const rest = (p: string, body: unknown) =>
    fetch(url(p), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  before(async function () {
    const compat = requireCompat(this);
    mnistFile = join(compat, 'classic', 'mnist-8.onnx');
    ({ dir, cleanup } = await tempDir('playmind-grpc-'));
    await cp(join(REPO_ROOT, 'models', 'npc-guard'), join(dir, 'npc-guard'), { recursive: true });
    await importModel(mnistFile, { into: dir, name: 'mnist' });
    // "held": a batching delay longer than the server's deadline, and room for one row in its queue.
    await writeModel(
      dir,
      'held',
      1,
      linearPolicyBytes(4, 3),
      linearPolicyManifest('held', 4, 3, { batching: { maxQueueDelayMs: 60_000, maxQueueSize: 1, maxBatchSize: 64 } }),
    );
    // "broken": a valid manifest whose only model file onnxruntime refuses.
    await writeModel(
      dir,
      'broken',
      1,
      new TextEncoder().encode('not an onnx file'),
      linearPolicyManifest('broken', 4, 3),
    );
    t = await startTestServer({
      modelsDir: dir,
      watch: false,
      grpcPort: 0,
      maxBodyBytes: 256 * 1024,
      maxDeadlineMs: MAX_DEADLINE_MS,
    });
    expect(t.server.grpcAddress).to.match(/^127\.0\.0\.1:\d+$/);
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO)) as unknown as {
      inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
    };
    client = new pkg.inference.GRPCInferenceService(
      t.server.grpcAddress!,
      grpc.credentials.createInsecure(),
    ) as unknown as InferenceClient;
  });

  after(async () => {
    client?.close();
    await t?.server.close();
    await cleanup?.();
  });

  it('answers ServerLive, ServerReady and ServerMetadata', async () => {
    expect(await rpc(client, 'ServerLive', {})).to.deep.equal({ live: true });
    expect(await rpc(client, 'ServerReady', {})).to.deep.equal({ ready: true });
    const meta = await rpc<{ name: string; version: string }>(client, 'ServerMetadata', {});
    expect(meta).to.include({ name: 'playmind' });
    expect(meta.version).to.match(/^\d+\.\d+\.\d+/);
  });

  it('answers ModelReady: true for a served model, false for a model whose file was refused', async () => {
    expect(await rpc(client, 'ModelReady', { name: 'npc-guard' })).to.deep.equal({ ready: true });
    expect(await rpc(client, 'ModelReady', { name: 'npc-guard', version: '1' })).to.deep.equal({ ready: true });
    expect(await rpc(client, 'ModelReady', { name: 'broken' })).to.deep.equal({ ready: false });
  });

  it('gives the same model metadata as REST', async () => {
    const g = await rpc<{
      name: string;
      versions: string[];
      platform: string;
      inputs: Array<{ name: string; datatype: string; shape: Long[] }>;
      outputs: Array<{ name: string; datatype: string; shape: Long[] }>;
    }>(client, 'ModelMetadata', { name: 'npc-guard' });
    const r = (await (await fetch(url('/v2/models/npc-guard'))).json()) as Record<string, unknown>;
    const plain = (ts: typeof g.inputs) =>
      ts.map((x) => ({ name: x.name, datatype: x.datatype, shape: x.shape.map(num) }));
    expect({
      name: g.name,
      versions: g.versions,
      platform: g.platform,
      inputs: plain(g.inputs),
      outputs: plain(g.outputs),
    }).to.deep.equal({
      name: r.name,
      versions: r.versions,
      platform: r.platform,
      inputs: r.inputs,
      outputs: r.outputs,
    });
    expect(plain(g.inputs)).to.deep.equal([{ name: 'obs', datatype: 'FP32', shape: [-1, 24] }]);
  });

  describe('ModelInfer on the shipped npc-guard (16 rows)', () => {
    const rows = 16;
    const obs = observations(rows, 7);
    let expected: Record<string, number[]>;
    let restOutputs: Record<string, number[]>;

    before(async () => {
      const session = await ort.InferenceSession.create(join(dir, 'npc-guard', '1', 'model.onnx'));
      const out = await session.run({ obs: new ort.Tensor('float32', obs, [rows, GUARD_FEATURES]) });
      expected = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
      await session.release();
      const res = await rest('/v2/models/npc-guard/infer', {
        inputs: [{ name: 'obs', datatype: 'FP32', shape: [rows, GUARD_FEATURES], data: Array.from(obs) }],
      });
      expect(res.status).to.equal(200);
      const body = (await res.json()) as { outputs: Array<{ name: string; data: number[] }> };
      restOutputs = Object.fromEntries(body.outputs.map((o) => [o.name, o.data]));
    });

    it('with typed contents: the same outputs as REST and as onnxruntime', async () => {
      const res = await rpc<InferResponse>(client, 'ModelInfer', {
        modelName: 'npc-guard',
        id: 'typed-1',
        inputs: [
          { name: 'obs', datatype: 'FP32', shape: [rows, GUARD_FEATURES], contents: { fp32Contents: Array.from(obs) } },
        ],
      });
      expect(res).to.include({ modelName: 'npc-guard', modelVersion: '1', id: 'typed-1' });
      expect(res.rawOutputContents ?? []).to.have.length(0);
      expect(res.outputs.map((o) => o.name).sort()).to.deep.equal(['logits', 'probs']);
      for (const o of res.outputs) {
        expect(o.datatype).to.equal('FP32');
        expect(o.shape.map(num)).to.deep.equal([rows, 6]);
        expect(o.contents!.fp32Contents, `${o.name} vs REST`).to.deep.equal(restOutputs[o.name]);
        expect(o.contents!.fp32Contents, `${o.name} vs onnxruntime`).to.deep.equal(asF32(expected[o.name]!));
      }
    });

    it('with raw contents: raw outputs, the same values as REST and as onnxruntime', async () => {
      const res = await rpc<InferResponse>(client, 'ModelInfer', {
        modelName: 'npc-guard',
        inputs: [{ name: 'obs', datatype: 'FP32', shape: [rows, GUARD_FEATURES] }],
        outputs: [{ name: 'probs' }],
        rawInputContents: [rawOf(obs)],
      });
      expect(res.outputs).to.have.length(1);
      expect(res.outputs[0]).to.include({ name: 'probs', datatype: 'FP32' });
      expect(res.outputs[0]!.contents).to.equal(undefined);
      expect(res.rawOutputContents).to.have.length(1);
      expect(res.rawOutputContents![0]!.byteLength).to.equal(rows * 6 * 4);
      expect(f32(res.rawOutputContents![0]!)).to.deep.equal(restOutputs.probs).and.deep.equal(expected.probs);
    });
  });

  describe('ModelInfer on the ONNX Model Zoo MNIST (compat)', () => {
    const img = digitSeven();
    let expected: number[];

    before(async () => {
      const session = await ort.InferenceSession.create(mnistFile);
      const out = await session.run({ Input3: new ort.Tensor('float32', img, [1, 1, 28, 28]) });
      expected = Array.from(out.Plus214_Output_0!.data as Float32Array);
      await session.release();
    });

    it('with typed contents and with raw contents: the scores onnxruntime and REST give', async () => {
      const input = { name: 'Input3', datatype: 'FP32', shape: [1, 1, 28, 28] };
      const typed = await rpc<InferResponse>(client, 'ModelInfer', {
        modelName: 'mnist',
        inputs: [{ ...input, contents: { fp32Contents: Array.from(img) } }],
      });
      const raw = await rpc<InferResponse>(client, 'ModelInfer', {
        modelName: 'mnist',
        inputs: [input],
        rawInputContents: [rawOf(img)],
      });
      const res = await rest('/v2/models/mnist/infer', { inputs: [{ ...input, data: Array.from(img) }] });
      const restScores = ((await res.json()) as { outputs: Array<{ data: number[] }> }).outputs[0]!.data;
      expect(typed.outputs[0]).to.include({ name: 'Plus214_Output_0', datatype: 'FP32' });
      expect(typed.outputs[0]!.shape.map(num)).to.deep.equal([1, 10]);
      expect(typed.outputs[0]!.contents!.fp32Contents).to.deep.equal(restScores).and.deep.equal(asF32(expected));
      expect(f32(raw.rawOutputContents![0]!)).to.deep.equal(expected);
      const argmax = expected.indexOf(Math.max(...expected));
      expect(typed.outputs[0]!.contents!.fp32Contents!.indexOf(Math.max(...expected))).to.equal(argmax);
    });
  });

  describe('errors: the gRPC status of the same failure as REST', () => {
    const guardInput = (shape: number[], values: number) => ({
      name: 'obs',
      datatype: 'FP32',
      shape,
      contents: { fp32Contents: new Array<number>(values).fill(0.5) },
    });
    const heldRest = () =>
      rest('/v2/models/held/infer', { inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });
    const heldGrpc = () =>
      rpc(client, 'ModelInfer', {
        modelName: 'held',
        inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, 4], contents: { fp32Contents: [1, 2, 3, 4] } }],
      });

    it('an unknown model: 404 / NOT_FOUND (unknown_model)', async () => {
      const r = await rest('/v2/models/nope/infer', {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }],
      });
      expect(r.status).to.equal(404);
      const g = await failure(rpc(client, 'ModelInfer', { modelName: 'nope', inputs: [guardInput([1], 1)] }));
      expect(g).to.include({ code: 'NOT_FOUND', playmind: 'unknown_model' });
      expect(await failure(rpc(client, 'ModelMetadata', { name: 'nope' }))).to.include({ code: 'NOT_FOUND' });
      expect(await failure(rpc(client, 'ModelReady', { name: 'nope' }))).to.include({ code: 'NOT_FOUND' });
    });

    it('a wrong shape: 400 / INVALID_ARGUMENT (invalid_tensor), naming the input', async () => {
      const r = await rest('/v2/models/npc-guard/infer', {
        inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, 23], data: new Array(23).fill(0) }],
      });
      expect(r.status).to.equal(400);
      const g = await failure(rpc(client, 'ModelInfer', { modelName: 'npc-guard', inputs: [guardInput([1, 23], 23)] }));
      expect(g).to.include({ code: 'INVALID_ARGUMENT', playmind: 'invalid_tensor' });
      expect(g.details).to.contain('"obs"').and.contain('dim 1 must be 24');
    });

    it('contents that do not fit the request: INVALID_ARGUMENT naming what was wrong', async () => {
      const wrongField = await failure(
        rpc(client, 'ModelInfer', {
          modelName: 'npc-guard',
          inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, 24], contents: { intContents: new Array(24).fill(1) } }],
        }),
      );
      expect(wrongField).to.include({ code: 'INVALID_ARGUMENT' });
      expect(wrongField.details).to.contain('int_contents').and.contain('fp32_contents');
      const shortRaw = await failure(
        rpc(client, 'ModelInfer', {
          modelName: 'npc-guard',
          inputs: [{ name: 'obs', datatype: 'FP32', shape: [2, 24] }],
          rawInputContents: [rawOf(new Float32Array(24))],
        }),
      );
      expect(shortRaw).to.include({ code: 'INVALID_ARGUMENT', playmind: 'invalid_tensor' });
      expect(shortRaw.details).to.contain('96 raw bytes').and.contain('expected 48 × 4 = 192');
      const both = await failure(
        rpc(client, 'ModelInfer', {
          modelName: 'npc-guard',
          inputs: [guardInput([1, 24], 24)],
          rawInputContents: [rawOf(new Float32Array(24))],
        }),
      );
      expect(both.details).to.contain("'raw_input_contents'");
    });

    it('bytes that are not a ModelInferRequest: INVALID_ARGUMENT (malformed_message)', async () => {
      const raw = new grpc.Client(t.server.grpcAddress!, grpc.credentials.createInsecure());
      try {
        const bad = await failure(
          new Promise((resolve, reject) =>
            raw.makeUnaryRequest(
              '/inference.GRPCInferenceService/ModelInfer',
              (b: Buffer) => b,
              (b: Buffer) => b,
              Buffer.from([0xff, 0xff, 0xff, 0xff]),
              (err, res) => (err ? reject(err) : resolve(res)),
            ),
          ),
        );
        expect(bad).to.include({ code: 'INVALID_ARGUMENT', playmind: 'malformed_message' });
        expect(bad.details).to.contain('could not be decoded');
      } finally {
        raw.close();
      }
    });

    it('a message larger than --max-body: 413 / RESOURCE_EXHAUSTED', async () => {
      const rows = 4000; // 4000 × 24 floats = 384 KiB raw, over the 256 KiB limit
      const r = await rest('/v2/models/npc-guard/infer', {
        inputs: [{ name: 'obs', datatype: 'FP32', shape: [rows, 24], data: new Array(rows * 24).fill(0.25) }],
      });
      expect(r.status).to.equal(413);
      const g = await failure(
        rpc(client, 'ModelInfer', {
          modelName: 'npc-guard',
          inputs: [{ name: 'obs', datatype: 'FP32', shape: [rows, 24] }],
          rawInputContents: [rawOf(new Float32Array(rows * 24))],
        }),
      );
      expect(g.code).to.equal('RESOURCE_EXHAUSTED');
    });

    it('a model that cannot answer (its file was refused): 503 / UNAVAILABLE (model_unavailable)', async () => {
      const r = await rest('/v2/models/broken/infer', {
        inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }],
      });
      expect(r.status).to.equal(503);
      const g = await failure(
        rpc(client, 'ModelInfer', {
          modelName: 'broken',
          inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, 4], contents: { fp32Contents: [1, 2, 3, 4] } }],
        }),
      );
      expect(g).to.include({ code: 'UNAVAILABLE', playmind: 'model_unavailable' });
    });

    it('a full queue: 429 / RESOURCE_EXHAUSTED (overloaded); the queued request runs out of time: 504 / DEADLINE_EXCEEDED', async () => {
      const metrics = async () => (await fetch(url('/metrics'))).text();
      const first = heldGrpc();
      const firstFailure = failure(first);
      await waitFor(
        async () => metricValue(await metrics(), 'playmind_inference_queue_rows', { model: 'held@1' }) >= 1,
        10_000,
        'the first request to wait in the queue',
      );
      const r = await heldRest();
      expect(r.status).to.equal(429);
      expect(await r.json()).to.include({ code: 'overloaded' });
      expect(await failure(heldGrpc())).to.include({ code: 'RESOURCE_EXHAUSTED', playmind: 'overloaded' });
      // The server's deadline (--max-deadline-ms) passes before the batching delay does.
      expect(await firstFailure).to.include({ code: 'DEADLINE_EXCEEDED', playmind: 'deadline_exceeded' });
      const late = await heldRest();
      expect(late.status).to.equal(504);
      expect(await late.json()).to.include({ code: 'deadline_exceeded' });
    });
  });

  describe('metrics', () => {
    it('counts gRPC calls in the server metrics, beside REST', async () => {
      const text = await (await fetch(url('/metrics'))).text();
      expect(
        metricValue(text, 'playmind_requests_total', { frontend: 'grpc', model: 'npc-guard', outcome: 'ok' }),
      ).to.be.at.least(2);
      expect(
        metricValue(text, 'playmind_requests_total', { frontend: 'grpc', model: '_unknown', outcome: 'unknown_model' }),
      ).to.equal(1);
      expect(metricValue(text, 'playmind_grpc_requests_total', { method: 'ModelInfer', code: 'OK' })).to.be.at.least(4);
      expect(
        metricValue(text, 'playmind_grpc_requests_total', { method: 'ModelInfer', code: 'INVALID_ARGUMENT' }),
      ).to.be.at.least(4);
    });
  });
});
