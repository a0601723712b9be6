/**
 * Which model version decides an arena room's guards, and what each version is
 * measured on — the arena's side of a rollout (`server/rollout/`):
 *
 * - **canary**: a room the rollout gave to the candidate (`assignRoom`, at the room's
 *   creation) is decided by the candidate while the canary runs. When the candidate
 *   cannot decide a tick (an inference error, a deadline), the serving version decides
 *   that tick instead — no guard decision fails because of a canary — and the failure
 *   counts against the candidate, whose error rate the rollout judges;
 * - **shadow**: once the serving version's decision is back (the tick's own decision,
 *   `high` priority, is never delayed), the shadow candidate decides for the same guards
 *   on the same observation at `normal` priority, without acting; the rollout compares
 *   the two (agreement, probability difference, latency) and the decision log keeps the
 *   candidate's `SHADOW` record. At most one shadow decision per room is in flight (a
 *   slow candidate skips ticks, it never piles up);
 * - **KPIs**: every tick's game outcomes (guard reward, guard- and room-seconds, players
 *   and guards downed, quests taken and finished) count for the version whose decision
 *   the guards applied, and every decision asked of a version counts (with its failures)
 *   for that version.
 *
 * Every decision names the version that made it (`npc-guard@2`): the synced guards, the
 * HUD and the decision log say the same.
 *
 * @module
 */
import type { Logger, ModelRepository } from '../../sdk/index.js';
import type { DecideGuards, GuardDecision } from '../game/index.js';
import { flatProbabilities, type MatchRecorder } from '../recording/match-recorder.js';
import type { Candidate } from '../rollout/candidate-source.js';
import type { GameDelta, RolloutManager, RoomAssignment } from '../rollout/rollout-manager.js';
import type { Arena, SimEvent } from '../sim/index.js';
import { GuardBrain } from './arena-brain.js';

/** Options of {@link ArenaVersions}. */
export interface ArenaVersionsOptions {
  /** The server's rollouts. */
  rollouts: RolloutManager;
  /** The server's repository (the serving version). */
  repository: ModelRepository;
  /** The room's guard brain on the serving version. */
  serving: GuardBrain;
  /** The room's recorder, when matches are recorded (shadow decisions go there too). */
  recorder?: MatchRecorder | null;
  /** Seconds per tick. */
  tickSeconds: number;
  logger?: Logger;
}

/** A candidate's guard brains: acting (canary, the tick's priority) and in shadow (`normal`). */
interface CandidateGuards {
  readonly acting: GuardBrain;
  readonly shadow: GuardBrain;
}

const VERSION_OF = /@([1-9]\d{0,8})$/;
/** A shadow decision's budget, ms: off the tick's critical path, so longer than the tick's own. */
const SHADOW_DEADLINE_MS = 250;

/** The version a decision's model label names (`npc-guard@2` → 2), or null (fallback, scripted). */
export function versionOf(model: string): number | null {
  const m = VERSION_OF.exec(model);
  return m ? Number(m[1]) : null;
}

/** See the module documentation. */
export class ArenaVersions {
  /** The model the room's guards decide with. */
  readonly model: string;
  /** This room's share of a canary (decided when the room was created). */
  readonly assignment: RoomAssignment;
  private readonly rollouts: RolloutManager;
  private readonly repository: ModelRepository;
  private readonly serving: GuardBrain;
  private readonly recorder: MatchRecorder | null;
  private readonly tickSeconds: number;
  private readonly log: Logger | undefined;
  private readonly guardsOf = new WeakMap<Candidate, CandidateGuards>();
  private shadowInFlight = false;
  private lastReturnSum = 0;
  private warnedCanary = false;
  /** Ticks the serving version decided because the canary candidate could not. */
  canaryFallbacks = 0;
  /** Ticks a shadow decision was skipped (the previous one was still running). */
  shadowSkipped = 0;

  constructor(options: ArenaVersionsOptions) {
    this.rollouts = options.rollouts;
    this.repository = options.repository;
    this.serving = options.serving;
    this.model = options.serving.model;
    this.recorder = options.recorder ?? null;
    this.tickSeconds = options.tickSeconds;
    this.log = options.logger;
    this.assignment = this.rollouts.assignRoom(this.model);
  }

  /** Whether the candidate of a canary serves this room now. */
  get canary(): boolean {
    return this.assignment.serves === 'candidate' && this.assignment.candidate !== null;
  }

