/**
 * One arena game, written once: the authoritative simulation (`server/sim`), its
 * players (humans joining and leaving, scripted bots filling the arena), the
 * guards' pipelined decisions and their masking, the quests and each player's
 * recommendations, quest telemetry, metrics, a plain view for sync and an
 * observer hook per tick. No network and no Colyseus: the `arena` room, the
 * demo's offline mode, the evaluation and the tick benchmark are adapters that
 * inject "decide the guards" and "recommend quests" and drive {@link ArenaGame.tick}.
 *
 * Decisions are pipelined so inference never stalls a tick: at the end of tick
 * `t` the game observes every guard and issues ONE batched decision; tick
 * `t + 1` applies it if it is back; otherwise (or when none could be issued: at most
 * `maxDecisionsInFlight` decisions run at once) the guards never freeze: the
 * fallback heuristic (`lateFallback`, the expert guard by default) decides on the
 * state of tick `t`, the miss is counted as a fallback, the heuristic's actions are
 * applied and reported to observers as the tick's decision (so a recording replays
 * it), and the late answer is dropped.
 *
 * @example
 * const game = new ArenaGame({ decideGuards, seed: 7 });
 * game.addHuman('p-1');
 * setInterval(() => game.tick(), 50);
 *
 * @module
 */
import { ErrorCode, PlaymindError, type Logger } from '../../sdk/public.js';
import {
  ACTION,
  BOT_STYLES,
  GUARD_ACTIONS,
  GUARD_FEATURE_COUNT,
  botInput,
  botQuestChoice,
  createArena,
  expertGuardFromObservation,
  guardActionMasks,
  observeAll,
  type Arena,
  type ArenaConfigInput,
  type BotStyle,
  type PlayerInput,
  type SimEvent,
} from '../sim/index.js';
import { maskForbiddenActions, type DecideGuards, type DecisionOutcome, type GuardDecision } from './guard-decision.js';
import { checkLimit } from './limits.js';
import { DEFAULT_ROUND_RULES, NO_ROUNDS, Rounds, type RoundEnd, type RoundRules } from './rounds.js';
import type { AppliedDecision, GameInput, GameObserver, GameSetup } from './observer.js';
import {
  DEFAULT_ARENA_QUESTS,
  arenaOrderRecommendations,
  recommendationRequest,
  shapeRecommendations,
  type ArenaQuest,
  type QuestRecommendations,
  type RecommendQuests,
} from './quests.js';
import {
  initialPlayerFields,
  writeCollectible,
  writeGuard,
  writePlayer,
  type ArenaGameView,
  type CollectibleFields,
  type GuardFields,
  type GuardMode,
  type PlayerFields,
  type QuestFields,
  type RectView,
} from './view.js';

/** What the game reports to metrics (the room adapts the server's Metrics to it). */
export interface GameMetrics {
  /**
   * One tick's duration, inference included: its synchronous work plus the time
   * the decision it issued took to come back. Reported when that decision settles.
   */
  tick(ms: number, syncMs: number): void;
  /**
   * A guard decision ended (`deadline` also when it was not back by the next
   * tick: every guard kept its last action).
   */
  decision(outcome: DecisionOutcome, latencyMs: number, guards: number, reason?: string, error?: Error): void;
  /**
   * The game's late fallback decided a tick (its decision was not back in time, or none could
   * be issued); also reported to {@link decision} as a `fallback`.
   */
  lateFallback?(guards: number, reason: string): void;
  /** A player's recommendations were computed (`fallback`: the model could not answer). */
  recommendation(fallback: boolean): void;
}

/** Metrics that go nowhere. */
export const NO_GAME_METRICS: GameMetrics = { tick() {}, decision() {}, recommendation() {} };

/** Where quest events go (the server's JSONL telemetry; nothing in the demo). */
export interface QuestEventSink {
  record(player: string, quest: string, outcome: 'taken' | 'finished' | 'abandoned'): void;
}

/** One tick's decision request, kept for inspection (see {@link ArenaGame.decisionTrace}). */
export interface DecisionTrace {
  /** The tick whose state was observed; the decision applies at `tick + 1`. */
  readonly tick: number;
  readonly n: number;
  /** Guard ids, row order. */
  readonly guardIds: readonly string[];
  /** n × GUARD_FEATURE_COUNT observations (`GUARD_FEATURES` order), as given to "decide the guards". */
  readonly rows: Float32Array;
  /** n × GUARD_ACTION_COUNT masks (`GUARD_ACTIONS` order). */
  readonly masks: Float32Array;
  /** The answer, once it came (actions masked). */
  decision?: GuardDecision;
  /** Whether the answer was applied (false: it came too late, or carried no actions). */
  applied: boolean;
}

