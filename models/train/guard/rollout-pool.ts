/**
 * Plays batches of seeded MLP episodes on worker threads (one per core, by
 * default), or in this thread when one worker is asked for. Every episode is a
 * pure function of (parameters, seed), and answers are returned in job order,
 * so the results do not depend on the number of workers or their timing: a
 * training run is byte-reproducible on any machine.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Mlp, type MlpShape } from './mlp.js';
import { mlpPolicy, playEpisodes } from './rollout.js';
import type { RolloutJob, RolloutReply } from './rollout-worker.js';

/** The outcome of one job: per-episode returns and wins, in seed order. */
export interface RolloutBatch {
  returns: number[];
  wins: boolean[];
}

/** Runs rollout jobs in parallel. */
export class RolloutPool {
  private readonly workers: Worker[] = [];
  private readonly local: boolean;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (b: RolloutBatch) => void; reject: (e: Error) => void }>();
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ job: RolloutJob }> = [];
  /** Episodes played through this pool. */
  played = 0;

  /**
   * @param shape - the network shape
   * @param threads - worker threads; 1 plays in this thread @default min(2, available cores)
   */
  constructor(
    readonly shape: MlpShape,
    threads = Math.min(2, availableParallelism()),
  ) {
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`'threads' must be an integer >= 1, got ${threads}`);
    this.local = threads === 1;
    if (this.local) return;
    // The worker has this module's extension: .ts under tsx (which the worker
    // must load too: threads do not inherit the loader hooks), .js once compiled.
    const ext = extname(fileURLToPath(import.meta.url));
    const url = new URL(`./rollout-worker${ext}`, import.meta.url);
    const boot =
      ext === '.ts'
        ? `import(${JSON.stringify(tsxEsmApi())}).then((t) => { t.register(); return import(${JSON.stringify(url.href)}); });`
        : null;
    for (let i = 0; i < threads; i++) {
      const w =
        boot !== null
          ? new Worker(boot, { eval: true, workerData: { shape } })
          : new Worker(url, { workerData: { shape } });
      w.on('message', (reply: RolloutReply) => this.onReply(w, reply));
      w.on('error', (err) => this.failAll(err));
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** Number of threads playing. */
  get threads(): number {
    return this.local ? 1 : this.workers.length;
  }

  /**
   * Plays one episode per seed with `params`.
   *
   * @param params - the MLP parameters (copied)
   * @param seeds - episode seeds
   * @returns returns and wins in seed order
   */
  async play(params: ArrayLike<number>, seeds: readonly number[]): Promise<RolloutBatch> {
    this.played += seeds.length;
    if (this.local) {
      // A network per job: jobs run concurrently (they interleave at each episode's end).
      const policy = mlpPolicy(new Mlp(this.shape, Float32Array.from(params)));
      const results = await playEpisodes(() => policy, seeds);
      return { returns: results.map((r) => r.return), wins: results.map((r) => r.win) };
    }
    const job: RolloutJob = { id: this.nextId++, params: Float32Array.from(params), seeds: [...seeds] };
    return new Promise<RolloutBatch>((resolve, reject) => {
      this.pending.set(job.id, { resolve, reject });
      this.queue.push({ job });
      this.pump();
    });
  }

  /**
   * Plays many jobs at once (spread over the threads).
   *
   * @param jobs - parameters and seeds of each job
   * @returns one batch per job, in job order
   */
  playAll(jobs: ReadonlyArray<{ params: ArrayLike<number>; seeds: readonly number[] }>): Promise<RolloutBatch[]> {
    return Promise.all(jobs.map((j) => this.play(j.params, j.seeds)));
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    this.idle.length = 0;
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop() as Worker;
      const { job } = this.queue.shift() as { job: RolloutJob };
      w.postMessage(job);
    }
  }

  private onReply(w: Worker, reply: RolloutReply): void {
    const p = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    this.idle.push(w);
    if (p !== undefined) {
      if (reply.error !== undefined || reply.returns === undefined || reply.wins === undefined)
        p.reject(new Error(`rollout worker failed: ${reply.error ?? 'no result'}`));
      else p.resolve({ returns: reply.returns, wins: reply.wins });
    }
    this.pump();
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/** The URL of tsx's ES-module API (its `import` entry; `require.resolve` finds the CommonJS twin beside it). */
function tsxEsmApi(): string {
  return pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
}
