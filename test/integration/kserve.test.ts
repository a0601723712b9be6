/**
 * KServe v2 REST against a real server on 127.0.0.1: model control with the admin
 * token, infer on MNIST (same class as onnxruntime), metadata, typed errors, and
 * `/metrics` moving.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { importModel } from '../../sdk/cli/import.js';
import { expect } from '../helpers/chai.js';
import { requireCompat, tempDir } from '../helpers/compat.js';
import { metricValue, startTestServer, type TestServer } from '../helpers/server.js';

const TOKEN = 'test-admin-token-1234';

/** A 28×28 image with a vertical stroke (a "1"), row-major. */
function digitImage(): number[] {
  const img = new Array<number>(28 * 28).fill(0);
  for (let y = 5; y < 23; y++) for (let x = 13; x < 16; x++) img[y * 28 + x] = 255;
  return img;
}

const argmax = (a: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
};

describe('server: KServe v2 REST', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let t: TestServer;
  let mnistFile: string;
  const url = (p: string) => `${t.server.url}${p}`;
  const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url(p), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const admin = { authorization: `Bearer ${TOKEN}` };

  before(async function () {
    const compat = requireCompat(this);
    mnistFile = join(compat, 'classic', 'mnist-8.onnx');
    ({ dir, cleanup } = await tempDir('playmind-kserve-'));
    t = await startTestServer({ modelsDir: dir, watch: false, adminToken: TOKEN, maxBodyBytes: 256 * 1024 });
  });

  after(async () => {
    await t?.server.close();
    await cleanup?.();
  });

  it('reports live and ready', async () => {
    expect(await (await fetch(url('/v2/health/live'))).json()).to.deep.equal({ live: true });
    const ready = await fetch(url('/v2/health/ready'));
    expect(ready.status).to.equal(200);
  });

  it('refuses model control without the admin token (401) or with a wrong one', async () => {
    await importModel(mnistFile, { into: dir, name: 'mnist' });
    const none = await post('/v2/repository/models/mnist/load', {});
    expect(none.status).to.equal(401);
    expect(await none.json()).to.include({ code: 'unauthorized' });
    const wrong = await post('/v2/repository/models/mnist/load', {}, { authorization: 'Bearer not-the-token' });
    expect(wrong.status).to.equal(401);
    expect((await fetch(url('/v2/models/mnist'))).status).to.equal(404);
  });

  it('loads a model through model control with the admin token', async () => {
    const res = await post('/v2/repository/models/mnist/load', {}, admin);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.include({ name: 'mnist', state: 'READY', version: '1' });
    const missing = await post('/v2/repository/models/not-there/load', {}, admin);
    expect(missing.status).to.equal(404);
    expect(await missing.json()).to.include({ code: 'unknown_model' });
    expect((await fetch(url('/v2/models/mnist/ready'))).status).to.equal(200);
  });

  it('gives model metadata with KServe datatypes and the repository state', async () => {
    const meta = (await (await fetch(url('/v2/models/mnist'))).json()) as Record<string, unknown>;
    expect(meta).to.include({
      name: 'mnist',
      platform: 'onnxruntime_onnx',
      state: 'READY',
      served: 1,
      lastError: null,
    });
    expect(meta.versions).to.deep.equal(['1']);
    expect(meta.inputs).to.deep.equal([{ name: 'Input3', datatype: 'FP32', shape: [1, 1, 28, 28] }]);
    expect((meta.outputs as { datatype: string }[])[0]!.datatype).to.equal('FP32');
  });

  it('infers the same class as onnxruntime on MNIST', async () => {
    const image = digitImage();
    const res = await post('/v2/models/mnist/infer', {
      id: 'req-1',
      inputs: [{ name: 'Input3', shape: [1, 1, 28, 28], datatype: 'FP32', data: image }],
    });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as {
      id: string;
      model_name: string;
      model_version: string;
      outputs: { name: string; datatype: string; shape: number[]; data: number[] }[];
    };
    expect(body).to.include({ id: 'req-1', model_name: 'mnist', model_version: '1' });
    const out = body.outputs[0]!;
    expect(out.shape).to.deep.equal([1, 10]);
    const session = await ort.InferenceSession.create(mnistFile);
    try {
      const direct = await session.run({ Input3: new ort.Tensor('float32', Float32Array.from(image), [1, 1, 28, 28]) });
      const scores = direct[session.outputNames[0]!]!.data as Float32Array;
      expect(argmax(out.data)).to.equal(argmax(scores));
      out.data.forEach((v, i) => expect(v).to.be.closeTo(scores[i]!, 1e-4));
    } finally {
      await session.release();
    }
    // nested data (row-major) is accepted too
    const nested = [
      [
        image.reduce<number[][]>(
          (rows, v, i) => (i % 28 === 0 ? [...rows, [v]] : (rows[rows.length - 1]!.push(v), rows)),
          [],
        ),
      ],
    ];
    const res2 = await post('/v2/models/mnist/infer', {
      inputs: [{ name: 'Input3', shape: [1, 1, 28, 28], datatype: 'FP32', data: nested }],
    });
    expect(res2.status).to.equal(200);
    expect(argmax(((await res2.json()) as typeof body).outputs[0]!.data)).to.equal(argmax(out.data));
  });

  it('answers bad infer requests with typed errors', async () => {
    const cases: [unknown, number, string][] = [
      [{ inputs: [{ name: 'Input3', shape: [1, 784], datatype: 'FP32', data: digitImage() }] }, 400, 'invalid_tensor'],
      [
        { inputs: [{ name: 'Input3', shape: [1, 1, 28, 28], datatype: 'INT64', data: digitImage() }] },
        400,
        'invalid_tensor',
      ],
      [
        { inputs: [{ name: 'Input3', shape: [1, 1, 28, 28], datatype: 'FP32', data: [1, 2, 3] }] },
        400,
        'invalid_tensor',
      ],
      [{ inputs: [{ name: 'Other', shape: [1], datatype: 'FP32', data: [1] }] }, 400, 'invalid_tensor'],
      [{ inputs: 'nope' }, 400, 'malformed_message'],
      ['{"inputs": [', 400, 'malformed_message'],
      [
        {
          inputs: [{ name: 'Input3', shape: [1, 1, 28, 28], datatype: 'FP32', data: digitImage() }],
          outputs: [{ name: 'nope' }],
        },
        400,
        'invalid_tensor',
      ],
    ];
    for (const [body, status, code] of cases) {
      const res = await post('/v2/models/mnist/infer', body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).to.equal(status);
      expect(await res.json()).to.include({ code });
    }
    const unknown = await post('/v2/models/nope/infer', { inputs: [] });
    expect(unknown.status).to.equal(404);
    expect(await unknown.json()).to.include({ code: 'unknown_model' });
  });

  it('refuses a body over the size limit with 413 payload_too_large', async () => {
    const big = JSON.stringify({
      inputs: [{ name: 'Input3', shape: [1, 1, 28, 28], datatype: 'FP32', data: new Array(100_000).fill(0.123456) }],
    });
    const res = await post('/v2/models/mnist/infer', big);
    expect(res.status).to.equal(413);
    expect(await res.json()).to.include({ code: 'payload_too_large' });
  });

  it('shows the counters moving in /metrics', async () => {
    const before = await (await fetch(url('/metrics'))).text();
    const ok = (text: string) =>
      metricValue(text, 'playmind_requests_total', { frontend: 'kserve', model: 'mnist', outcome: 'ok' });
    const engineOk = (text: string) =>
      metricValue(text, 'playmind_inference_requests_total', { model: 'mnist', version: '1', outcome: 'ok' });
    await post('/v2/models/mnist/infer', {
      inputs: [{ name: 'Input3', shape: [1, 1, 28, 28], datatype: 'FP32', data: digitImage() }],
    });
    const after = await (await fetch(url('/metrics'))).text();
    expect(ok(after)).to.equal(ok(before) + 1);
    expect(engineOk(after)).to.equal(engineOk(before) + 1);
    expect(metricValue(after, 'playmind_inference_batch_rows_count', { model: 'mnist' })).to.be.greaterThan(0);
    expect(metricValue(after, 'playmind_model_versions_loaded', { model: 'mnist', version: '1' })).to.equal(1);
    expect(
      metricValue(after, 'playmind_requests_total', { frontend: 'kserve', outcome: 'invalid_tensor' }),
    ).to.be.greaterThan(0);
    expect(after).to.match(/nodejs_eventloop_lag_p99_seconds/);
  });

  it('unloads a model: it stops being ready and infer answers 503', async () => {
    const res = await post('/v2/repository/models/mnist/unload', {}, admin);
    expect(res.status).to.equal(200);
    expect((await fetch(url('/v2/models/mnist/ready'))).status).to.equal(503);
    const infer = await post('/v2/models/mnist/infer', {
      inputs: [{ name: 'Input3', shape: [1, 1, 28, 28], datatype: 'FP32', data: digitImage() }],
    });
    expect(infer.status).to.equal(503);
    expect(await infer.json()).to.include({ code: 'model_unavailable' });
    expect(((await (await fetch(url('/v2/models/mnist'))).json()) as { state: string }).state).to.equal('UNLOADED');
  });

  it('turns model control off when no admin token is configured (403)', async () => {
    await t.server.close();
    t = await startTestServer({ modelsDir: dir, watch: false });
    const res = await post('/v2/repository/models/mnist/load', {}, admin);
    expect(res.status).to.equal(403);
    expect(((await res.json()) as { error: string }).error).to.match(/ADMIN_TOKEN/);
  });
});
