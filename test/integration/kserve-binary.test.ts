/**
 * KServe's binary tensor data extension on REST (`Inference-Header-Content-Length`)
 * against a real server on 127.0.0.1, with requests built by hand as Triton's clients
 * build them: binary inputs and binary outputs round-trip to the same values as JSON,
 * as onnxruntime run directly and as gRPC raw contents; mixed JSON / binary tensors;
 * and typed errors for bodies whose lengths do not add up.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { importModel } from '../../sdk/cli/import.js';
import { expect } from '../helpers/chai.js';
import { REPO_ROOT, requireCompat, tempDir } from '../helpers/compat.js';
import { prng, startTestServer, type TestServer } from '../helpers/server.js';
import { cp } from 'node:fs/promises';

const FEATURES = 24;

interface JsonOutput {
  name: string;
  datatype: string;
  shape: number[];
  data?: number[];
  parameters?: { binary_data_size?: number };
}

/** A binary-extension request: the JSON header, then the tensors' bytes. */
function binaryRequest(header: object, ...blobs: Uint8Array[]): { body: Buffer; headerLength: number } {
  const h = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([h, ...blobs]), headerLength: h.byteLength };
}

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const f32 = (b: Uint8Array) => Array.from(new Float32Array(new Uint8Array(b).buffer));