  /** "Decide the guards" for the room's game (never rejects). */
  readonly decide: DecideGuards = async (tick, rows, masks, n) => {
    const candidate = this.assignment.serves === 'candidate' ? this.assignment.candidate : null;
    if (candidate) {
      const d = await this.candidateGuards(candidate).acting.decide(tick, rows, masks, n);
      const ok = d.outcome === 'model' && d.actions !== null;
      this.rollouts.recordDecision(this.model, candidate.version.version, n, ok ? 0 : n);
      if (ok) return served(d);
      this.canaryFallbacks++;
      if (!this.warnedCanary) {
        this.warnedCanary = true;
        this.log?.warn(
          { model: this.model, candidate: candidate.version.id, outcome: d.outcome, err: d.error },
          'canary: the candidate could not decide; the serving version decides instead',
        );
      }
    }
    const d = await this.serving.decide(tick, rows, masks, n);
    const version = versionOf(d.model) ?? this.repository.get(this.model)?.version ?? null;
    if (version !== null)
      this.rollouts.recordDecision(this.model, version, n, d.outcome === 'model' && d.actions ? 0 : n);
    if (!candidate && d.outcome === 'model' && d.actions) this.shadow(tick, rows, masks, n, d);
    return served(d);
  };

  /**
   * Counts one tick's game outcomes for the version whose decision the guards applied.
   * @param arena - the arena after the tick
   * @param events - the tick's events
   * @param appliedModel - the model label the guards' actions came from (`npc-guard@2`)
   */
  afterTick(arena: Arena, events: readonly SimEvent[], appliedModel: string): void {
    let sum = 0;
    const r = arena.guardReturns;
    for (let i = 0; i < r.length; i++) sum += r[i]!;
    const reward = sum - this.lastReturnSum;
    this.lastReturnSum = sum;
    const version = versionOf(appliedModel) ?? this.repository.get(this.model)?.version ?? null;
    if (version === null) return;
    const delta: { -readonly [K in keyof GameDelta]-?: number } = {
      guardReward: reward,
      guardSeconds: r.length * this.tickSeconds,
      roomSeconds: this.tickSeconds,
      playerDowns: 0,
      guardDowns: 0,
      questsTaken: 0,
      questsFinished: 0,
    };
    for (const e of events) {
      if (e.type === 'player-down') delta.playerDowns++;
      else if (e.type === 'guard-down') delta.guardDowns++;
      else if (e.type === 'quest-taken') delta.questsTaken++;
      else if (e.type === 'quest-finished') delta.questsFinished++;
    }
    this.rollouts.recordGame(this.model, version, delta);
  }

  private candidateGuards(candidate: Candidate): CandidateGuards {
    let g = this.guardsOf.get(candidate);
    if (!g) {
      const options = { brain: candidate.brain, model: this.model, deadlineMs: this.serving.deadlineMs };
      g = {
        acting: new GuardBrain(options),
        // No tick waits for the shadow: it gets more time before it counts as failed.
        shadow: new GuardBrain({ ...options, priority: 'normal', deadlineMs: SHADOW_DEADLINE_MS }),
      };
      this.guardsOf.set(candidate, g);
    }
    return g;
  }

  /** Starts the shadow candidate's decision on the observation the serving version decided on. */
  private shadow(
    tick: number,
    rows: Float32Array,
    masks: Float32Array,
    n: number,
    servedDecision: GuardDecision,
  ): void {
    const candidate = this.rollouts.shadowCandidate(this.model);
    if (!candidate) return;
    if (this.shadowInFlight) {
      this.shadowSkipped++;
      return;
    }
    this.shadowInFlight = true;
    const guards = this.candidateGuards(candidate).shadow;
    // After this turn: the serving decision reaches the game first.
    setImmediate(() => {
      guards
        .decide(tick, rows, masks, n)
        .then((d) => {
          const ok = d.outcome === 'model' && d.actions !== null && d.actions.length === n;
          const candidateProbabilities = ok ? flatProbabilities(d.probabilities, n) : null;
          this.rollouts.recordShadow(this.model, {
            served: servedDecision.actions!,
            candidate: ok ? d.actions : null,
            servedProbabilities: flatProbabilities(servedDecision.probabilities, n),
            candidateProbabilities,
            latencyMs: d.latencyMs,
          });
          this.recorder?.shadow({
            observedTick: tick,
            model: ok ? d.model : `${candidate.version.id}:${d.outcome}`,
            latencyMs: d.latencyMs,
            actions: ok ? d.actions! : new Uint8Array(n),
            probabilities: candidateProbabilities,
          });
        })
        .catch((err: unknown) => this.log?.error({ err }, 'shadow decision failed unexpectedly'))
        .finally(() => {
          this.shadowInFlight = false;
        });
    });
  }
}

/** The route a server decision was served by, as the game shows it. */
function served(d: GuardDecision): GuardDecision {
  return { ...d, servedBy: d.outcome === 'fallback' ? 'fallback' : d.actions ? 'local' : '' };
}
