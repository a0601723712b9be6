/**
 * The server's arena: the one arena game (`server/game`) with the server's
 * services injected — the guards decided by `npc-guard` through the server's brain
 * (`arena-brain.ts`), recommendations by `quest-recs` (`arena-quests.ts`), the
 * quests from the recommender's catalogue, quest telemetry and metrics — and
 * its view written into the room's @colyseus/schema state after every change
 * (`onView`: within the tick, before the next decision is issued).
 * The `arena` room drives {@link ArenaSession.tick} at its tick rate and forwards
 * client messages to {@link ArenaSession.game}; the tick benchmark drives it directly.
 *
 * @module
 */
import type { Brain, Logger, ModelRepository } from '../../sdk/index.js';
import { BUILTIN_HEURISTICS } from '../../sdk/runtime.js';
import {
  expertLateFallback,
  ArenaGame,
  type LateFallback,
  type DecisionTrace,
  type GameMetrics,
  type GameObserver,
  type GuardDecision,
  type QuestEventSink,
  type QuestRecommendations,
  type RoundRules,
} from '../game/index.js';
import {
  GUARD_ACTION_COUNT,
  GUARD_FEATURE_COUNT,
  type Arena,
  type ArenaConfigInput,
  type PlayerInput,
  type SimEvent,
} from '../sim/index.js';
import type { MatchRecorder } from '../recording/match-recorder.js';
import type { RolloutManager } from '../rollout/rollout-manager.js';
import { GuardBrain } from './arena-brain.js';
import { ArenaVersions } from './arena-versions.js';
import { recommendQuests, roomQuests } from './arena-quests.js';
import type { ArenaState } from './arena-state.js';
import { ArenaStateWriter } from './arena-view.js';

/** What the session reports to metrics (the room adapts the server's Metrics object to it). */
export type ArenaMetricsSink = GameMetrics;

/** Options of {@link ArenaSession}. */
export interface ArenaSessionOptions {
  /** The server's brain (shared engine and repository, guard heuristics registered): guards and quests decide through it. */
  brain: Brain;
  /** Guards in the arena. @default 6 */
  guardCount?: number;
  /** Scripted bots fill the arena up to this many players. @default 4 */
  minPlayers?: number;
  /** Simulation seed. @default random */
  seed?: number;
  /** Further arena configuration (world size, tuning). */
  arena?: ArenaConfigInput;
  /** @default 'npc-guard' */
  guardModel?: string;
  /** @default 'quest-recs' */
  recsModel?: string;
  /** Deadline of a guard decision, in ms. @default 25 */
  deadlineMs?: number;
  /** Quest telemetry sink; null writes none. */
  telemetry?: QuestEventSink | null;
  metrics?: GameMetrics;
  logger?: Logger;
  /** Called with the recommendations meant for one player only. */
  onRecommendations?: (playerId: string, message: QuestRecommendations) => void;
  /** Decision traces kept. @default 64 */
  traceLength?: number;
  /** Observers of the game from its creation (a match recorder). */
  observers?: readonly GameObserver[];
  /** Round rules (`server/game/rounds.ts`); null plays one endless match. @default the default rules */
  rounds?: Partial<RoundRules> | null;
  /**
   * The server's rollouts and repository: the room takes its share of a canary, runs a
   * shadow candidate beside the serving version, and counts per-version KPIs
   * (`arena-versions.ts`). Without them the serving version decides alone.
   */
  rollouts?: { manager: RolloutManager; repository: ModelRepository } | null;
  /** Records the match to the decision log (given to the game from its creation). */
  recorder?: MatchRecorder | null;
  /** Ticks per second (for the per-version KPIs). @default 20 */
  tickRate?: number;
}

/** See the module documentation. */
export class ArenaSession {
  /** The game. */
  readonly game: ArenaGame;
  /** The guards' brain. */
  readonly brain: GuardBrain;
  /** The room's versions: canary share, shadow, per-version KPIs (null without rollouts). */
  readonly versions: ArenaVersions | null;
  /** The match's recorder, or null. */
  readonly recorder: MatchRecorder | null;
  private readonly writer: ArenaStateWriter;