/** Options of {@link ArenaGame}. */
export interface ArenaGameOptions {
  /** Decides the guards (see `guard-decision.ts`). */
  decideGuards: DecideGuards;
  /** Recommends quests to a player. @default the quests not finished, in the arena's order */
  recommendQuests?: RecommendQuests;
  /** The quests players may take. @default DEFAULT_ARENA_QUESTS */
  quests?: readonly ArenaQuest[];
  /** Guards in the arena (at most `ARENA_LIMITS.guardCount.max`). @default 6 */
  guardCount?: number;
  /** Scripted bots (`bot-N`) fill the arena up to this many players. @default 4, or 0 with a `bots` roster */
  minPlayers?: number;
  /**
   * A fixed roster of scripted bots, created with the arena as `p0`, `p1`, ...
   * (as `runEpisode` does) and never removed.
   */
  bots?: readonly BotStyle[];
  /** Simulation seed. @default random */
  seed?: number;
  /** Further arena configuration (world size, tuning); its guard and player counts are ignored. */
  arena?: ArenaConfigInput;
  /** Recommendations shown to a player. @default 5 */
  recommendations?: number;
  /** Name of the recommender, for the label of arena-order recommendations. @default 'quest-recs' */
  recsModel?: string;
  /** Guard decisions running at once; none is issued past it (the late fallback decides that tick). @default 2 */
  maxDecisionsInFlight?: number;
  /**
   * Decides the guards of a tick whose decision is not back in time (or could not be
   * issued): the model's fallback heuristic. null keeps the guards' last actions instead.
   * @default the expert guard, labelled `npc-guard@fallback:expert-guard`
   */
  lateFallback?: LateFallback | null;
  /** Decision traces kept. @default 64 */
  traceLength?: number;
  /** Quest telemetry; null writes none. */
  telemetry?: QuestEventSink | null;
  metrics?: GameMetrics;
  logger?: Logger;
  /** Observers from the start (only these see the whole match: a recorder goes here). */
  observers?: readonly GameObserver[];
  /**
   * Called after every change to the view: each tick right after the step (before
   * the next decision is issued, so a copy made here is not billed to inference),
   * and after a join, a leave or a quest taken between ticks.
   */
  onView?: (view: ArenaGameView) => void;
  /**
   * Play rounds (see `rounds.ts`): the players together must reach `goal` points within
   * `ticks`, or the guards win; scores start from zero each round. null (the default)
   * plays one endless match, as evaluation and training do.
   */
  rounds?: Partial<RoundRules> | null;
  /** Called when a round ends (after it the scores are back at zero). */
  onRoundEnd?: (end: RoundEnd) => void;
  /** How the guards are decided at the start. @default 'model' */
  guardMode?: GuardMode;
  /** Called with the recommendations meant for one player only. */
  onRecommendations?: (playerId: string, message: QuestRecommendations) => void;
  /** Called when recommending to a player failed (the player keeps its last recommendations). */
  onRecommendationError?: (playerId: string, error: unknown) => void;
}

/** The heuristic a game applies when a guard decision is not back by its tick. */
export interface LateFallback {
  /** Who decided, as the brain labels a fallback: `<model>@fallback:<heuristic>`. */
  readonly model: string;
  /**
   * One `GUARD_ACTIONS` index per guard from n × `GUARD_FEATURE_COUNT` rows and n ×
   * `GUARD_ACTION_COUNT` masks (1 = allowed; the game masks the result again).
   */
  decide(rows: Float32Array, n: number, masks: Float32Array): Uint8Array;
}

/** The expert guard, the shipped npc-guard's fallback heuristic, as a late fallback of `model`. */
export function expertLateFallback(model = 'npc-guard'): LateFallback {
  return {
    model: `${model}@fallback:expert-guard`,
    decide: (rows, n) => {
      const actions = new Uint8Array(n);
      for (let i = 0; i < n; i++)
        actions[i] = expertGuardFromObservation(rows.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT));
      return actions;
    },
  };
}

interface Human {
  id: string;
  /** The id telemetry is written under. */
  telemetryId: string;
  taken: string[];
  finished: string[];
  recsSeq: number;
}

/** A trace while its decision is in flight. */
interface PendingTrace extends DecisionTrace {
  readonly issuedAt: number;
  /** Synchronous time of the tick that issued it. */
  syncMs: number;
  /** Set when the tick it was meant for has passed without it. */
  late: boolean;
  /** False when no decision was issued (too many in flight): the late fallback decides. */
  issued: boolean;
}

