/**
 * Non-finite outputs: a model version whose warm-up (zeros, then ones, halves and seeded
 * values) answers NaN or Infinity is refused with the reason and the old version keeps
 * serving; `playmind validate` says so; at run time a request answered with NaN is a typed
 * `non_finite_output` error (only that request: its batch mates are answered), a policy call
 * falls back to the manifest's heuristic (counted), and `/v2/models/:name` flags the model.
 */
import { expect } from '../helpers/chai.js';
import { ErrorCode, ModelRepository, PlaymindError, type Brain, type Decision } from '../../sdk/index.js';
import { validateModelDir } from '../../sdk/cli/validate.js';
import { tempDir } from '../helpers/compat.js';
import {
  linearPolicyBytes,
  linearPolicyManifest,
  nonFinitePolicyBytes,
  openSharedBrain,
  writeModel,
  type SharedBrain,
} from '../helpers/models.js';
import { metricValue, startTestServer, type TestServer } from '../helpers/server.js';
import { join } from 'node:path';

const F = 4;
const A = 3;

describe('non-finite model outputs', function () {
  this.timeout(60_000);

  describe('in the repository and the brain', () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    let repository: ModelRepository;
    let brain: Brain;
    let shared: SharedBrain | undefined;

    before(async () => {
      ({ dir, cleanup } = await tempDir());
      await writeModel(dir, 'swap', 1, linearPolicyBytes(F, A), linearPolicyManifest('swap', F, A));
      await writeModel(dir, 'nan', 1, nonFinitePolicyBytes(F, A, 'always'), linearPolicyManifest('nan', F, A));
      await writeModel(dir, 'probe', 1, nonFinitePolicyBytes(F, A, 'probe'), linearPolicyManifest('probe', F, A));
      await writeModel(dir, 'neg', 1, nonFinitePolicyBytes(F, A, 'negative'), linearPolicyManifest('neg', F, A));
      shared = await openSharedBrain(dir);
      ({ repository, brain } = shared);
    });

    after(async () => {
      await shared?.close();
      await cleanup?.();
    });

    it('refuses a version that answers NaN for zeros, and one that does for a probe, naming the reason', () => {
      const nan = repository.state('nan')!;
      expect(nan.state).to.equal('UNAVAILABLE');
      expect(nan.lastError?.code).to.equal(ErrorCode.NON_FINITE_OUTPUT);
      expect(nan.lastError?.reason).to.match(/warm-up with zeros .* non-finite outputs: "logits" has 3 of 3 values/);
      const probe = repository.state('probe')!;
      expect(probe.state).to.equal('UNAVAILABLE');
      expect(probe.lastError?.code).to.equal(ErrorCode.NON_FINITE_OUTPUT);
      expect(probe.lastError?.reason).to.match(/warm-up with ones in every float input .*first: NaN/);
      // Finite for every warm-up input: served.
      expect(repository.state('neg')!.state).to.equal('READY');
    });

    it('keeps the old version serving when a NaN version is swapped in', async () => {
      await writeModel(dir, 'swap', 2, nonFinitePolicyBytes(F, A, 'always'));
      await expect(repository.reload('swap')).to.be.rejectedWith(PlaymindError, /non-finite/);
      const s = repository.state('swap')!;
      expect(s.served).to.equal(1);
      expect(s.lastError).to.include({ version: 2, code: ErrorCode.NON_FINITE_OUTPUT });
      const [d] = await brain.policy('swap').decide([new Float32Array(F).fill(0.3)]);
      expect(d!.model).to.equal('swap@1');
      expect(d!.servedBy).to.equal('local');
    });

    it('fails only the request answered with NaN, falls back for it (counted) and flags the model', async () => {
      const good = new Float32Array(F).fill(0.25);
      const bad = Float32Array.from([0.5, -1, 0.5, 0.5]);
      const before = brain.stats().fallbacks.byReason[ErrorCode.NON_FINITE_OUTPUT] ?? 0;
      // Same turn: one batch in the engine; the finite row is answered by the model.
      const [strict, lenient, fine] = await Promise.allSettled([
        brain.policy('neg').decide([bad], { fallback: false }),
        brain.policy('neg').decide([bad]),
        brain.policy('neg').decide([good], { fallback: false }),
      ]);
      expect(strict.status).to.equal('rejected');
      const err = (strict as PromiseRejectedResult).reason as PlaymindError;
      expect(err).to.be.instanceOf(PlaymindError);
      expect(err.code).to.equal(ErrorCode.NON_FINITE_OUTPUT);
      expect(err.message).to.match(/neg@1 answered with non-finite values: output "logits"/);
      expect(lenient.status).to.equal('fulfilled');
      const [fb] = (lenient as PromiseFulfilledResult<Decision[]>).value;
      expect(fb!.servedBy).to.equal('fallback');
      expect(fb!.action).to.equal('a0'); // the manifest's heuristic: first-action
      expect(fine.status).to.equal('fulfilled');
      const [ok] = (fine as PromiseFulfilledResult<Decision[]>).value;
      expect(ok!.servedBy).to.equal('local');
      expect(brain.stats().fallbacks.byReason[ErrorCode.NON_FINITE_OUTPUT]).to.equal(before + 1);
      const flag = repository.state('neg')!.nonFinite;
      expect(flag).to.include({ version: 1, output: 'logits', requests: 2 });
    });

    it('is reported by playmind validate', async () => {
      const report = await validateModelDir(join(dir, 'probe'));
      expect(report.versions).to.deep.equal([{ version: 1, ok: false }]);
      expect(report.problems.join('\n')).to.match(/non-finite outputs/);
      const fine = await validateModelDir(join(dir, 'neg'));
      expect(fine.problems).to.deep.equal([]);
    });
  });

  describe('on the server', () => {
    let ts: TestServer;
    let cleanup: () => Promise<void>;

    before(async () => {
      let dir: string;
      ({ dir, cleanup } = await tempDir());
      await writeModel(dir, 'neg', 1, nonFinitePolicyBytes(F, A, 'negative'), linearPolicyManifest('neg', F, A));
      ts = await startTestServer({ modelsDir: dir, watch: false });
    });

    after(async () => {
      await ts?.server.close();
      await cleanup?.();
    });

    const infer = (data: number[]) =>
      fetch(`${ts.server.url}/v2/models/neg/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, F], data }] }),
      });

    it('answers a NaN output with a typed 500, flags the model in /v2/models/:name and counts it', async () => {
      const meta0 = (await (await fetch(`${ts.server.url}/v2/models/neg`)).json()) as { nonFinite: unknown };
      expect(meta0.nonFinite).to.equal(null);
      const ok = await infer([0.1, 0.2, 0.3, 0.4]);
      expect(ok.status).to.equal(200);
      const res = await infer([0.1, -2, 0.3, 0.4]);
      expect(res.status).to.equal(500);
      const body = (await res.json()) as { code: string; error: string };
      expect(body.code).to.equal(ErrorCode.NON_FINITE_OUTPUT);
      expect(body.error).to.match(/non-finite/);
      const meta = (await (await fetch(`${ts.server.url}/v2/models/neg`)).json()) as {
        state: string;
        nonFinite: { version: number; output: string; requests: number } | null;
      };
      expect(meta.state).to.equal('READY');
      expect(meta.nonFinite).to.include({ version: 1, output: 'logits', requests: 1 });
      const text = await (await fetch(`${ts.server.url}/metrics`)).text();
      expect(metricValue(text, 'playmind_non_finite_outputs_total', { model: 'neg', version: '1' })).to.equal(1);
    });
  });
});
