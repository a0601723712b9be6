/**
 * Rollouts of a model's candidate version, one per model at a time:
 *
 * - **shadow**: the candidate decides for the same guards on the same ticks without
 *   acting; its agreement with the serving version and its latency are measured;
 * - **canary**: a fraction of arena rooms are served by the candidate; game KPIs and
 *   inference errors are kept per version, and once the candidate has made
 *   `minDecisions` decisions it is rolled back automatically when its error rate, or
 *   the chosen KPI, is worse than the serving version's by more than the margin (or,
 *   with `autoPromote`, promoted when it is at least as good).
 *
 * Promotion swaps the candidate in through the repository's atomic swap
 * (`repository.pin`) and writes the pin into the model's `manifest.json`, so a
 * restart or a file-watch reload keeps serving it. The game adapters feed the
 * counters ({@link RolloutManager.recordDecision}, {@link RolloutManager.recordShadow},
 * {@link RolloutManager.recordGame}); per-version KPIs are kept (and exported) with or
 * without a rollout.
 *
 * @module
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import {
  ErrorCode,
  PlaymindError,
  silentLogger,
  type InferenceEngine,
  type Logger,
  type ModelRepository,
} from '../../sdk/index.js';
import { loadCandidate, type Candidate } from './candidate-source.js';

export type { Candidate } from './candidate-source.js';
import type { RolloutMetrics } from './rollout-metrics.js';

/** Rollout modes. */
export const ROLLOUT_MODES = ['shadow', 'canary'] as const;
export type RolloutMode = (typeof ROLLOUT_MODES)[number];
/** Where a rollout is. */
export type RolloutStatus = 'running' | 'promoted' | 'rolled-back' | 'stopped';

/** The game KPIs kept per version. */
export const KPI_NAMES = ['guardReturn', 'playerDeathsPerMinute', 'playerKillsPerMinute', 'questCompletion'] as const;
export type KpiName = (typeof KPI_NAMES)[number];
/** Which way each KPI is better, unless a rollout says otherwise (the guards' point of view). */
export const KPI_BETTER: Readonly<Record<KpiName, 'higher' | 'lower'>> = {
  guardReturn: 'higher',
  playerDeathsPerMinute: 'higher',
  playerKillsPerMinute: 'lower',
  questCompletion: 'higher',
};

/** The body of `POST /v2/repository/models/:name/rollout`. */
export const RolloutRequestSchema = z
  .object({
    /** The candidate version: `2`, `"2"` or `"npc-guard@2"`. */
    candidate: z.union([
      z.number().int().positive(),
      z.string().regex(/^(?:[A-Za-z0-9][A-Za-z0-9._-]*@)?[1-9]\d{0,8}$/),
    ]),
    mode: z.enum(ROLLOUT_MODES),
    /** Canary: share of new arena rooms the candidate serves. @default 0.1 */
    fraction: z.number().gt(0).max(1).optional(),
    /** Canary: the KPI judged, its margin (a share of the serving value) and which way is better. */
    kpi: z
      .object({
        name: z.enum(KPI_NAMES),
        margin: z.number().min(0).max(10).optional(),
        better: z.enum(['higher', 'lower']).optional(),
      })
      .strict()
      .optional(),
    /** Largest excess of the candidate's error rate over the serving version's. @default 0.01 */
    errorMargin: z.number().min(0).max(1).optional(),
    /** Candidate decisions (guard rows) before it is judged. @default 1000 */
    minDecisions: z.number().int().min(1).max(1_000_000_000).optional(),
    /** Canary: promote automatically once the candidate is judged at least as good. @default false */
    autoPromote: z.boolean().optional(),
  })
  .strict();
export type RolloutRequest = z.infer<typeof RolloutRequestSchema>;

/** A rollout's settings, defaults applied. */
export interface RolloutSettings {
  readonly candidate: number;
  readonly mode: RolloutMode;
  readonly fraction: number;
  readonly kpi: { readonly name: KpiName; readonly margin: number; readonly better: 'higher' | 'lower' };
  readonly errorMargin: number;
  readonly minDecisions: number;
  readonly autoPromote: boolean;
}

/** What a version did, counted. */
export interface VersionCounters {
  /** Guard decisions asked of it (rows). */
  decisions: number;
  /** Of those, the ones it failed to make. */
  errors: number;
  /** Sum of the rewards of the guards it decided for. */
  guardReward: number;
  /** Guard-seconds it decided for. */
  guardSeconds: number;
  /** Room-seconds it served. */
  roomSeconds: number;
  /** Players downed by guards while it served. */
  playerDowns: number;
  /** Guards downed by players while it served. */
  guardDowns: number;
  questsTaken: number;
  questsFinished: number;
}