interface Bot {
  readonly id: string;
  readonly style: BotStyle;
  /** Part of a fixed roster (never trimmed). */
  readonly roster: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const now = (): number => performance.now();
/** Ticks between a join and its first recommendations push (150 ms at 20 Hz). */
const JOIN_PUSH_DELAY_TICKS = 3;
const silent: Logger = { info() {}, warn() {}, error() {} };
const clamp1 = (v: number): number => (Number.isFinite(v) ? (v < -1 ? -1 : v > 1 ? 1 : v) : 0);

/** See the module documentation. */
export class ArenaGame {
  /** The simulation (read it; change it only through the game). */
  readonly arena: Arena;
  /** The simulation seed. */
  readonly seed: number;
  /** The quests players may take, by id. */
  readonly quests: ReadonlyMap<string, ArenaQuest>;
  /** The arena as players see it, updated in place after every change. */
  readonly view: ArenaGameView;

  private readonly decideGuards: DecideGuards;
  private readonly recommend: RecommendQuests;
  private readonly recommendations: number;
  private readonly minPlayers: number;
  private readonly maxInFlight: number;
  private readonly lateFallback: LateFallback | null;
  private readonly telemetry: QuestEventSink | null;
  private readonly metrics: GameMetrics;
  private readonly log: Logger;
  private readonly onView: (view: ArenaGameView) => void;
  private readonly onRecommendations: (playerId: string, message: QuestRecommendations) => void;
  private readonly onRecommendationError: (playerId: string, error: unknown) => void;
  private readonly setupRecord: Omit<GameSetup, 'tick' | 'hash'>;
  private readonly observers: GameObserver[] = [];
  private readonly humans = new Map<string, Human>();
  private readonly bots: Bot[] = [];
  private nextBot = 0;
  private readonly inputs = new Map<string, PlayerInput>();
  /** The action each guard applies (GUARD_ACTIONS index), who decided it, and when. */
  private readonly actions: Uint8Array;
  private readonly guardViews: GuardFields[] = [];
  private readonly collectibleViews: CollectibleFields[] = [];
  private readonly players = new Map<string, PlayerFields>();
  private readonly mutableView: Mutable<ArenaGameView> & { players: Map<string, PlayerFields> };
  private readonly traces: (DecisionTrace | undefined)[];
  /** The decision issued at the end of the last tick, or null when none was. */
  private inflight: PendingTrace | null = null;
  private running = 0;
  private inflightPromise: Promise<void> = Promise.resolve();
  private closed = false;
  private warnedFallback = false;
  /** Humans owed their join-time recommendations, and the tick they are due. */
  private readonly joinPushes = new Map<string, number>();
  private readonly rounds: Rounds | null;
  private readonly onRoundEnd: (end: RoundEnd) => void;
  private mode: GuardMode;
  /** Display names of players (humans: their own; bots: from `BOT_NAMES`). */
  private readonly names = new Map<string, string>();

  /**
   * @param options - see {@link ArenaGameOptions}
   * @throws TypeError for a missing `decideGuards`; PlaymindError `invalid_argument` for a setting outside `ARENA_LIMITS`
   */
  constructor(options: ArenaGameOptions) {
    if (!options || typeof options !== 'object') throw new TypeError(`'options' must be an object`);
    if (typeof options.decideGuards !== 'function') throw new TypeError(`'options.decideGuards' must be a function`);
    const roster = options.bots ?? null;
    if (roster) {
      for (const b of roster)
        if (!(BOT_STYLES as readonly string[]).includes(b)) throw new RangeError(`unknown bot style '${String(b)}'`);
    }
    const guardCount = checkLimit('guardCount', options.guardCount ?? options.arena?.guardCount ?? 6);
    this.minPlayers = checkLimit('minPlayers', options.minPlayers ?? (roster ? 0 : 4));
    this.maxInFlight = checkLimit('maxDecisionsInFlight', options.maxDecisionsInFlight ?? 2);
    this.lateFallback = options.lateFallback === undefined ? expertLateFallback() : options.lateFallback;
    this.recommendations = checkLimit('recommendations', options.recommendations ?? 5);
    const traceLength = checkLimit('traceLength', options.traceLength ?? 64);
    const seed = checkLimit('seed', options.seed) ?? Math.floor(Math.random() * 2 ** 31);
    this.decideGuards = options.decideGuards;
    const recsModel = options.recsModel ?? 'quest-recs';
    this.recommend =
      options.recommendQuests ?? ((r) => Promise.resolve(arenaOrderRecommendations(this.quests, r, recsModel)));
    this.telemetry = options.telemetry ?? null;
    this.metrics = options.metrics ?? NO_GAME_METRICS;
    this.log = options.logger ?? silent;
    this.onView = options.onView ?? (() => {});
    this.onRecommendations = options.onRecommendations ?? (() => {});
    this.onRecommendationError = options.onRecommendationError ?? (() => {});
    this.onRoundEnd = options.onRoundEnd ?? (() => {});
    this.mode = options.guardMode ?? 'model';
    if (this.mode !== 'model' && this.mode !== 'scripted')
      throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `'guardMode' must be 'model' or 'scripted'`);
    this.traces = new Array<DecisionTrace | undefined>(traceLength);

