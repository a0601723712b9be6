/**
 * The recommender's live retraining loop: the server's quest telemetry (the JSONL the
 * arena appends, rotated files included) is split by time; a new version is trained
 * with the `playmind train-recs` trainer on everything before the most recent slice,
 * written next to the served one, and both are scored on that held-out slice
 * (recall@10, NDCG@10: each held-out quest ranked among those the player had not
 * taken, given the quests they took before it). The new version is promoted through
 * the rollout API only when it is better — higher NDCG@10 and no lower recall@10 —
 * and its report is kept with it (`<model>/<version>/report.json`) either way.
 *
 * It runs on an admin call (`POST /v2/repository/models/:name/retrain`) or on a
 * schedule (`--retrain-recs-minutes`).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ErrorCode,
  PlaymindError,
  silentLogger,
  tensor,
  type InferenceEngine,
  type Logger,
  type ModelRepository,
  type ModelVersion,
  type RecommenderManifest,
} from '../../sdk/index.js';
import { MetricMean, rankScore, trainRecommender, type Interaction } from '../../sdk/recs/index.js';
import { loadCandidate } from './candidate-source.js';
import type { RolloutManager } from './rollout-manager.js';

/** Recall and NDCG at 10 of one version on the held-out slice. */
export interface SliceScore {
  readonly version: number;
  readonly recallAt10: number;
  readonly ndcgAt10: number;
}

/** What one retraining run did (kept as `<model>/<version>/report.json`). */
export interface RetrainReport {
  readonly model: string;
  /** The version trained, or null when nothing was trained (too little telemetry). */
  readonly version: number | null;
  readonly at: string;
  readonly telemetry: {
    readonly files: readonly string[];
    /** JSON lines read, and lines that were not telemetry events (skipped). */
    readonly lines: number;
    readonly skippedLines: number;
    /** Distinct (player, quest) pairs, in the order they first happened. */
    readonly interactions: number;
    readonly players: number;
    /** Pairs before the held-out slice (the training data), and pairs of quests outside the catalogue dropped. */
    readonly trainInteractions: number;
    readonly droppedOutsideCatalogue: number;
    /** Pairs in the held-out slice, and those scored (the player had taken a quest before). */
    readonly heldOutInteractions: number;
    readonly heldOutCases: number;
    /** Time of the first held-out pair. */
    readonly heldOutFrom: string | null;
  };
  readonly candidate: SliceScore | null;
  readonly serving: SliceScore | null;
  readonly promoted: boolean;
  readonly reason: string;
  readonly lambda: number | null;
  readonly ms: number;
}

/** Options of {@link RecsRetrainer}. */
export interface RecsRetrainerOptions {
  /** The recommender to retrain. @default 'quest-recs' */
  model?: string;
  /** The telemetry JSONL (rotated files `<file>.1`, `<file>.2`, … are read too). */
  telemetryFile: string;
  /** The model repository folder (the new version is written there). */
  modelsDir: string;
  repository: ModelRepository;
  engine: InferenceEngine;
  rollouts: RolloutManager;
  /** Share of the most recent (player, quest) pairs held out. @default 0.2 */
  holdoutFraction?: number;
  /** Pairs needed before a run trains anything. @default 200 */
  minInteractions?: number;
  /** Seed of the trainer's validation split. @default 1 */
  seed?: number;
  /** Writes what is buffered to the telemetry file before a run reads it. */
  flushTelemetry?: () => Promise<void>;
  logger?: Logger;
  /** Called with every run's report (metrics). */
  onReport?: (report: RetrainReport) => void;
}

interface TelemetryPair {
  player: string;
  quest: string;
  time: string;
}

const K = 10;
const SCORE_BATCH = 512;

/** See the module documentation. */
export class RecsRetrainer {
  readonly model: string;
  private readonly o: RecsRetrainerOptions;
  private readonly holdout: number;
  private readonly minInteractions: number;
  private readonly log: Logger;
  private running: Promise<RetrainReport> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  /**
   * @param options - see {@link RecsRetrainerOptions}
   * @throws RangeError for a bad `holdoutFraction` or `minInteractions`
   */
  constructor(options: RecsRetrainerOptions) {
    this.o = options;
    this.model = options.model ?? 'quest-recs';
    this.holdout = options.holdoutFraction ?? 0.2;
    if (!(this.holdout > 0 && this.holdout < 1))
      throw new RangeError(`'holdoutFraction' must be in (0, 1), got ${String(options.holdoutFraction)}`);
    this.minInteractions = options.minInteractions ?? 200;
    if (!Number.isInteger(this.minInteractions) || this.minInteractions < 2)
      throw new RangeError(`'minInteractions' must be an integer ≥ 2, got ${String(options.minInteractions)}`);
    this.log = options.logger ?? silentLogger;
  }