/** A version's counters and KPIs. */
export interface VersionReport extends VersionCounters {
  readonly version: number;
  readonly errorRate: number | null;
  readonly kpis: Readonly<Record<KpiName, number | null>>;
}

/** How the shadow candidate compares. */
export interface ShadowReport {
  /** Ticks the candidate decided for. */
  ticks: number;
  /** Guard decisions compared. */
  compared: number;
  agreed: number;
  /** agreed / compared, or null before the first comparison. */
  agreement: number | null;
  /** Guard decisions the candidate failed to make. */
  errors: number;
  /** Largest difference of one action probability, where both gave probabilities. */
  maxProbabilityDifference: number | null;
  /** Over the last 4096 ticks. */
  latencyMs: { p50: number; p99: number } | null;
}

/** What `GET /v2/repository/models/:name/rollout` answers. */
export interface RolloutState {
  readonly model: string;
  readonly mode: RolloutMode;
  readonly status: RolloutStatus;
  readonly serving: number;
  readonly candidate: number;
  readonly settings: RolloutSettings;
  readonly startedAt: string;
  readonly endedAt: string | null;
  /** Why it ended (or the last judgement while running). */
  readonly reason: string | null;
  readonly versions: { readonly serving: VersionReport; readonly candidate: VersionReport };
  readonly shadow: ShadowReport | null;
  /** Rooms the candidate was given (canary). */
  readonly candidateRooms: number;
  /** An offline evaluation kept with the promotion (the recommender loop's). */
  readonly report: unknown;
}

/** Options of {@link RolloutManager}. */
export interface RolloutManagerOptions {
  /** The server's repository (promotion pins the candidate there). */
  repository: ModelRepository;
  /** The model folder: promotion writes the pin into `<modelsDir>/<name>/manifest.json`. */
  modelsDir: string;
  metrics?: RolloutMetrics;
  logger?: Logger;
  /** The engine a candidate's brain runs on (the server's shared one). @default an engine per candidate */
  engine?: InferenceEngine;
  /** Loads a candidate. @default a repository on the model folder showing only that version */
  loadCandidate?: (name: string, version: number) => Promise<Candidate>;
}

/** What {@link RolloutManager.recordGame} adds for a version. */
export type GameDelta = Partial<Omit<VersionCounters, 'decisions' | 'errors'>>;

/** What {@link RolloutManager.recordShadow} takes for one tick. */
export interface ShadowSample {
  /** The serving version's actions (the ones applied). */
  served: ArrayLike<number>;
  /** The candidate's, or null when it failed. */
  candidate: ArrayLike<number> | null;
  servedProbabilities?: Float32Array | null;
  candidateProbabilities?: Float32Array | null;
  latencyMs: number;
}

const LATENCY_WINDOW = 4096;

function emptyCounters(): VersionCounters {
  return {
    decisions: 0,
    errors: 0,
    guardReward: 0,
    guardSeconds: 0,
    roomSeconds: 0,
    playerDowns: 0,
    guardDowns: 0,
    questsTaken: 0,
    questsFinished: 0,
  };
}

/** The KPIs of a version's counters (null where there is no data yet). */
export function kpisOf(c: VersionCounters): Record<KpiName, number | null> {
  const perMinute = (n: number, seconds: number) => (seconds > 0 ? (n * 60) / seconds : null);
  return {
    guardReturn: perMinute(c.guardReward, c.guardSeconds),
    playerDeathsPerMinute: perMinute(c.playerDowns, c.roomSeconds),
    playerKillsPerMinute: perMinute(c.guardDowns, c.roomSeconds),
    questCompletion: c.questsTaken > 0 ? c.questsFinished / c.questsTaken : null,
  };
}

function report(version: number, c: VersionCounters): VersionReport {
  return { version, ...c, errorRate: c.decisions > 0 ? c.errors / c.decisions : null, kpis: kpisOf(c) };
}

function add(c: VersionCounters, d: GameDelta): void {
  for (const [k, v] of Object.entries(d) as [keyof GameDelta, number | undefined][]) if (v) c[k] += v;
}