    const quests = options.quests && options.quests.length > 0 ? options.quests : DEFAULT_ARENA_QUESTS;
    this.quests = new Map(quests.map((q) => [q.id, q]));
    const arenaInput: ArenaConfigInput = { ...options.arena };
    delete arenaInput.guardCount;
    delete arenaInput.playerCount;
    delete arenaInput.quests;
    this.arena = createArena(
      { ...arenaInput, guardCount, playerCount: roster?.length ?? 0, quests: [...this.quests.values()] },
      seed,
    );
    this.seed = this.arena.seed;
    const rules = options.rounds
      ? {
          ticks: checkLimit('roundTicks', options.rounds.ticks ?? DEFAULT_ROUND_RULES.ticks),
          goal: checkLimit('roundGoal', options.rounds.goal ?? DEFAULT_ROUND_RULES.goal),
        }
      : null;
    this.rounds = rules ? new Rounds(rules, this.arena.tick) : null;
    this.setupRecord = {
      seed: this.seed,
      arena: arenaInput,
      guardCount,
      minPlayers: this.minPlayers,
      bots: roster ? [...roster] : null,
      quests: [...this.quests.values()],
      rounds: rules,
      guardMode: this.mode,
    };
    roster?.forEach((style, i) => {
      this.bots.push({ id: this.arena.players[i]!.id, style, roster: true });
      this.names.set(this.arena.players[i]!.id, botName(i + 1, style));
    });
    const n = this.arena.guards.length;
    this.actions = new Uint8Array(n).fill(ACTION.patrol);

    const a = this.arena;
    this.mutableView = {
      ...NO_ROUNDS,
      guardMode: this.mode,
      tick: a.tick,
      width: a.width,
      height: a.height,
      obstacles: a.obstacles.map((o): RectView => ({ x: o.x, y: o.y, w: o.w, h: o.h })),
      players: this.players,
      guards: new Map(),
      collectibles: new Map(),
      quests: new Map(
        [...this.quests.values()].map((q): [string, QuestFields] => [
          q.id,
          { id: q.id, title: q.title, kind: q.kind, goal: q.kind === 'visit' ? 1 : q.goal, reward: q.reward },
        ]),
      ),
    };
    this.view = this.mutableView;
    const guards = this.mutableView.guards as Map<string, GuardFields>;
    for (const g of a.guards) {
      const gv: GuardFields = {
        id: g.id,
        x: 0,
        y: 0,
        health: 0,
        alive: true,
        action: GUARD_ACTIONS[ACTION.patrol]!,
        model: 'initial',
        servedBy: '',
        decisionTick: 0,
        probabilities: null,
        target: '',
        sees: false,
        expert: '',
      };
      this.guardViews.push(gv);
      guards.set(g.id, gv);
    }
    const collectibles = this.mutableView.collectibles as Map<string, CollectibleFields>;
    for (const c of a.collectibles) {
      const cv: CollectibleFields = { x: 0, y: 0, active: c.active };
      this.collectibleViews.push(cv);
      collectibles.set(c.id, cv);
    }
    this.fillBots();
    this.syncView();
    for (const o of options.observers ?? []) this.addObserver(o);
    this.issueDecision();
  }

  /** Players that are humans. */
  get humanCount(): number {
    return this.humans.size;
  }

  /** Scripted bots currently playing. */
  get botCount(): number {
    return this.bots.length;
  }

  /** The simulation's current tick. */
  get tickCount(): number {
    return this.arena.tick;
  }

  /** The simulation's state hash now (see `Arena.stateHash`). */
  stateHash(): number {
    return this.arena.stateHash();
  }

  /**
   * Adds an observer; it gets the setup at once, then every input, applied
   * decision and tick. Give observers in the options to see the whole match.
   *
   * @returns a function that removes it
   */
  addObserver(observer: GameObserver): () => void {
    this.observers.push(observer);
    this.safely('setup', () =>
      observer.setup?.({ ...this.setupRecord, tick: this.arena.tick, hash: this.arena.stateHash() }),
    );
    return () => {
      const i = this.observers.indexOf(observer);
      if (i >= 0) this.observers.splice(i, 1);
    };
  }

