/**
 * One backend contract, two runtimes: the same model gives the same outputs on
 * onnxruntime-node and onnxruntime-web (WASM, as in the browser), and both report
 * the same metadata the contract check relies on.
 */
import { expect } from '../helpers/chai.js';
import { nodeBackend } from '../../sdk/engine/backend-node.js';
import { webBackend } from '../../sdk/engine/backend-web.js';
import type { Backend } from '../../sdk/engine/backend.js';
import { createBrain, silentLogger } from '../../sdk/index.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';
import { tempDir } from '../helpers/compat.js';
import { GraphBuilder } from '../../sdk/onnx/graph-builder.js';

function argmaxModel(): Uint8Array {
  const g = new GraphBuilder('argmax');
  g.input('x', 'float32', ['n', 5]);
  g.node('ArgMax', ['x'], ['idx'], { axis: 1, keepdims: 1 });
  g.output('idx', 'int64', ['n', 1]);
  return g.toBytes();
}

const backends: [string, () => Backend][] = [
  ['onnxruntime-node', () => nodeBackend()],
  ['onnxruntime-web', () => webBackend()],
];

describe('backends', function () {
  this.timeout(60_000);

  for (const [name, make] of backends) {
    it(`${name}: reports metadata and runs float32 and int64 outputs`, async () => {
      const backend = make();
      expect(backend.name).to.equal(name);
      const s = await backend.createSession(argmaxModel());
      expect(s.inputs.map((m) => [m.name, m.dtype])).to.deep.equal([['x', 'float32']]);
      expect(s.outputs.map((m) => [m.name, m.dtype])).to.deep.equal([['idx', 'int64']]);
      expect(s.inputs[0]!.shape[1]).to.equal(5);
      const out = await s.run({
        x: { type: 'float32', data: Float32Array.from([0, 1, 9, 2, 3, 7, 0, 0, 0, 1]), dims: [2, 5] },
      });
      expect(out.idx!.type).to.equal('int64');
      expect(Array.from(out.idx!.data as BigInt64Array)).to.deep.equal([2n, 0n]);
      await s.release();
    });

    it(`${name}: refuses bytes that are not a model`, async () => {
      await expect(make().createSession(Uint8Array.from([8, 1, 2, 3]))).to.be.rejected;
    });
  }

  it('gives the same decisions through the SDK on onnxruntime-web as on onnxruntime-node', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeModel(dir, 'guard', 1, linearPolicyBytes(8, 5), linearPolicyManifest('guard', 8, 5));
      const rows = Array.from({ length: 40 }, (_, i) =>
        Float32Array.from({ length: 8 }, (_, j) => Math.sin(i * 3 + j)),
      );
      const onNode = await createBrain({ mode: 'local', models: dir, logger: silentLogger });
      const onWeb = await createBrain({ mode: 'local', models: dir, logger: silentLogger, backend: webBackend() });
      const a = await onNode.policy('guard').decide(rows);
      const b = await onWeb.policy('guard').decide(rows);
      expect(b.map((d) => d.action)).to.deep.equal(a.map((d) => d.action));
      b.forEach((d, i) => d.probabilities!.forEach((p, j) => expect(p).to.be.closeTo(a[i]!.probabilities![j]!, 1e-5)));
      await onNode.close();
      await onWeb.close();
    } finally {
      await cleanup();
    }
  });
});