  /**
   * Retrains, evaluates and promotes when better. A call while a run is in progress
   * joins that run.
   * @returns the run's report
   * @throws PlaymindError when the model is not a served recommender, or the trained version cannot load
   */
  run(): Promise<RetrainReport> {
    this.running ??= this.runOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Runs every `minutes` (timer unref'd; a failed run is logged). */
  schedule(minutes: number): void {
    if (!(minutes > 0)) throw new RangeError(`'minutes' must be > 0, got ${String(minutes)}`);
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => {
      this.run().catch((err: unknown) => this.log.error({ err, model: this.model }, 'recs retraining failed'));
    }, minutes * 60_000);
    this.timer.unref();
  }

  /** Stops the schedule and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private async runOnce(): Promise<RetrainReport> {
    const t0 = Date.now();
    const name = this.model;
    const { repository, engine } = this.o;
    const served = repository.get(name);
    if (!served || served.manifest.kind !== 'recommender')
      throw new PlaymindError(
        served ? ErrorCode.WRONG_KIND : ErrorCode.MODEL_UNAVAILABLE,
        served ? `"${name}" is a ${served.manifest.kind}, not a recommender` : `"${name}" serves no version to retrain`,
        { details: { model: name } },
      );
    const manifest = served.manifest;
    await this.o.flushTelemetry?.();
    const read = await readTelemetry(this.o.telemetryFile);
    const pairs = read.pairs;
    const cut = Math.floor(pairs.length * (1 - this.holdout));
    const catalogue = manifest.recommender.catalogue;
    const index = new Map(catalogue.map((c, i) => [c.id, i]));
    const train: Interaction[] = [];
    let dropped = 0;
    for (const p of pairs.slice(0, cut)) {
      if (index.has(p.quest)) train.push({ user: p.player, item: p.quest, weight: 1 });
      else dropped++;
    }
    const cases = heldOutCases(pairs, cut, index);
    const base = {
      model: name,
      at: new Date().toISOString(),
      telemetry: {
        files: read.files,
        lines: read.lines,
        skippedLines: read.skipped,
        interactions: pairs.length,
        players: new Set(pairs.map((p) => p.player)).size,
        trainInteractions: train.length,
        droppedOutsideCatalogue: dropped,
        heldOutInteractions: pairs.length - cut,
        heldOutCases: cases.length,
        heldOutFrom: pairs[cut]?.time ?? null,
      },
    };
    if (pairs.length < this.minInteractions || train.length === 0 || cases.length === 0) {
      const report: RetrainReport = {
        ...base,
        version: null,
        candidate: null,
        serving: null,
        promoted: false,
        reason: `not enough telemetry: ${pairs.length} (player, quest) pairs (needs ${this.minInteractions}), ${cases.length} held-out cases`,
        lambda: null,
        ms: Date.now() - t0,
      };
      this.finish(report);
      return report;
    }

    const trained = trainRecommender({
      name,
      interactions: train,
      catalogue: catalogue.map((c) => ({ id: c.id, title: c.title, tags: c.tags ? [...c.tags] : undefined })),
      seed: this.o.seed ?? 1,
    });
    if (trained.catalogue.length !== catalogue.length)
      throw new PlaymindError(
        ErrorCode.INTERNAL,
        `the trained catalogue has ${trained.catalogue.length} items, the served one ${catalogue.length}`,
      );
    const version = await this.writeVersion(served, trained.onnx);
    const candidate = await loadCandidate(this.o.modelsDir, name, version, this.log, this.o.engine);
    let report: RetrainReport;
    try {
      const servingScore = await repository.use(name, (v) => scoreSlice(engine, v, cases, catalogue.length));
      const candidateScore = await candidate.repository.use(name, (v) =>
        scoreSlice(engine, v, cases, catalogue.length),
      );
      const better =
        candidateScore.ndcgAt10 > servingScore.ndcgAt10 && candidateScore.recallAt10 >= servingScore.recallAt10;
      const verdict = `NDCG@10 ${candidateScore.ndcgAt10.toFixed(4)} vs ${servingScore.ndcgAt10.toFixed(4)}, recall@10 ${candidateScore.recallAt10.toFixed(4)} vs ${servingScore.recallAt10.toFixed(4)} (version ${servingScore.version}) on ${cases.length} held-out cases`;
      report = {
        ...base,
        version,
        candidate: candidateScore,
        serving: servingScore,
        promoted: better,
        reason: better ? `better: ${verdict}` : `not better, not promoted: ${verdict}`,
        lambda: trained.lambda,
        ms: Date.now() - t0,
      };
    } finally {
      await candidate.close();
    }
    await writeFile(
      join(this.o.modelsDir, name, String(version), 'report.json'),
      `${JSON.stringify(report, null, 2)}\n`,
    );
    if (report.promoted) {
      await this.o.rollouts.promote(name, { candidate: version, report, reason: `retrained: ${report.reason}` });
    }
    this.finish(report);
    return report;
  }

  private finish(report: RetrainReport): void {
    this.log.info(
      { model: report.model, version: report.version, promoted: report.promoted, reason: report.reason },
      'recs retraining run',
    );
    this.o.onReport?.(report);
  }

  /**
   * Writes the trained model as the next version, with the served version pinned in the
   * manifest first (so the folder appearing does not make it served) and its sha256 added.
   */
  private async writeVersion(served: ModelVersion, onnx: Uint8Array): Promise<number> {
    const name = this.model;
    const dir = join(this.o.modelsDir, name);
    const manifestFile = join(dir, 'manifest.json');
    const m = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown> & {
      sha256?: Record<string, string>;
    };
    const versions = this.o.repository.state(name)?.versions ?? [];
    let version = Math.max(served.version, ...versions) + 1;
    while (await exists(join(dir, String(version)))) version++;
    const sha = createHash('sha256').update(onnx).digest('hex');
    const next = { ...m, version: m.version ?? served.version, sha256: { ...m.sha256, [String(version)]: sha } };
    const tmp = `${manifestFile}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`);
    await rename(tmp, manifestFile);
    const staging = join(dir, `${version}.staging`);
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, 'model.onnx'), onnx);
    await rename(staging, join(dir, String(version)));
    return version;
  }
}

