import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import * as ort from 'onnxruntime-node';
import { parseManifest } from '../../sdk/contract/manifest.js';
import { trainRecsCommand } from '../../sdk/cli/commands/train-recs.js';
import { evaluateModelFolder } from '../../sdk/recs/evaluate.js';
import { UNCOVERED_SCORE } from '../../sdk/recs/onnx-export.js';
import { runSteam, steamDir } from '../../models/train/recs/steam.js';
import { simulateTelemetry, toJsonl } from '../../models/train/recs/telemetry.js';
import { freshTelemetry, REPO_ROOT } from '../../models/train/recs/train-quest-recs.js';
import { trainRecommender, writeModelFolder } from '../../sdk/recs/trainer.js';

/** Captures what the command writes. */
function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

async function run(argv: string[]) {
  const out = sink();
  const err = sink();
  const code = await trainRecsCommand.execute(argv, { stdout: out.stream, stderr: err.stream });
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('recs: train-recs end to end', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recs-train-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trains a tiny model whose folder passes the manifest schema and whose ONNX has the declared shapes', async () => {
    const log = join(dir, 'telemetry.jsonl');
    await writeFile(log, toJsonl(simulateTelemetry({ players: 300, seed: 4 })));
    const out = join(dir, 'tiny-recs');
    const started = Date.now();
    const r = await run([
      '--interactions',
      log,
      '--user-col',
      'player',
      '--item-col',
      'quest',
      '--out',
      out,
      '--eval',
      '--seed',
      '3',
    ]);
    expect(r.code, r.stderr).to.equal(0);
    expect(Date.now() - started).to.be.lessThan(20_000);
    expect(r.stderr).to.include('ignored columns: outcome, time');
    expect(r.stdout).to.match(/\| EASE \(ONNX\) \| 0\.\d{4} \| 0\.\d{4} \|/);

    const manifest = parseManifest(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.kind).to.equal('recommender');
    if (manifest.kind !== 'recommender') return;
    expect(manifest.name).to.equal('tiny-recs');
    const n = manifest.recommender.catalogue.length;
    expect(n).to.be.within(30, 48);
    expect(manifest.recommender.catalogue.every((c) => typeof c.popularity === 'number')).to.equal(true);
    const bytes = await readFile(join(out, '1', 'model.onnx'));
    expect(manifest.sha256?.['1']).to.equal(createHash('sha256').update(bytes).digest('hex'));
    expect(existsSync(join(out, 'report', 'README.md'))).to.equal(true);
    expect(existsSync(join(out, 'report', 'evaluation.svg'))).to.equal(true);

    const session = await ort.InferenceSession.create(join(out, '1', 'model.onnx'));
    try {
      const shapes = (meta: readonly ort.InferenceSession.ValueMetadata[]) =>
        meta.map((m) => ({
          name: m.name,
          shape: m.isTensor ? m.shape.map((d) => (typeof d === 'number' ? d : -1)) : [],
        }));
      expect(shapes(session.inputMetadata)).to.deep.equal(
        manifest.inputs.map((t) => ({ name: t.name, shape: t.shape })),
      );
      expect(shapes(session.outputMetadata)).to.deep.equal(
        manifest.outputs.map((t) => ({ name: t.name, shape: t.shape })),
      );
      // A batch of 3: cold start, one quest, two quests.
      const input = new Float32Array(3 * n);
      input[n + 0] = 1;
      input[2 * n + 0] = 1;
      input[2 * n + 1] = 1;
      const res = await session.run({ history: new ort.Tensor('float32', input, [3, n]) });
      expect(res.scores!.dims).to.deep.equal([3, n]);
      const scores = res.scores!.data as Float32Array;
      const top = res.top_indices!.data as BigInt64Array;
      const k = res.top_indices!.dims[1]!;
      // Cold start: ranking by the manifest's popularity.
      const byPop = [...manifest.recommender.catalogue.keys()].sort(
        (a, b) => manifest.recommender.catalogue[b]!.popularity! - manifest.recommender.catalogue[a]!.popularity!,
      );
      expect(Number(top[0])).to.equal(byPop[0]);
      // The in-graph top-k skips the history and agrees with the scores output.
      for (let r = 0; r < 3; r++) {
        const row = [...scores.subarray(r * n, (r + 1) * n)]
          .map((s, i) => ({ s, i }))
          .filter(({ i }) => input[r * n + i] === 0);
        row.sort((a, b) => b.s - a.s);
        const topRow = [...top.subarray(r * k, (r + 1) * k)].map(Number);
        expect(topRow.every((i) => input[r * n + i] === 0)).to.equal(true);
        expect(topRow[0]).to.equal(row[0]!.i);
      }
    } finally {
      await session.release();
    }
  });

  it('ranks items it does not model last, by popularity, in catalogue order (weighted input)', async () => {
    const rows = [];
    for (let u = 0; u < 40; u++) {
      rows.push(
        { user: `u${u}`, item: 'A', weight: 3 + (u % 5) },
        { user: `u${u}`, item: u % 2 ? 'B' : 'C', weight: 1 + (u % 3) },
      );
    }
    rows.push(
      { user: 'u0', item: 'rare1', weight: 2 },
      { user: 'u1', item: 'rare2', weight: 2 },
      { user: 'u2', item: 'rare2', weight: 2 },
    );
    const model = trainRecommender({
      name: 'w-recs',
      interactions: rows,
      weighted: true,
      minItemCount: 3,
      lambda: 5,
      topK: 3,
    });
    const written = await writeModelFolder(join(dir, 'w-recs'), model);
    expect(written.manifest.recommender.history).to.equal('weighted');
    expect(written.manifest.recommender.catalogue.map((c) => c.id)).to.deep.equal(['A', 'B', 'C', 'rare1', 'rare2']);
    const session = await ort.InferenceSession.create(written.modelFile);
    try {
      const res = await session.run({ history: new ort.Tensor('float32', Float32Array.from([0, 4, 0, 0, 0]), [1, 5]) });
      const s = res.scores!.data as Float32Array;
      expect(s[3]).to.equal(UNCOVERED_SCORE + 1);
      expect(s[4]).to.equal(UNCOVERED_SCORE + 2);
      expect(Math.min(s[0]!, s[2]!)).to.be.greaterThan(-1000);
      expect([...(res.top_indices!.data as BigInt64Array)].map(Number)).to.not.include(1);
    } finally {
      await session.release();
    }
  });

  it('rejects a malformed interactions file with the line number and the reason (exit code 1)', async () => {
    const file = join(dir, 'broken.tsv');
    await writeFile(file, 'user\titem\thours\na\tx\t1\nb\ty\t2\nc\tz\tmany\n');
    const r = await run([
      '--interactions',
      file,
      '--user-col',
      'user',
      '--item-col',
      'item',
      '--weight-col',
      'hours',
      '--out',
      join(dir, 'never'),
    ]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include(`${file}:4: weight column "hours" is not a number ("many")`);
    expect(existsSync(join(dir, 'never'))).to.equal(false);
  });

  it('names unknown columns, and answers bad arguments with exit code 2 and help with 0', async () => {
    const file = join(dir, 'ok.csv');
    await writeFile(file, 'user,item\na,x\na,y\n');
    const unknown = await run([
      '--interactions',
      file,
      '--user-col',
      'player',
      '--item-col',
      'item',
      '--out',
      join(dir, 'u'),
    ]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.include('unknown column "player"; the header has "user", "item"');
    const missing = await run(['--interactions', file, '--user-col', 'user']);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.include('missing --item-col, --out');
    const badFlag = await run([
      '--interactions',
      file,
      '--user-col',
      'user',
      '--item-col',
      'item',
      '--out',
      join(dir, 'u'),
      '--bogus',
    ]);
    expect(badFlag.code).to.equal(2);
    const help = await run(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include('Usage: playmind train-recs');
  });
});

describe('recs: the shipped quest-recs model', () => {
  const modelDir = join(REPO_ROOT, 'models/quest-recs');

  it('beats popularity on held-out telemetry of players it never saw', async function () {
    const events = freshTelemetry(1000, 2);
    const report = await evaluateModelFolder(
      modelDir,
      events.map((e) => ({ user: e.player, item: e.quest, weight: 1 })),
      { seed: 2 },
    );
    const [model, pop] = report.methods;
    expect(report.users).to.be.greaterThan(500);
    expect(model!.ndcg, 'NDCG@10').to.be.greaterThan(pop!.ndcg + 0.05);
    expect(model!.recall, 'recall@10').to.be.greaterThan(pop!.recall + 0.03);
  });

  it('matches the sha256 its manifest declares', async function () {
    const manifest = parseManifest(await readFile(join(modelDir, 'manifest.json'), 'utf8'));
    const bytes = await readFile(join(modelDir, '1', 'model.onnx'));
    expect(manifest.sha256?.['1']).to.equal(createHash('sha256').update(bytes).digest('hex'));
  });
});

describe('recs: Steam user-behaviour data (subsample)', () => {
  it('beats popularity and item-kNN on purchases and play hours, on every third user', async function () {
    if (!existsSync(join(steamDir(), 'game_purchase.dat'))) {
      this.skip(); // the compat folder is absent: set PLAYMIND_COMPAT_DIR to a folder with steam/ (see ../shared/compat/PROVENANCE.md)
    }
    this.timeout(120_000);
    const results = await runSteam({ userStride: 3, maxItems: 600, lambdaGrid: [0.3], progress: false });
    expect(results).to.have.length(2);
    for (const r of results!) {
      const [model, pop, knn] = r.evaluation.methods;
      expect(model!.ndcg, `${r.variant.id} NDCG vs popularity`).to.be.greaterThan(pop!.ndcg * 1.1);
      expect(model!.ndcg, `${r.variant.id} NDCG vs item-kNN`).to.be.greaterThan(knn!.ndcg);
      expect(model!.recall, `${r.variant.id} recall vs popularity`).to.be.greaterThan(pop!.recall);
      expect(model!.recall, `${r.variant.id} recall vs item-kNN`).to.be.greaterThan(knn!.recall);
    }
  });
});