describe('server: KServe v2 REST binary tensor data extension', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let t: TestServer;
  let mnistFile: string;
  const infer = (model: string, init: { body: Buffer | string; headers?: Record<string, string> }) =>
    fetch(`${t.server.url}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: init.headers ?? { 'content-type': 'application/json' },
      body: typeof init.body === 'string' ? init.body : new Uint8Array(init.body),
    });
  const binary = (model: string, r: { body: Buffer; headerLength: number }, headerLength = String(r.headerLength)) =>
    infer(model, {
      body: r.body,
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': headerLength },
    });
  /** Reads a reply: its JSON header and, per binary output, its bytes. */
  const readReply = async (res: Response) => {
    const all = Buffer.from(await res.arrayBuffer());
    const hl = res.headers.get('inference-header-content-length');
    const headerLength = hl === null ? all.byteLength : Number(hl);
    const header = JSON.parse(all.subarray(0, headerLength).toString('utf8')) as { outputs: JsonOutput[] };
    const blobs = new Map<string, Uint8Array>();
    let at = headerLength;
    for (const o of header.outputs) {
      const n = o.parameters?.binary_data_size;
      if (n === undefined) continue;
      blobs.set(o.name, all.subarray(at, at + n));
      at += n;
    }
    expect(at, 'the reply has no bytes beyond its binary outputs').to.equal(all.byteLength);
    return { header, blobs, binaryReply: hl !== null, contentType: res.headers.get('content-type') };
  };

  const rows = 32;
  const obs = (() => {
    const r = prng(11);
    return Float32Array.from({ length: rows * FEATURES }, () => r() * 2 - 1);
  })();
  let expected: Record<string, number[]>;

  before(async function () {
    const compat = requireCompat(this);
    mnistFile = join(compat, 'classic', 'mnist-8.onnx');
    ({ dir, cleanup } = await tempDir('playmind-kserve-binary-'));
    await cp(join(REPO_ROOT, 'models', 'npc-guard'), join(dir, 'npc-guard'), { recursive: true });
    await importModel(mnistFile, { into: dir, name: 'mnist' });
    t = await startTestServer({ modelsDir: dir, watch: false, grpcPort: 0 });
    const session = await ort.InferenceSession.create(join(dir, 'npc-guard', '1', 'model.onnx'));
    const out = await session.run({ obs: new ort.Tensor('float32', obs, [rows, FEATURES]) });
    expected = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
    await session.release();
  });

  after(async () => {
    await t?.server.close();
    await cleanup?.();
  });

  it('round-trips binary inputs and binary outputs: the values onnxruntime and JSON give', async () => {
    const req = binaryRequest(
      {
        inputs: [
          {
            name: 'obs',
            datatype: 'FP32',
            shape: [rows, FEATURES],
            parameters: { binary_data_size: rows * FEATURES * 4 },
          },
        ],
        parameters: { binary_data_output: true },
      },
      bytesOf(obs),
    );
    const res = await binary('npc-guard', req);
    expect(res.status).to.equal(200);
    const r = await readReply(res);
    expect(r.binaryReply).to.equal(true);
    expect(r.contentType).to.match(/^application\/octet-stream/);
    expect(r.header.outputs.map((o) => o.name).sort()).to.deep.equal(['logits', 'probs']);
    for (const o of r.header.outputs) {
      expect(o.data, 'a binary output has no JSON data').to.equal(undefined);
      expect(o.shape).to.deep.equal([rows, 6]);
      expect(o.parameters!.binary_data_size).to.equal(rows * 6 * 4);
      expect(f32(r.blobs.get(o.name)!), o.name).to.deep.equal(expected[o.name]);
    }
    const json = await infer('npc-guard', {
      body: JSON.stringify({
        inputs: [{ name: 'obs', datatype: 'FP32', shape: [rows, FEATURES], data: Array.from(obs) }],
      }),
    });
    const j = (await json.json()) as { outputs: JsonOutput[] };
    for (const o of j.outputs) expect(o.data).to.deep.equal(expected[o.name]);
  });

  it('mixes JSON and binary: a binary input with a JSON output, a JSON input with one binary output', async () => {
    const jsonOut = await binary(
      'npc-guard',
      binaryRequest(
        {
          inputs: [
            {
              name: 'obs',
              datatype: 'FP32',
              shape: [rows, FEATURES],
              parameters: { binary_data_size: obs.byteLength },
            },
          ],
          outputs: [{ name: 'probs' }],
        },
        bytesOf(obs),
      ),
    );
    expect(jsonOut.status).to.equal(200);
    const a = await readReply(jsonOut);
    expect(a.binaryReply).to.equal(false);
    expect(a.header.outputs).to.have.length(1);
    expect(a.header.outputs[0]!.data).to.deep.equal(expected.probs);

    const binOut = await infer('npc-guard', {
      body: JSON.stringify({
        inputs: [{ name: 'obs', datatype: 'FP32', shape: [rows, FEATURES], data: Array.from(obs) }],
        outputs: [{ name: 'logits', parameters: { binary_data: true } }, { name: 'probs' }],
      }),
    });
    expect(binOut.status).to.equal(200);
    const b = await readReply(binOut);
    expect(b.binaryReply).to.equal(true);
    const byName = Object.fromEntries(b.header.outputs.map((o) => [o.name, o]));
    expect(byName.probs!.data).to.deep.equal(expected.probs);
    expect(f32(b.blobs.get('logits')!)).to.deep.equal(expected.logits);
  });

  it('gives the compat MNIST the scores onnxruntime gives, over binary REST', async () => {
    const img = Float32Array.from({ length: 28 * 28 }, (_, i) => ((i * 37) % 255) * (i % 3 === 0 ? 1 : 0));
    const session = await ort.InferenceSession.create(mnistFile);
    const want = Array.from(
      (await session.run({ Input3: new ort.Tensor('float32', img, [1, 1, 28, 28]) })).Plus214_Output_0!
        .data as Float32Array,
    );
    await session.release();
    const res = await binary(
      'mnist',
      binaryRequest(
        {
          inputs: [
            {
              name: 'Input3',
              datatype: 'FP32',
              shape: [1, 1, 28, 28],
              parameters: { binary_data_size: img.byteLength },
            },
          ],
          outputs: [{ name: 'Plus214_Output_0', parameters: { binary_data: true } }],
        },
        bytesOf(img),
      ),
    );
    expect(res.status).to.equal(200);
    const r = await readReply(res);
    expect(f32(r.blobs.get('Plus214_Output_0')!)).to.deep.equal(want);
  });

  it('refuses a body whose lengths do not add up, naming what is wrong (400)', async () => {
    const ok = { name: 'obs', datatype: 'FP32', shape: [1, FEATURES], parameters: { binary_data_size: FEATURES * 4 } };
    const row = bytesOf(obs.subarray(0, FEATURES));
    const cases: Array<[string, Promise<Response>, RegExp, string]> = [
      [
        'a header length past the body',
        binary('npc-guard', binaryRequest({ inputs: [ok] }, row), '100000'),
        /Inference-Header-Content-Length/,
        'malformed_message',
      ],
      [
        'a header that is not JSON',
        binary('npc-guard', binaryRequest({ inputs: [ok] }, row), '3'),
        /not a JSON infer header/,
        'malformed_message',
      ],
      [
        'bytes left over',
        binary('npc-guard', binaryRequest({ inputs: [ok] }, row, new Uint8Array(8))),
        /8 bytes after the JSON header belong to no input/,
        'malformed_message',
      ],
      [
        'sizes past the bytes sent',
        binary('npc-guard', binaryRequest({ inputs: [{ ...ok, parameters: { binary_data_size: 400 } }] }, row)),
        /add up to more than the 96 bytes/,
        'malformed_message',
      ],
      [
        'a size that does not fit the shape',
        binary('npc-guard', binaryRequest({ inputs: [{ ...ok, shape: [2, FEATURES] }] }, row)),
        /input "obs" has 96 raw bytes for its shape \(expected 48 × 4 = 192 for FP32\)/,
        'invalid_tensor',
      ],
      [
        'data and binary_data_size both',
        binary('npc-guard', binaryRequest({ inputs: [{ ...ok, data: new Array(FEATURES).fill(0) }] }, row)),
        /has both 'data' and 'parameters.binary_data_size'/,
        'malformed_message',
      ],
    ];
    for (const [what, p, message, code] of cases) {
      const res = await p;
      const body = (await res.json()) as { error: string; code: string };
      expect(res.status, what).to.equal(400);
      expect(body.code, what).to.equal(code);
      expect(body.error, what).to.match(message);
    }
  });

  it('lists the extension in the server metadata', async () => {
    const meta = (await (await fetch(`${t.server.url}/v2`)).json()) as { extensions: string[] };
    expect(meta.extensions).to.include('binary_tensor_data');
  });
});