/** A running (or finished) rollout. */
class Rollout {
  status: RolloutStatus = 'running';
  reason: string | null = null;
  endedAt: string | null = null;
  report: unknown = null;
  readonly serving = emptyCounters();
  readonly candidateCounters = emptyCounters();
  readonly shadow: ShadowReport = {
    ticks: 0,
    compared: 0,
    agreed: 0,
    agreement: null,
    errors: 0,
    maxProbabilityDifference: null,
    latencyMs: null,
  };
  readonly latencies = new Float64Array(LATENCY_WINDOW);
  latencyCount = 0;
  rooms = 0;
  candidateRooms = 0;
  /** Set while its promotion swaps the candidate in. */
  promoting = false;
  readonly startedAt = new Date().toISOString();

  constructor(
    readonly model: string,
    readonly servingVersion: number,
    readonly settings: RolloutSettings,
    public candidate: Candidate | null,
  ) {}

  state(): RolloutState {
    return {
      model: this.model,
      mode: this.settings.mode,
      status: this.status,
      serving: this.servingVersion,
      candidate: this.settings.candidate,
      settings: this.settings,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      reason: this.reason,
      versions: {
        serving: report(this.servingVersion, this.serving),
        candidate: report(this.settings.candidate, this.candidateCounters),
      },
      shadow: this.settings.mode === 'shadow' ? { ...this.shadow, latencyMs: this.latencyQuantiles() } : null,
      candidateRooms: this.candidateRooms,
      report: this.report,
    };
  }

  latencyQuantiles(): { p50: number; p99: number } | null {
    const n = Math.min(this.latencyCount, LATENCY_WINDOW);
    if (n === 0) return null;
    const sorted = this.latencies.slice(0, n).sort();
    const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))]!;
    return { p50: q(0.5), p99: q(0.99) };
  }
}

/** A room's share of a canary: which version serves it, read on every tick. */
export interface RoomAssignment {
  /** `candidate` while the canary that gave the room to the candidate runs, else `serving`. */
  readonly serves: 'candidate' | 'serving';
  /** The candidate while it serves this room. */
  readonly candidate: Candidate | null;
}

/** See the module documentation. */
export class RolloutManager {
  private readonly rollouts = new Map<string, Rollout>();
  private readonly ledger = new Map<string, Map<number, VersionCounters>>();
  private readonly repository: ModelRepository;
  private readonly modelsDir: string;
  private readonly metrics: RolloutMetrics | undefined;
  private readonly log: Logger;
  private readonly loadCandidate: (name: string, version: number) => Promise<Candidate>;
  private readonly starting = new Set<string>();
  private readonly offLoaded: () => void;

  constructor(options: RolloutManagerOptions) {
    this.repository = options.repository;
    this.modelsDir = options.modelsDir;
    this.metrics = options.metrics;
    this.log = options.logger ?? silentLogger;
    this.loadCandidate =
      options.loadCandidate ??
      ((name, version) => loadCandidate(this.modelsDir, name, version, this.log, options.engine));
    // A version swapped in by anything but a promotion (a file dropped in, model control)
    // ends the comparison: the baseline is gone.
    this.offLoaded = this.repository.on('loaded', (e) => {
      const r = this.rollouts.get(e.name);
      if (r && r.status === 'running' && !r.promoting && e.version !== r.servingVersion)
        void this.finish(r, 'stopped', `the served version changed to ${e.version} outside the rollout`);
    });
  }

  /**
   * Starts a rollout of `model`'s candidate version (loads and checks it first).
   * @returns its state
   * @throws PlaymindError `unknown_model`, `model_unavailable` (nothing served),
   *   `invalid_argument` (bad settings, candidate already served, a rollout running),
   *   `model_load_failed` / `contract_mismatch` (the candidate was refused: file and reason)
   */
  async start(model: string, request: RolloutRequest): Promise<RolloutState> {
    const settings = this.settings(model, request);
    const served = this.repository.get(model);
    if (!served)
      throw new PlaymindError(ErrorCode.MODEL_UNAVAILABLE, `model "${model}" serves no version to compare with`, {
        details: { model },
      });
    if (served.version === settings.candidate)
      throw new PlaymindError(
        ErrorCode.INVALID_ARGUMENT,
        `version ${settings.candidate} of "${model}" is already served`,
        {
          details: { model, candidate: settings.candidate },
        },
      );
    const running = this.rollouts.get(model);
    if ((running && running.status === 'running') || this.starting.has(model))
      throw new PlaymindError(
        ErrorCode.INVALID_ARGUMENT,
        `a rollout of "${model}" is running (candidate ${running?.settings.candidate ?? '…'}); DELETE it first`,
        { details: { model, conflict: true } },
      );
    this.starting.add(model);
    try {
      const candidate = await this.loadCandidate(model, settings.candidate);
      const r = new Rollout(model, served.version, settings, candidate);
      this.rollouts.set(model, r);
      this.metrics?.state(model, settings.mode, r.servingVersion, settings.candidate, r.status);
      this.log.info(
        { model, mode: settings.mode, serving: served.version, candidate: settings.candidate },
        'rollout started',
      );
      return r.state();
    } finally {
      this.starting.delete(model);
    }
  }