/** The telemetry files oldest first, read into distinct (player, quest) pairs in time order. */
async function readTelemetry(
  file: string,
): Promise<{ pairs: TelemetryPair[]; files: string[]; lines: number; skipped: number }> {
  const files: string[] = [];
  for (let i = 1; i <= 100; i++) {
    if (!(await exists(`${file}.${i}`))) break;
    files.unshift(`${file}.${i}`);
  }
  if (await exists(file)) files.push(file);
  const first = new Map<string, TelemetryPair>();
  let lines = 0;
  let skipped = 0;
  for (const f of files) {
    const text = await readFile(f, 'utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      lines++;
      let e: unknown;
      try {
        e = JSON.parse(line) as unknown;
      } catch {
        skipped++; // a line being written, or damage
        continue;
      }
      const { player, quest, time } = (e ?? {}) as Record<string, unknown>;
      if (typeof player !== 'string' || typeof quest !== 'string' || typeof time !== 'string') {
        skipped++;
        continue;
      }
      const key = `${player}\u0000${quest}`;
      const seen = first.get(key);
      if (!seen || time < seen.time) first.set(key, { player, quest, time });
    }
  }
  const pairs = [...first.values()];
  // Stable: pairs with the same time keep the order they were read in.
  pairs.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  return { pairs, files, lines, skipped };
}

/** A held-out case: the quests a player took before, and the one they took next. */
interface HeldOutCase {
  history: number[];
  target: number;
}

function heldOutCases(pairs: readonly TelemetryPair[], cut: number, index: ReadonlyMap<string, number>): HeldOutCase[] {
  const before = new Map<string, number[]>();
  const cases: HeldOutCase[] = [];
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i]!;
    const item = index.get(p.quest);
    if (item === undefined) continue;
    let h = before.get(p.player);
    if (!h) before.set(p.player, (h = []));
    if (i >= cut && h.length > 0) cases.push({ history: [...h], target: item });
    h.push(item);
  }
  return cases;
}

/** Scores a version on the held-out cases through the engine (batched). */
async function scoreSlice(
  engine: InferenceEngine,
  v: ModelVersion,
  cases: readonly HeldOutCase[],
  items: number,
): Promise<SliceScore> {
  const m = v.manifest as RecommenderManifest;
  const mean = new MetricMean();
  for (let start = 0; start < cases.length; start += SCORE_BATCH) {
    const batch = cases.slice(start, start + SCORE_BATCH);
    const rows = new Float32Array(batch.length * items);
    batch.forEach((c, r) => {
      for (const h of c.history) rows[r * items + h] = 1;
    });
    const { outputs } = await engine.run(v, { [m.recommender.input]: tensor('float32', rows, [batch.length, items]) });
    const scores = outputs[m.recommender.output]!.data as Float32Array;
    const excluded = new Uint8Array(items);
    batch.forEach((c, r) => {
      excluded.fill(0);
      for (const h of c.history) excluded[h] = 1;
      mean.add(rankScore(scores.subarray(r * items, (r + 1) * items), c.target, excluded, K));
    });
  }
  const s = mean.result();
  return { version: v.version, recallAt10: s.recall, ndcgAt10: s.ndcg };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