  /**
   * @param options - services and game settings
   * @throws PlaymindError `invalid_argument` for a setting outside `ARENA_LIMITS`
   */
  constructor(options: ArenaSessionOptions) {
    if (!options || typeof options !== 'object') throw new TypeError(`'options' must be an object`);
    const { brain: decider } = options;
    this.brain = new GuardBrain({ brain: decider, model: options.guardModel, deadlineMs: options.deadlineMs });
    const recsModel = options.recsModel ?? 'quest-recs';
    const brain = this.brain;
    this.recorder = options.recorder ?? null;
    this.versions = options.rollouts
      ? new ArenaVersions({
          rollouts: options.rollouts.manager,
          repository: options.rollouts.repository,
          serving: brain,
          recorder: this.recorder,
          tickSeconds: 1 / (options.tickRate ?? 20),
          logger: options.logger,
        })
      : null;
    if (this.versions?.canary)
      this.recorder?.addMeta({ canary: this.versions.assignment.candidate?.version.id ?? null });
    const decideGuards =
      this.versions?.decide ??
      ((tick: number, rows: Float32Array, masks: Float32Array, n: number): Promise<GuardDecision> =>
        brain
          .decide(tick, rows, masks, n)
          .then((d) => ({ ...d, servedBy: d.outcome === 'fallback' ? 'fallback' : d.actions ? 'local' : '' })));
    this.game = new ArenaGame({
      decideGuards,
      // A decision not back by its tick: the guards' heuristic decides that tick (counted, recorded).
      lateFallback: namedLateFallback(brain),
      recommendQuests: async (r) => {
        const { message, fallback } = await recommendQuests(decider, this.game.quests, r.player, r, {
          model: recsModel,
          k: r.count,
        });
        return { ...message, servedBy: fallback ? 'fallback' : 'local' };
      },
      quests: roomQuests(decider, recsModel),
      recsModel,
      guardCount: options.guardCount,
      minPlayers: options.minPlayers,
      seed: options.seed,
      arena: options.arena,
      traceLength: options.traceLength,
      telemetry: options.telemetry,
      metrics: options.metrics,
      logger: options.logger,
      observers: this.recorder ? [this.recorder, ...(options.observers ?? [])] : options.observers,
      rounds: options.rounds === undefined ? {} : options.rounds,
      onRecommendations: options.onRecommendations,
      // The schema copy is made before the next decision is issued (not billed to inference).
      onView: () => this.writer.write(),
    });
    this.writer = new ArenaStateWriter(this.game.view);
  }

  /** The state synchronised to clients. */
  get state(): ArenaState {
    return this.writer.state;
  }

  /** The simulation (read it; change it through the game). */
  get arena(): Arena {
    return this.game.arena;
  }

  /**
   * Adds a human player (a client joined).
   *
   * @throws PlaymindError `invalid_argument` when the id is taken
   */
  addHuman(playerId: string, telemetryId: string = playerId, name?: string): void {
    this.game.addHuman(playerId, telemetryId, name);
  }

  /** Removes a human player (the client left). @returns whether it was here */
  removeHuman(playerId: string): boolean {
    return this.game.removeHuman(playerId);
  }

  /** Sets a human's input for the next tick. */
  setInput(playerId: string, input: PlayerInput): void {
    this.game.setInput(playerId, input);
  }

  /**
   * A human takes a quest.
   *
   * @throws PlaymindError `invalid_argument` for an unknown quest or player
   */
  takeQuest(playerId: string, questId: string): void {
    this.game.takeQuest(playerId, questId);
  }

  /**
   * A human turns in its active quest.
   *
   * @throws PlaymindError `invalid_argument` for an unknown player or when it has no active quest
   */
  finishQuest(playerId: string): void {
    this.game.finishQuest(playerId);
  }

  /**
   * Recomputes a human's recommendations and sends them to it.
   *
   * @throws PlaymindError `invalid_argument` for an unknown player
   */
  requestRecommendations(playerId: string): void {
    this.game.requestRecommendations(playerId);
  }

  /** Runs one tick of the game (the state is written as part of it). @returns the simulation's events */
  tick(): readonly SimEvent[] {
    const events = this.game.tick();
    if (this.versions) {
      const first = this.game.view.guards.values().next().value;
      this.versions.afterTick(this.game.arena, events, first?.model ?? '');
    }
    return events;
  }

  /** Resolves when the decision in flight has come back (or failed). */
  settled(): Promise<void> {
    return this.game.settled();
  }

  /** The decision request made on the state of `tick`, while it is kept. */
  decisionTrace(tick: number): DecisionTrace | undefined {
    return this.game.decisionTrace(tick);
  }

  /** Stops ticking; the telemetry is flushed by its owner. */
  close(): void {
    this.game.close();
  }

  /**
   * Stops ticking, waits for the decision in flight and ends the match's recording.
   * @param reason - why the match ended (`disposed`, `shutdown`, ...)
   */
  async end(reason: string): Promise<void> {
    this.game.close();
    await this.game.settled();
    await this.recorder?.end(reason);
  }
}

/**
 * The late-tick heuristic: the one the serving npc-guard's manifest names (as the brain's
 * fallback uses it: rows and masks in the arena's contract), the expert guard when it names
 * one no brain has.
 */
function namedLateFallback(guards: GuardBrain): LateFallback {
  const expert = expertLateFallback(guards.model);
  const usable = (): string =>
    Object.hasOwn(BUILTIN_HEURISTICS, guards.heuristic) ? guards.heuristic : 'expert-guard';
  return {
    get model() {
      return `${guards.model}@fallback:${usable()}`;
    },
    decide(rows, n, masks) {
      const name = usable();
      if (name === 'expert-guard') return expert.decide(rows, n, masks);
      const heuristic = BUILTIN_HEURISTICS[name]!;
      const actions = new Uint8Array(n);
      for (let i = 0; i < n; i++)
        actions[i] = heuristic(
          rows.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT),
          masks.subarray(i * GUARD_ACTION_COUNT, (i + 1) * GUARD_ACTION_COUNT),
        );
      return actions;
    },
  };
}