  /**
   * Adds a human player; its first recommendations follow a few ticks later.
   *
   * @param playerId - unique id
   * @param telemetryId - the id its quest telemetry is written under @default playerId
   * @param name - the name other players see @default `Player <first 4 of the id>`
   * @throws PlaymindError `invalid_argument` when the id is empty or taken
   */
  addHuman(playerId: string, telemetryId: string = playerId, name?: string): void {
    if (typeof playerId !== 'string' || playerId.length === 0)
      throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `'playerId' must be a non-empty string`);
    if (this.humans.has(playerId) || this.arena.player(playerId))
      throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `player '${playerId}' already exists`, {
        details: { playerId },
      });
    const chosen = typeof name === 'string' && name.length > 0 ? name : undefined;
    this.emitInput(
      chosen === undefined
        ? { type: 'join', tick: this.arena.tick, playerId, telemetryId }
        : { type: 'join', tick: this.arena.tick, playerId, telemetryId, name: chosen },
    );
    this.arena.addPlayer(playerId, 'human');
    this.names.set(playerId, chosen ?? `Player ${playerId.slice(0, 4)}`);
    this.humans.set(playerId, { id: playerId, telemetryId, taken: [], finished: [], recsSeq: 0 });
    this.trimBots();
    this.syncPlayers();
    this.onView(this.view);
    // Pushed a few ticks after the join: a client only registers its message handlers
    // once its join has resolved, and a message that arrives earlier is lost.
    this.joinPushes.set(playerId, this.arena.tick + JOIN_PUSH_DELAY_TICKS);
  }

  /**
   * Removes a human player; an active quest counts as abandoned.
   *
   * @returns whether the player was here
   */
  removeHuman(playerId: string): boolean {
    const h = this.humans.get(playerId);
    if (!h) return false;
    this.emitInput({ type: 'leave', tick: this.arena.tick, playerId });
    const q = this.arena.player(playerId)?.activeQuest;
    if (q) this.telemetry?.record(h.telemetryId, q.questId, 'abandoned');
    this.humans.delete(playerId);
    this.names.delete(playerId);
    this.joinPushes.delete(playerId);
    this.inputs.delete(playerId);
    this.arena.removePlayer(playerId);
    this.fillBots();
    this.syncPlayers();
    this.onView(this.view);
    return true;
  }

  /**
   * Sets a human's input for the next tick (the simulation keeps it until
   * replaced). Non-finite directions count as 0; directions are clamped to [-1, 1].
   * Unknown players are ignored.
   */
  setInput(playerId: string, input: PlayerInput): void {
    if (!this.humans.has(playerId)) return;
    this.inputs.set(playerId, { dx: clamp1(input.dx), dy: clamp1(input.dy), attack: input.attack === true });
  }

  /**
   * A human takes a quest (an active one is abandoned).
   *
   * @throws PlaymindError `invalid_argument` for an unknown quest or player
   */
  takeQuest(playerId: string, questId: string): void {
    const h = this.human(playerId);
    const spec = this.quests.get(questId);
    if (!spec) {
      throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `unknown quest '${questId}'`, { details: { questId } });
    }
    this.emitInput({ type: 'take-quest', tick: this.arena.tick, playerId, questId });
    const active = this.arena.player(playerId)?.activeQuest;
    if (active) this.telemetry?.record(h.telemetryId, active.questId, 'abandoned');
    this.arena.takeQuest(playerId, spec);
    this.telemetry?.record(h.telemetryId, questId, 'taken');
    if (!h.taken.includes(questId)) h.taken.push(questId);
    this.syncPlayers();
    this.onView(this.view);
    this.refreshRecommendations(playerId);
  }

  /**
   * A human turns in its active quest (the simulation also finishes quests itself
   * when their goal is reached). Telemetry and recommendations follow the
   * `quest-finished` event of the next tick.
   *
   * @throws PlaymindError `invalid_argument` for an unknown player or when it has no active quest
   */
  finishQuest(playerId: string): void {
    this.human(playerId);
    if (!this.arena.player(playerId)?.activeQuest)
      throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, 'no active quest to finish');
    this.emitInput({ type: 'finish-quest', tick: this.arena.tick, playerId });
    this.arena.finishQuest(playerId);
  }

  /**
   * A human gives up its active quest (counted as abandoned in telemetry); new
   * recommendations follow.
   *
   * @throws PlaymindError `invalid_argument` for an unknown player or when it has no active quest
   */
  abandonQuest(playerId: string): void {
    const h = this.human(playerId);
    const active = this.arena.player(playerId)?.activeQuest;
    if (!active) throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, 'no active quest to abandon');
    this.emitInput({ type: 'abandon-quest', tick: this.arena.tick, playerId });
    this.arena.abandonQuest(playerId);
    this.telemetry?.record(h.telemetryId, active.questId, 'abandoned');
    this.syncPlayers();
    this.onView(this.view);
    this.refreshRecommendations(playerId);
  }

  /** How the guards are decided now. */
  get guardMode(): GuardMode {
    return this.mode;
  }

  /**
   * Lets the model or the scripted expert guard decide the guards from the next
   * decision on (the demo's "model vs scripted guards" toggle).
   *
   * @throws PlaymindError `invalid_argument` for another mode
   */
  setGuardMode(mode: GuardMode): void {
    if (mode !== 'model' && mode !== 'scripted')
      throw new PlaymindError(
        ErrorCode.INVALID_ARGUMENT,
        `guard mode must be 'model' or 'scripted', got ${String(mode)}`,
      );
    if (mode === this.mode) return;
    this.emitInput({ type: 'guard-mode', tick: this.arena.tick, mode });
    this.mode = mode;
    this.mutableView.guardMode = mode;
    this.onView(this.view);
  }

  /**
   * Recomputes a human's recommendations and delivers them (pushes also follow
   * the join and every quest event).
   *
   * @throws PlaymindError `invalid_argument` for an unknown player
   */
  requestRecommendations(playerId: string): void {
    this.human(playerId);
    this.joinPushes.delete(playerId);
    this.refreshRecommendations(playerId);
  }

  /**
   * Runs one tick: applies the decision issued last tick (or keeps the last
   * actions), steps the simulation, updates the view and issues the next decision.
   *
   * @returns the simulation's events of this tick
   */
  tick(): readonly SimEvent[] {
    if (this.closed) return [];
    const t0 = now();
    this.applyDecision();
    const arena = this.arena;
    if (this.observers.length > 0 && this.inputs.size > 0) {
      for (const [playerId, input] of this.inputs) this.emitInput({ type: 'input', tick: arena.tick, playerId, input });
    }
    for (const b of this.bots) {
      const questId = botQuestChoice(arena, b.id, b.style);
      if (questId !== null) arena.takeQuest(b.id, questId);
      this.inputs.set(b.id, botInput(arena, b.id, b.style));
    }
    const { events } = arena.step(this.actions, this.inputs);
    this.inputs.clear();
    for (const e of events) if (e.type === 'quest-finished') this.onQuestFinished(e.playerId, e.questId);
    if (this.rounds) this.updateRound();
    if (this.joinPushes.size > 0) {
      for (const [id, due] of this.joinPushes) {
        if (arena.tick < due) continue;
        this.joinPushes.delete(id);
        this.refreshRecommendations(id);
      }
    }
    this.syncView();
    this.onView(this.view);
    if (this.observers.length > 0) {
      const record = { tick: arena.tick, hash: arena.stateHash(), events };
      for (const o of this.observers) if (o.tick) this.safely('tick', () => o.tick!(record));
    }
    const trace = this.issueDecision();
    if (trace) trace.syncMs = now() - t0;
    return events;
  }

  /** Resolves when the last decision issued has come back (or failed): a lockstep driver awaits it. */
  settled(): Promise<void> {
    return this.inflightPromise;
  }

  /**
   * The decision request made on the state of `tick` (applied at `tick + 1`),
   * while it is among the last `traceLength` ones.
   */
  decisionTrace(tick: number): DecisionTrace | undefined {
    const t = this.traces[tick % this.traces.length];
    return t && t.tick === tick ? t : undefined;
  }

  /** Stops ticking and delivering recommendations. */
  close(): void {
    this.closed = true;
  }

  private human(playerId: string): Human {
    const h = this.humans.get(playerId);
    if (!h) throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `unknown player '${playerId}'`);
    return h;
  }

  private emitInput(input: GameInput): void {
    for (const o of this.observers) if (o.input) this.safely('input', () => o.input!(input));
  }

  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, hook: what }, 'arena game: an observer threw; ignored');
    }
  }

  private applyDecision(): void {
    const trace = this.inflight;
    this.inflight = null;
    if (!trace) return;
    let d = trace.decision;
    if (!d) {
      // Not back in time (or never issued): the late answer will be dropped.
      const waited = now() - trace.issuedAt;
      trace.late = true;
      this.metrics.tick(trace.syncMs + waited, trace.syncMs);
      const fallback = this.lateFallback;
      if (!fallback || trace.n !== this.actions.length) {
        this.metrics.decision('deadline', waited, trace.n);
        return;
      }
      // The guards never freeze: the heuristic decides on the state the decision was asked for.
      const error = new PlaymindError(
        ErrorCode.DEADLINE_EXCEEDED,
        trace.issued
          ? `the guard decision of tick ${trace.tick} was not back by the next tick (${Math.round(waited)} ms); ${fallback.model} decided`
          : `no guard decision could be issued at tick ${trace.tick} (${this.maxInFlight} in flight); ${fallback.model} decided`,
      );
      d = {
        tick: trace.tick,
        actions: maskForbiddenActions(fallback.decide(trace.rows, trace.n, trace.masks), trace.masks),
        model: fallback.model,
        outcome: 'fallback',
        servedBy: 'fallback',
        reason: ErrorCode.DEADLINE_EXCEEDED,
        latencyMs: waited,
        error,
      };
      this.metrics.decision('fallback', waited, trace.n, ErrorCode.DEADLINE_EXCEEDED, error);
      this.metrics.lateFallback?.(trace.n, ErrorCode.DEADLINE_EXCEEDED);
    }
    if (!d.actions || d.actions.length !== this.actions.length) return;
    this.actions.set(d.actions);
    const probabilities = d.probabilities && d.probabilities.length === d.actions.length ? d.probabilities : null;
    const servedBy = d.servedBy ?? '';
    for (let i = 0; i < this.guardViews.length; i++) {
      const gv = this.guardViews[i]!;
      gv.model = d.model;
      gv.servedBy = servedBy;
      gv.decisionTick = d.tick;
      gv.expert =
        GUARD_ACTIONS[
          expertGuardFromObservation(trace.rows.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT))
        ] ?? '';
      gv.probabilities = probabilities?.[i] ?? null;
    }
    trace.applied = true;
    if (this.observers.length > 0) {
      const applied: AppliedDecision = {
        tick: this.arena.tick,
        observedTick: d.tick,
        actions: new Uint8Array(d.actions),
        model: d.model,
        outcome: d.outcome,
        servedBy,
        reason: d.reason ?? '',
        probabilities,
      };
      for (const o of this.observers) if (o.decision) this.safely('decision', () => o.decision!(applied));
    }
  }

  private issueDecision(): PendingTrace | null {
    const issued = this.running < this.maxInFlight;
    if (!issued && !this.lateFallback) return null;
    const arena = this.arena;
    const n = arena.guards.length;
    const rows = observeAll(arena);
    const masks = guardActionMasks(arena);
    const trace: PendingTrace = {
      tick: arena.tick,
      n,
      guardIds: arena.guards.map((g) => g.id),
      rows,
      masks,
      applied: false,
      issuedAt: now(),
      syncMs: 0,
      late: false,
      issued,
    };
    this.traces[arena.tick % this.traces.length] = trace;
    this.inflight = trace;
    // Too many in flight: no new decision; the next tick's late fallback decides on this state.
    if (!issued) return trace;
    this.running++;
    const decide = this.mode === 'scripted' ? scriptedGuards : this.decideGuards;
    this.inflightPromise = decide(arena.tick, rows, masks, n)
      .then((d) => {
        // A heuristic may pick actions the mask forbids; a model's decoder already masks its own.
        const decision =
          d.actions && (d.outcome === 'fallback' || d.outcome === 'scripted')
            ? { ...d, actions: maskForbiddenActions(d.actions, masks) }
            : d;
        trace.decision = decision;
        if (!trace.late) {
          this.metrics.decision(decision.outcome, decision.latencyMs, n, decision.reason, decision.error);
          this.metrics.tick(trace.syncMs + decision.latencyMs, trace.syncMs);
        }
        this.logOutcome(decision);
      })
      .catch((err: unknown) => {
        this.log.error({ err }, 'arena game: a guard decision failed unexpectedly');
      })
      .finally(() => {
        this.running--;
      });
    return trace;
  }

  private logOutcome(d: GuardDecision): void {
    if (d.outcome === 'error')
      this.log.error({ err: d.error, model: d.model }, 'guard decision failed; guards keep their last actions');
    else if (d.outcome === 'fallback' && d.error && !this.warnedFallback) {
      this.warnedFallback = true;
      this.log.warn(
        { reason: d.error.message, model: d.model },
        'guard model unavailable; the fallback heuristic decides',
      );
    }
    if (d.outcome === 'model') this.warnedFallback = false;
  }

  private onQuestFinished(playerId: string, questId: string): void {
    const h = this.humans.get(playerId);
    if (!h) return;
    this.telemetry?.record(h.telemetryId, questId, 'finished');
    if (!h.taken.includes(questId)) h.taken.push(questId);
    if (!h.finished.includes(questId)) h.finished.push(questId);
    this.refreshRecommendations(playerId);
  }

  private refreshRecommendations(playerId: string): void {
    const h = this.humans.get(playerId);
    if (!h || this.closed) return;
    const seq = ++h.recsSeq;
    const count = this.recommendations;
    let pending: Promise<QuestRecommendations>;
    try {
      pending = this.recommend(recommendationRequest(playerId, h, count)).then((r) => {
        this.metrics.recommendation(r.servedBy === 'fallback');
        return shapeRecommendations(this.quests, playerId, count, r);
      });
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (message) => {
        // Only the latest request of a player still here is delivered.
        if (this.humans.get(playerId) === h && h.recsSeq === seq && !this.closed)
          this.onRecommendations(playerId, message);
      },
      (err: unknown) => {
        this.log.warn({ err, player: playerId }, 'quest recommendations failed');
        if (this.humans.get(playerId) === h && !this.closed) this.onRecommendationError(playerId, err);
      },
    );
  }

  private fillBots(): void {
    while (this.humans.size + this.bots.length < this.minPlayers) {
      const id = `bot-${++this.nextBot}`;
      const style = BOT_STYLES[(this.nextBot - 1) % BOT_STYLES.length]!;
      this.arena.addPlayer(id, 'bot');
      this.names.set(id, botName(this.nextBot, style));
      this.bots.push({ id, style, roster: false });
    }
  }

  private trimBots(): void {
    while (this.humans.size + this.bots.length > this.minPlayers) {
      const b = this.bots[this.bots.length - 1];
      if (!b || b.roster) return;
      this.bots.pop();
      this.names.delete(b.id);
      this.arena.removePlayer(b.id);
      this.inputs.delete(b.id);
    }
  }

  private syncView(): void {
    const a = this.arena;
    this.mutableView.tick = a.tick;
    for (let i = 0; i < a.guards.length; i++) {
      const gv = this.guardViews[i]!;
      writeGuard(a.guards[i]!, gv);
      gv.action = GUARD_ACTIONS[this.actions[i]!]!;
    }
    for (let i = 0; i < a.collectibles.length; i++) writeCollectible(a.collectibles[i]!, this.collectibleViews[i]!);
    this.syncPlayers();
    if (this.rounds) {
      let team = 0;
      for (const p of a.players) team += p.score;
      this.rounds.write(a.tick, team, this.mutableView);
    }
  }

  /** Ends the round when its goal is reached or its time is up: the scores start from zero. */
  private updateRound(): void {
    const scores = new Map<string, number>();
    for (const p of this.arena.players) scores.set(p.id, p.score);
    const end = this.rounds!.update(this.arena.tick, scores);
    if (!end) return;
    this.arena.resetScores();
    this.log.info({ round: end.round, winner: end.winner, score: end.score }, 'arena round ended');
    this.safely('round end', () => this.onRoundEnd(end));
  }

  private syncPlayers(): void {
    const views = this.players;
    for (const p of this.arena.players) {
      let pv = views.get(p.id);
      if (!pv) {
        pv = initialPlayerFields(p, this.names.get(p.id) ?? p.id);
        views.set(p.id, pv);
      }
      writePlayer(p, pv);
    }
    if (views.size !== this.arena.players.length) {
      for (const id of [...views.keys()]) if (!this.arena.player(id)) views.delete(id);
    }
  }
}

/** Bots' names, by style and number (a name players can tell apart). */
const BOT_NAMES: Readonly<Record<BotStyle, readonly string[]>> = {
  fighter: ['Brick', 'Flint', 'Rook', 'Vex'],
  collector: ['Magpie', 'Wren', 'Finch', 'Jay'],
  quester: ['Rover', 'Sage', 'Drift', 'Quill'],
};

function botName(n: number, style: BotStyle): string {
  const names = BOT_NAMES[style];
  const base = names[Math.floor((n - 1) / BOT_STYLES.length) % names.length]!;
  return `${base} (bot)`;
}

/** The scripted expert guard deciding every guard (the "scripted guards" mode): no model, no waiting. */
const scriptedGuards: DecideGuards = (tick, rows, _masks, n) => {
  const actions = new Uint8Array(n);
  for (let i = 0; i < n; i++)
    actions[i] = expertGuardFromObservation(rows.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT));
  return Promise.resolve({
    tick,
    actions,
    model: 'expert-guard',
    outcome: 'scripted',
    latencyMs: 0,
    servedBy: 'scripted',
  });
};
