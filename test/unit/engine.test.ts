import { expect } from '../helpers/chai.js';
import { nodeBackend } from '../../sdk/engine/backend-node.js';
import { InferenceEngine, type BatchEvent, type RunnableVersion } from '../../sdk/engine/inference-engine.js';
import { tensor } from '../../sdk/engine/backend.js';
import { PlaymindError } from '../../sdk/protocol.js';
import { linearPolicyBytes } from '../helpers/models.js';

async function version(
  opts: { fixedBatch?: number; batching?: RunnableVersion['batching'] } = {},
): Promise<RunnableVersion> {
  const session = await nodeBackend().createSession(linearPolicyBytes(4, 3, 1, opts.fixedBatch));
  return { id: 'lin@1', name: 'lin', version: 1, session, batching: opts.batching, fixedBatchSize: opts.fixedBatch };
}

const row = (i: number) => Float32Array.from([i, -i, i * 0.5, 1]);

describe('InferenceEngine', () => {
  it('merges concurrent requests into one run and splits the results back', async () => {
    const v = await version();
    const batches: BatchEvent[] = [];
    const engine = new InferenceEngine({ observer: { onBatch: (e) => batches.push(e) } });
    const direct = await Promise.all(
      Array.from({ length: 50 }, (_, i) => v.session.run({ obs: tensor('float32', row(i), [1, 4]) })),
    );
    const merged = await Promise.all(
      Array.from({ length: 50 }, (_, i) => engine.run(v, { obs: tensor('float32', row(i), [1, 4]) })),
    );
    expect(batches.length).to.be.lessThan(5);
    expect(batches.reduce((s, b) => s + b.rows, 0)).to.equal(50);
    merged.forEach((r, i) => {
      expect(r.outputs.logits!.dims).to.deep.equal([1, 3]);
      expect(Array.from(r.outputs.logits!.data as Float32Array)).to.deep.equal(
        Array.from(direct[i]!.logits!.data as Float32Array),
      );
      expect(r.servedBy).to.equal('lin@1');
    });
    expect(merged[0]!.batchRows).to.be.greaterThan(1);
  });

  it('keeps requests of several rows together', async () => {
    const v = await version();
    const engine = new InferenceEngine();
    const a = Float32Array.from([...row(1), ...row(2), ...row(3)]);
    const [r1, r2] = await Promise.all([
      engine.run(v, { obs: tensor('float32', a, [3, 4]) }),
      engine.run(v, { obs: tensor('float32', row(9), [1, 4]) }),
    ]);
    const d1 = await v.session.run({ obs: tensor('float32', a, [3, 4]) });
    expect(r1.outputs.logits!.dims).to.deep.equal([3, 3]);
    expect(Array.from(r1.outputs.logits!.data as Float32Array)).to.deep.equal(
      Array.from(d1.logits!.data as Float32Array),
    );
    expect(r2.outputs.logits!.dims).to.deep.equal([1, 3]);
  });

  it('respects maxBatchSize', async () => {
    const v = await version({ batching: { maxBatchSize: 8 } });
    const batches: BatchEvent[] = [];
    const engine = new InferenceEngine({ observer: { onBatch: (e) => batches.push(e) } });
    await Promise.all(Array.from({ length: 40 }, (_, i) => engine.run(v, { obs: tensor('float32', row(i), [1, 4]) })));
    expect(Math.max(...batches.map((b) => b.rows))).to.equal(8);
    expect(batches.length).to.equal(5);
  });

  it('runs a fixed-batch model one request per run', async () => {
    const v = await version({ fixedBatch: 1 });
    const batches: BatchEvent[] = [];
    const engine = new InferenceEngine({ observer: { onBatch: (e) => batches.push(e) } });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => engine.run(v, { obs: tensor('float32', row(i), [1, 4]) })),
    );
    expect(batches.every((b) => b.rows === 1)).to.equal(true);
    expect(results).to.have.length(20);
    const d = await v.session.run({ obs: tensor('float32', row(7), [1, 4]) });
    expect(Array.from(results[7]!.outputs.logits!.data as Float32Array)).to.deep.equal(
      Array.from(d.logits!.data as Float32Array),
    );
  });

  it('answers overloaded at once when the queue is full', async () => {
    const v = await version({ batching: { maxQueueSize: 10, maxBatchSize: 4, maxQueueDelayMs: 50 } });
    const engine = new InferenceEngine();
    const calls = Array.from({ length: 30 }, (_, i) =>
      engine.run(v, { obs: tensor('float32', row(i), [1, 4]) }).then(
        () => 'ok',
        (e: PlaymindError) => e.code,
      ),
    );
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o === 'ok')).to.have.length(10);
    expect(outcomes.filter((o) => o === 'overloaded')).to.have.length(20);
    // A refusal is control flow: a typed error with its details, built without a stack trace.
    const limit = Error.stackTraceLimit;
    const fill = Array.from({ length: 12 }, (_, i) =>
      engine.run(v, { obs: tensor('float32', row(i), [1, 4]) }).catch((err: unknown) => err),
    );
    const refused = (await Promise.all(fill)).find((x) => x instanceof PlaymindError) as PlaymindError;
    expect(refused).to.be.instanceOf(PlaymindError);
    expect(refused.code).to.equal('overloaded');
    expect(refused.details).to.include({ limit: 10 });
    expect(refused.message).to.match(/is overloaded: 10 rows queued at normal priority/);
    expect(refused.stack?.split('\n').filter((l) => /^\s+at /.test(l))).to.deep.equal([]);
    expect(Error.stackTraceLimit).to.equal(limit);
  });

  /** A version whose runs are recorded (the first feature of every row, in batch order) and take `delayMs` more. */
  async function recorded(batching: RunnableVersion['batching'], delayMs = 0) {
    const v = await version({ batching });
    const runs: number[][] = [];
    const inner = v.session;
    const session: typeof inner = Object.create(inner) as typeof inner;
    session.run = async (feeds, fetches) => {
      const obs = feeds.obs!.data as Float32Array;
      runs.push(Array.from({ length: obs.length / 4 }, (_, r) => obs[r * 4]!));
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return inner.run(feeds, fetches);
    };
    return { v: { ...v, session }, runs };
  }

  it('takes a high-priority request into the next batch ahead of a queue full of normal ones', async () => {
    const { v, runs } = await recorded({ maxQueueSize: 20, maxBatchSize: 4, maxQueueDelayMs: 0 }, 20);
    const engine = new InferenceEngine();
    const normal = Array.from({ length: 20 }, (_, i) =>
      engine.run(v, { obs: tensor('float32', row(i), [1, 4]) }).then(
        () => 'ok',
        (e: PlaymindError) => e.code,
      ),
    );
    // The normal lane is full: one more normal request is refused at once...
    const refused = engine.run(v, { obs: tensor('float32', row(99), [1, 4]) }).then(
      () => 'ok',
      (e: PlaymindError) => e.code,
    );
    expect(await refused).to.equal('overloaded');
    // ...while a high one is accepted and runs in the very first batch, before 20 queued normal rows.
    const high = engine.run(v, { obs: tensor('float32', row(1000), [1, 4]) }, { priority: 'high' });
    await high;
    expect(runs[0]).to.include(1000);
    expect(await Promise.all(normal)).to.deep.equal(Array(20).fill('ok'));
    // A high request made while a normal batch runs is served in the batch right after it.
    const more = Array.from({ length: 20 }, (_, i) => engine.run(v, { obs: tensor('float32', row(i), [1, 4]) }));
    await new Promise((r) => setTimeout(r, 5)); // the first of the 5 normal batches is running
    const before = runs.length;
    await engine.run(v, { obs: tensor('float32', row(2000), [1, 4]) }, { priority: 'high' });
    const at = runs.findIndex((r) => r.includes(2000));
    expect(at, `high request ran in batch ${at}, the queue's batches started at ${before}`).to.equal(before);
    await Promise.all(more);
  });

  it('bounds each priority lane on its own', async () => {
    const v = await version({ batching: { maxQueueSize: 6, maxBatchSize: 2, maxQueueDelayMs: 50 } });
    const engine = new InferenceEngine();
    const call = (i: number, priority: 'high' | 'normal' | 'low') =>
      engine.run(v, { obs: tensor('float32', row(i), [1, 4]) }, { priority }).then(
        () => 'ok',
        (e: PlaymindError) => e.code,
      );
    const normal = Array.from({ length: 10 }, (_, i) => call(i, 'normal'));
    const low = Array.from({ length: 10 }, (_, i) => call(i, 'low'));
    const high = Array.from({ length: 10 }, (_, i) => call(i, 'high'));
    for (const lane of [normal, high, low]) {
      const outcomes = await Promise.all(lane);
      expect(outcomes.filter((o) => o === 'ok')).to.have.length(6);
      expect(outcomes.filter((o) => o === 'overloaded')).to.have.length(4);
    }
  });

  it('fails a request whose deadline passes while it waits', async () => {
    const v = await version({ batching: { maxQueueDelayMs: 200, maxBatchSize: 1000 } });
    const engine = new InferenceEngine();
    const p = engine.run(v, { obs: tensor('float32', row(1), [1, 4]) }, { deadlineMs: 10 });
    await expect(p).to.be.rejectedWith(PlaymindError, /deadline of 10 ms passed/);
    const ok = await engine.run(v, { obs: tensor('float32', row(1), [1, 4]) }, { deadlineMs: 5000 });
    expect(ok.outputs.logits).to.not.equal(undefined);
  });

  it('refuses new requests after close, with the closed code', async () => {
    const v = await version();
    const engine = new InferenceEngine();
    engine.close();
    await expect(engine.run(v, { obs: tensor('float32', row(1), [1, 4]) }))
      .to.be.rejectedWith(PlaymindError)
      .and.eventually.have.property('code', 'closed');
  });
});