  /** The current or last rollout of `model`, or undefined. */
  get(model: string): RolloutState | undefined {
    return this.rollouts.get(model)?.state();
  }

  /** Every model's current or last rollout. */
  list(): RolloutState[] {
    return [...this.rollouts.values()].map((r) => r.state());
  }

  /**
   * Stops a running rollout (the serving version keeps serving).
   * @throws PlaymindError `invalid_argument` when none is running
   */
  async stop(model: string, reason = 'stopped by an admin call'): Promise<RolloutState> {
    const r = this.running(model);
    await this.finish(r, 'stopped', reason);
    return r.state();
  }

  /**
   * Promotes: the running rollout's candidate, or — with `candidate` and no rollout
   * running — that version directly (after an offline evaluation). Swaps it in through
   * the repository's atomic swap and writes the pin into the manifest.
   *
   * @param model - the model
   * @param options - `candidate` (without a running rollout), `report` kept with the promotion
   * @returns the rollout's final state
   * @throws PlaymindError when there is nothing to promote or the version cannot be served
   *   (the previous version keeps serving)
   */
  async promote(
    model: string,
    options: { candidate?: number; report?: unknown; reason?: string } = {},
  ): Promise<RolloutState> {
    let r = this.rollouts.get(model);
    const offline = !r || r.status !== 'running';
    if (!r || r.status !== 'running') {
      if (options.candidate === undefined)
        throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `no rollout of "${model}" is running; name a candidate`, {
          details: { model },
        });
      const served = this.repository.get(model);
      if (!this.repository.has(model)) throw new PlaymindError(ErrorCode.UNKNOWN_MODEL, `no model named "${model}"`);
      r = new Rollout(
        model,
        served?.version ?? 0,
        { ...this.settings(model, { candidate: options.candidate, mode: 'canary' }), fraction: 0 },
        null,
      );
      this.rollouts.set(model, r);
    } else if (options.candidate !== undefined && options.candidate !== r.settings.candidate) {
      throw new PlaymindError(
        ErrorCode.INVALID_ARGUMENT,
        `the running rollout of "${model}" is for version ${r.settings.candidate}, not ${options.candidate}`,
        { details: { model } },
      );
    }
    if (r.promoting)
      throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `the candidate of "${model}" is being promoted`, {
        details: { model, conflict: true },
      });
    if (options.report !== undefined) r.report = options.report;
    r.promoting = true;
    try {
      await this.repository.pin(model, r.settings.candidate);
    } catch (err) {
      r.promoting = false;
      if (offline) await this.finish(r, 'stopped', `promotion failed: ${(err as Error).message}`);
      throw err;
    }
    r.promoting = false;
    await this.persistPin(model, r.settings.candidate);
    await this.finish(r, 'promoted', options.reason ?? 'promoted by an admin call');
    return r.state();
  }

  /**
   * The candidate deciding in shadow for `model`, while a shadow rollout runs.
   * @returns the candidate, or null
   */
  shadowCandidate(model: string): Candidate | null {
    const r = this.rollouts.get(model);
    return r && r.status === 'running' && r.settings.mode === 'shadow' ? r.candidate : null;
  }

  /**
   * Gives a new arena room its version: with a canary running, every room whose turn
   * falls in the fraction (room k is the candidate's when ⌊(k+1)·f⌋ > ⌊k·f⌋) is served
   * by the candidate until the canary ends.
   */
  assignRoom(model: string): RoomAssignment {
    const r = this.rollouts.get(model);
    if (!r || r.status !== 'running' || r.settings.mode !== 'canary') return { serves: 'serving', candidate: null };
    const k = r.rooms++;
    const f = r.settings.fraction;
    if (Math.floor((k + 1) * f) <= Math.floor(k * f)) return { serves: 'serving', candidate: null };
    r.candidateRooms++;
    return {
      get serves() {
        return r.status === 'running' ? 'candidate' : 'serving';
      },
      get candidate() {
        return r.status === 'running' ? r.candidate : null;
      },
    };
  }

  /**
   * Counts guard decisions asked of a version (rows) and how many it failed to make.
   * Judges a running canary or shadow once its candidate has made `minDecisions`.
   */
  recordDecision(model: string, version: number, rows: number, errors = 0): void {
    const c = this.counters(model, version);
    c.decisions += rows;
    c.errors += errors;
    this.metrics?.decision(model, version, rows, errors);
    const r = this.rollouts.get(model);
    if (r && r.status === 'running') {
      const rc = this.rolloutCounters(r, version);
      if (rc) {
        rc.decisions += rows;
        rc.errors += errors;
      }
      this.judge(r);
    }
    this.exportKpis(model, version);
  }

  /** Adds a version's game outcomes (rewards, time, downs, quests). */
  recordGame(model: string, version: number, delta: GameDelta): void {
    add(this.counters(model, version), delta);
    const r = this.rollouts.get(model);
    if (r && r.status === 'running') {
      const rc = this.rolloutCounters(r, version);
      if (rc) add(rc, delta);
    }
  }

  /** Compares one tick's shadow decision with the applied one. */
  recordShadow(model: string, sample: ShadowSample): void {
    const r = this.rollouts.get(model);
    if (!r || r.status !== 'running' || r.settings.mode !== 'shadow') return;
    const s = r.shadow;
    const n = sample.served.length;
    s.ticks++;
    r.latencies[r.latencyCount++ % LATENCY_WINDOW] = sample.latencyMs;
    let agreed = 0;
    let errors = 0;
    let maxDiff: number | null = null;
    if (sample.candidate === null || sample.candidate.length !== n) errors = n;
    else {
      for (let i = 0; i < n; i++) if (sample.candidate[i] === sample.served[i]) agreed++;
      const a = sample.servedProbabilities;
      const b = sample.candidateProbabilities;
      if (a && b && a.length === b.length) {
        maxDiff = 0;
        for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
      }
    }
    s.compared += n - errors;
    s.agreed += agreed;
    s.errors += errors;
    s.agreement = s.compared > 0 ? s.agreed / s.compared : null;
    if (maxDiff !== null) s.maxProbabilityDifference = Math.max(s.maxProbabilityDifference ?? 0, maxDiff);
    r.candidateCounters.decisions += n;
    r.candidateCounters.errors += errors;
    this.metrics?.decision(model, r.settings.candidate, n, errors);
    this.metrics?.shadow(
      model,
      r.servingVersion,
      r.settings.candidate,
      { agreed, disagreed: n - errors - agreed, errors },
      s.agreement,
      s.maxProbabilityDifference,
      sample.latencyMs,
    );
    this.judge(r);
  }

  /** The KPIs kept for a version (with or without a rollout). */
  versionReport(model: string, version: number): VersionReport {
    return report(version, this.counters(model, version));
  }

  /** Stops every rollout and releases the candidates. */
  async close(): Promise<void> {
    this.offLoaded();
    await Promise.all(
      [...this.rollouts.values()]
        .filter((r) => r.status === 'running')
        .map((r) => this.finish(r, 'stopped', 'the server is closing')),
    );
  }

  private settings(model: string, request: RolloutRequest): RolloutSettings {
    const candidate = candidateVersion(model, request.candidate);
    const kind = this.repository.manifest(model)?.kind;
    if (!this.repository.has(model))
      throw new PlaymindError(ErrorCode.UNKNOWN_MODEL, `no model named "${model}"`, { details: { model } });
    if (request.mode === 'shadow' && (request.fraction !== undefined || request.autoPromote !== undefined))
      throw new PlaymindError(
        ErrorCode.INVALID_ARGUMENT,
        `'fraction' and 'autoPromote' apply to a canary; a shadow candidate serves no room`,
        { details: { field: request.fraction !== undefined ? 'fraction' : 'autoPromote' } },
      );
    const kpiName = request.kpi?.name ?? (kind === 'recommender' ? 'questCompletion' : 'guardReturn');
    return {
      candidate,
      mode: request.mode,
      fraction: request.fraction ?? 0.1,
      kpi: { name: kpiName, margin: request.kpi?.margin ?? 0.1, better: request.kpi?.better ?? KPI_BETTER[kpiName] },
      errorMargin: request.errorMargin ?? 0.01,
      minDecisions: request.minDecisions ?? 1000,
      autoPromote: request.autoPromote ?? false,
    };
  }

  private running(model: string): Rollout {
    const r = this.rollouts.get(model);
    if (!r || r.status !== 'running')
      throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `no rollout of "${model}" is running`, {
        details: { model },
      });
    return r;
  }

  private counters(model: string, version: number): VersionCounters {
    let byVersion = this.ledger.get(model);
    if (!byVersion) this.ledger.set(model, (byVersion = new Map()));
    let c = byVersion.get(version);
    if (!c) byVersion.set(version, (c = emptyCounters()));
    return c;
  }

  private rolloutCounters(r: Rollout, version: number): VersionCounters | null {
    if (version === r.servingVersion) return r.serving;
    if (version === r.settings.candidate && r.settings.mode === 'canary') return r.candidateCounters;
    return null;
  }

  private exportKpis(model: string, version: number): void {
    if (!this.metrics) return;
    const rep = this.versionReport(model, version);
    this.metrics.kpis(model, version, { ...rep.kpis, errorRate: rep.errorRate });
  }

  /** Rolls back or promotes a rollout whose candidate has made enough decisions. */
  private judge(r: Rollout): void {
    const { settings } = r;
    const c = r.candidateCounters;
    if (r.status !== 'running' || r.promoting || c.decisions < settings.minDecisions) return;
    const s = r.serving;
    const cRate = c.errors / c.decisions;
    const sRate = s.decisions > 0 ? s.errors / s.decisions : 0;
    if (cRate > sRate + settings.errorMargin) {
      void this.finish(
        r,
        'rolled-back',
        `error rate ${pct(cRate)} over ${c.decisions} decisions vs ${pct(sRate)} for version ${r.servingVersion} (margin ${pct(settings.errorMargin)})`,
      );
      return;
    }
    if (settings.mode !== 'canary' || s.decisions < settings.minDecisions) return;
    const kc = kpisOf(c)[settings.kpi.name];
    const ks = kpisOf(s)[settings.kpi.name];
    if (kc === null || ks === null) return;
    const slack = settings.kpi.margin * Math.abs(ks);
    const worse = settings.kpi.better === 'higher' ? kc < ks - slack : kc > ks + slack;
    const verdict = `${settings.kpi.name} ${kc.toFixed(4)} vs ${ks.toFixed(4)} for version ${r.servingVersion} (margin ${pct(settings.kpi.margin)}, ${settings.kpi.better} is better)`;
    if (worse) {
      void this.finish(r, 'rolled-back', verdict);
      return;
    }
    const atLeastAsGood = settings.kpi.better === 'higher' ? kc >= ks : kc <= ks;
    if (settings.autoPromote && atLeastAsGood) {
      this.promote(r.model, { reason: `promoted automatically: ${verdict}` }).catch((err: unknown) => {
        this.log.error({ err, model: r.model }, 'rollout: automatic promotion failed; the serving version stays');
        void this.finish(r, 'stopped', `automatic promotion failed: ${(err as Error).message}`);
      });
    }
  }

  private async finish(r: Rollout, status: Exclude<RolloutStatus, 'running'>, reason: string): Promise<void> {
    if (r.status !== 'running') return;
    r.status = status;
    r.reason = reason;
    r.endedAt = new Date().toISOString();
    this.metrics?.state(r.model, r.settings.mode, r.servingVersion, r.settings.candidate, status);
    this.metrics?.transition(r.model, status);
    const level = status === 'rolled-back' ? 'warn' : 'info';
    this.log[level](
      { model: r.model, serving: r.servingVersion, candidate: r.settings.candidate, reason },
      `rollout ${status}`,
    );
    const candidate = r.candidate;
    r.candidate = null;
    await candidate?.close().catch(() => undefined);
  }

  /** Writes `version` into `<modelsDir>/<model>/manifest.json` (atomic rename). */
  private async persistPin(model: string, version: number): Promise<void> {
    const file = join(this.modelsDir, model, 'manifest.json');
    try {
      const m = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      if (m.version === version) return;
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify({ ...m, version }, null, 2)}\n`);
      await rename(tmp, file);
    } catch (err) {
      this.log.warn(
        { err, model, version, file },
        "rollout: promoted, but the pin could not be written to the manifest (a restart serves the manifest's choice)",
      );
    }
  }
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

/** `2`, `"2"` or `"npc-guard@2"` → 2. */
function candidateVersion(model: string, c: number | string): number {
  if (typeof c === 'number') return c;
  const at = c.lastIndexOf('@');
  if (at >= 0 && c.slice(0, at) !== model)
    throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `candidate "${c}" is not a version of "${model}"`, {
      details: { field: 'candidate' },
    });
  return Number(c.slice(at + 1));
}
