/**
 * One running arena game, without the network: the authoritative simulation,
 * its players (humans and scripted bots), the guards' pipelined decisions, the
 * quests, telemetry and the synchronised schema state. The `arena` room drives
 * {@link ArenaSession.tick} at 20 Hz and forwards client messages to it; the
 * tick benchmark drives it directly.
 *
 * Decisions are pipelined so inference never stalls a tick: at the end of tick
 * `t` the session observes every guard and issues ONE batched decision; tick
 * `t + 1` applies it if it arrived (within the deadline), otherwise every guard
 * keeps its last action and the miss is counted.
 *
 * @module
 */
import { ErrorCode, PlaymindError, type Brain, type Logger } from '../../sdk/index.js';
import {
  ACTION,
  BOT_STYLES,
  GUARD_ACTIONS,
  GUARD_ACTION_COUNT,
  botInput,
  botQuestChoice,
  createArena,
  guardActionMasks,
  observeAll,
  type Arena,
  type ArenaConfigInput,
  type BotStyle,
  type PlayerInput,
  type SimEvent,
} from '../sim/index.js';
import { GuardBrain, type DecisionOutcome, type GuardDecision } from './arena-brain.js';
import {
  DEFAULT_ARENA_QUESTS,
  recommendQuests,
  roomQuests,
  type ArenaQuest,
  type RecommendationsMessage,
} from './arena-quests.js';
import { ArenaState, CollectibleState, GuardState, ObstacleState, PlayerState, QuestInfoState } from './arena-state.js';
import { initialPlayerFields, writeCollectible, writeGuard, writePlayer } from './arena-view.js';
import type { QuestTelemetry } from './arena-telemetry.js';

/** What the session reports to metrics (the room adapts the server's Metrics object to it). */
export interface ArenaMetricsSink {
  /**
   * One tick's duration, inference included: its synchronous work (applying
   * decisions, stepping, syncing, issuing the next decision) plus the time the
   * decision it issued took to come back. Reported when that decision settles.
   */
  tick(ms: number, syncMs: number): void;
  /**
   * A guard decision ended (`deadline`: a deadline miss, every guard kept its
   * last action; `fallback`: the heuristic answered, `reason` says why).
   */
  decision(outcome: DecisionOutcome, latencyMs: number, guards: number, reason?: string): void;
  /** A player's recommendations were computed (`fallback`: the model could not answer). */
  recommendation(fallback: boolean): void;
}

/** Metrics that go nowhere. */
export const NO_ARENA_METRICS: ArenaMetricsSink = { tick() {}, decision() {}, recommendation() {} };

/** One tick's decision request, kept for inspection (see {@link ArenaSession.decisionTrace}). */
export interface DecisionTrace {
  /** The tick whose state was observed; the decision applies at `tick + 1`. */
  readonly tick: number;
  readonly n: number;
  /** Guard ids, row order. */
  readonly guardIds: readonly string[];
  /** n × GUARD_FEATURE_COUNT observations (`GUARD_FEATURES` order), as sent to the model. */
  readonly rows: Float32Array;
  /** n × GUARD_ACTION_COUNT masks (`GUARD_ACTIONS` order). */
  readonly masks: Float32Array;
  /** The answer, once it came. */
  decision?: GuardDecision;
  /** Whether the answer was applied (false: it came too late, or carried no actions). */
  applied: boolean;
}

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
  telemetry?: QuestTelemetry | null;
  metrics?: ArenaMetricsSink;
  logger?: Logger;
  /** Called with the recommendations meant for one player only. */
  onRecommendations?: (playerId: string, message: RecommendationsMessage) => void;
  /** Decision traces kept. @default 64 */
  traceLength?: number;
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
}

interface Bot {
  id: string;
  style: BotStyle;
}

const now = (): number => performance.now();
/** Ticks between a join and its first recommendations push (150 ms at 20 Hz). */
const JOIN_PUSH_DELAY_TICKS = 3;
const silent: Logger = { info() {}, warn() {}, error() {} };

/** See the module documentation. */
export class ArenaSession {
  /** The simulation. */
  readonly arena: Arena;
  /** The state synchronised to clients. */
  readonly state: ArenaState;
  /** The quests players may take, by id. */
  readonly quests: ReadonlyMap<string, ArenaQuest>;
  /** The guards' brain. */
  readonly brain: GuardBrain;

  private readonly decider: Brain;
  private readonly recsModel: string;
  private readonly minPlayers: number;
  private readonly telemetry: QuestTelemetry | null;
  private readonly metrics: ArenaMetricsSink;
  private readonly log: Logger;
  private readonly onRecommendations: (playerId: string, message: RecommendationsMessage) => void;
  private readonly humans = new Map<string, Human>();
  private readonly bots: Bot[] = [];
  private nextBot = 0;
  private readonly inputs = new Map<string, PlayerInput>();
  /** The action each guard applies (GUARD_ACTIONS index), and who decided it. */
  private readonly actions: Uint8Array;
  private readonly actionModel: string[];
  private readonly actionTick: Int32Array;
  private readonly guardStates: GuardState[] = [];
  private readonly collectibleStates: CollectibleState[] = [];
  private readonly playerStates = new Map<string, PlayerState>();
  private readonly traces: (DecisionTrace | undefined)[];
  /** The decision in flight (issued at the end of the last tick). */
  private inflight: PendingTrace | null = null;
  private inflightPromise: Promise<void> = Promise.resolve();
  private closed = false;
  private warnedFallback = false;
  /** Humans owed their join-time recommendations, and the tick they are due. */
  private readonly joinPushes = new Map<string, number>();

  /**
   * @param options - services and game settings
   * @throws TypeError / RangeError for bad options (naming the option)
   */
  constructor(options: ArenaSessionOptions) {
    if (!options || typeof options !== 'object') throw new TypeError(`'options' must be an object`);
    const minPlayers = options.minPlayers ?? 4;
    if (!Number.isInteger(minPlayers) || minPlayers < 0 || minPlayers > 64)
      throw new RangeError(`'minPlayers' must be an integer in 0..64, got ${String(minPlayers)}`);
    const guardCount = options.guardCount ?? options.arena?.guardCount ?? 6;
    if (!Number.isInteger(guardCount) || guardCount < 1 || guardCount > 5000)
      throw new RangeError(`'guardCount' must be an integer in 1..5000, got ${String(guardCount)}`);
    const traceLength = options.traceLength ?? 64;
    if (!Number.isInteger(traceLength) || traceLength < 1)
      throw new RangeError(`'traceLength' must be a positive integer, got ${String(traceLength)}`);
    this.decider = options.brain;
    this.brain = new GuardBrain({
      brain: options.brain,
      model: options.guardModel,
      deadlineMs: options.deadlineMs,
    });
    this.recsModel = options.recsModel ?? 'quest-recs';
    this.minPlayers = minPlayers;
    this.telemetry = options.telemetry ?? null;
    this.metrics = options.metrics ?? NO_ARENA_METRICS;
    this.log = options.logger ?? silent;
    this.onRecommendations = options.onRecommendations ?? (() => {});
    this.traces = new Array<DecisionTrace | undefined>(traceLength);

    const quests = roomQuests(this.decider, this.recsModel);
    this.quests = new Map((quests.length > 0 ? quests : DEFAULT_ARENA_QUESTS).map((q) => [q.id, q]));
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    this.arena = createArena({ ...options.arena, guardCount, playerCount: 0, quests: [...this.quests.values()] }, seed);
    const n = this.arena.guards.length;
    this.actions = new Uint8Array(n).fill(ACTION.patrol);
    this.actionModel = new Array<string>(n).fill('initial');
    this.actionTick = new Int32Array(n);

    this.state = new ArenaState();
    this.initState();
    this.fillBots();
    this.syncState();
    this.issueDecision();
  }

  /** Players that are humans (connected clients). */
  get humanCount(): number {
    return this.humans.size;
  }

  /** Scripted bots currently playing. */
  get botCount(): number {
    return this.bots.length;
  }

  /**
   * Adds a human player (a client joined) and sends it its first recommendations.
   *
   * @param playerId - unique id (the client's sessionId)
   * @param telemetryId - the id its quest telemetry is written under @default playerId
   * @throws RangeError when the id is taken
   */
  addHuman(playerId: string, telemetryId: string = playerId): void {
    if (this.humans.has(playerId) || this.arena.player(playerId))
      throw new RangeError(`player '${playerId}' already exists`);
    this.arena.addPlayer(playerId, 'human');
    this.humans.set(playerId, { id: playerId, telemetryId, taken: [], finished: [], recsSeq: 0 });
    this.trimBots();
    this.syncState();
    // Pushed a few ticks after the join: a client only registers its message handlers
    // once its join has resolved, and a message that arrives earlier is lost.
    this.joinPushes.set(playerId, this.arena.tick + JOIN_PUSH_DELAY_TICKS);
  }

  /**
   * Removes a human player (the client left); an active quest counts as abandoned.
   *
   * @returns whether the player was here
   */
  removeHuman(playerId: string): boolean {
    const h = this.humans.get(playerId);
    if (!h) return false;
    const q = this.arena.player(playerId)?.activeQuest;
    if (q) this.telemetry?.record(h.telemetryId, q.questId, 'abandoned');
    this.humans.delete(playerId);
    this.joinPushes.delete(playerId);
    this.inputs.delete(playerId);
    this.arena.removePlayer(playerId);
    this.fillBots();
    this.syncState();
    return true;
  }

  /** Sets a human's input (sticky until replaced). The caller validated it. */
  setInput(playerId: string, input: PlayerInput): void {
    if (this.humans.has(playerId)) this.inputs.set(playerId, input);
  }

  /**
   * A human takes a quest (an active one is abandoned).
   *
   * @throws PlaymindError `invalid_argument` for an unknown quest or player
   */
  takeQuest(playerId: string, questId: string): void {
    const h = this.humans.get(playerId);
    if (!h) throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `unknown player '${playerId}'`);
    const spec = this.quests.get(questId);
    if (!spec) {
      throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `unknown quest '${questId}'`, { details: { questId } });
    }
    const active = this.arena.player(playerId)?.activeQuest;
    if (active) this.telemetry?.record(h.telemetryId, active.questId, 'abandoned');
    this.arena.takeQuest(playerId, spec);
    this.telemetry?.record(h.telemetryId, questId, 'taken');
    if (!h.taken.includes(questId)) h.taken.push(questId);
    this.syncPlayers();
    this.refreshRecommendations(playerId);
  }

  /**
   * A human turns in its active quest (the simulation also finishes quests
   * itself when their goal is reached). Telemetry and recommendations follow
   * the `quest-finished` event of the next tick.
   *
   * @throws PlaymindError `invalid_argument` when the player has no active quest
   */
  finishQuest(playerId: string): void {
    if (!this.humans.has(playerId)) throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `unknown player '${playerId}'`);
    if (!this.arena.finishQuest(playerId))
      throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, 'no active quest to finish');
  }

  /**
   * Recomputes a human's recommendations and sends them to it (a client asks
   * once its message handler is in place; pushes follow every quest event).
   *
   * @throws PlaymindError `invalid_argument` for an unknown player
   */
  requestRecommendations(playerId: string): void {
    if (!this.humans.has(playerId)) throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `unknown player '${playerId}'`);
    this.joinPushes.delete(playerId);
    this.refreshRecommendations(playerId);
  }

  /**
   * Runs one tick: applies the decision issued last tick (or keeps the last
   * actions), steps the simulation, syncs the state and issues the next decision.
   *
   * @returns the simulation's events of this tick
   */
  tick(): readonly SimEvent[] {
    if (this.closed) return [];
    const t0 = now();
    this.applyDecision();
    for (const b of this.bots) {
      const questId = botQuestChoice(this.arena, b.id, b.style);
      if (questId !== null) this.arena.takeQuest(b.id, questId);
      this.inputs.set(b.id, botInput(this.arena, b.id, b.style));
    }
    const { events } = this.arena.step(this.actions, this.inputs);
    this.inputs.clear();
    for (const e of events) if (e.type === 'quest-finished') this.onQuestFinished(e.playerId, e.questId);
    if (this.joinPushes.size > 0) {
      for (const [id, due] of this.joinPushes) {
        if (this.arena.tick < due) continue;
        this.joinPushes.delete(id);
        this.refreshRecommendations(id);
      }
    }
    this.syncState();
    const trace = this.issueDecision();
    trace.syncMs = now() - t0;
    return events;
  }

  /** Resolves when the decision in flight has come back (or failed): the benchmark awaits it. */
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

  /** Stops ticking; the telemetry is flushed by its owner. */
  close(): void {
    this.closed = true;
  }

  private applyDecision(): void {
    const trace = this.inflight;
    this.inflight = null;
    if (!trace) return;
    const d = trace.decision;
    if (!d) {
      // Not back in time: keep the last actions; the late answer will be dropped.
      const waited = now() - trace.issuedAt;
      this.metrics.decision('deadline', waited, trace.n);
      this.metrics.tick(trace.syncMs + waited, trace.syncMs);
      trace.late = true;
      return;
    }
    if (!d.actions) return;
    this.actions.set(d.actions);
    for (let i = 0; i < this.actions.length; i++) {
      this.actionModel[i] = d.model;
      this.actionTick[i] = d.tick;
    }
    trace.applied = true;
  }

  private issueDecision(): PendingTrace {
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
    };
    this.traces[arena.tick % this.traces.length] = trace;
    this.inflight = trace;
    this.inflightPromise = this.brain
      .decide(arena.tick, rows, masks, n)
      .then((d) => {
        const decision = d.actions ? { ...d, actions: maskedActions(d.actions, masks, d.outcome) } : d;
        trace.decision = decision;
        if (!trace.late) {
          this.metrics.decision(decision.outcome, decision.latencyMs, n, decision.reason);
          this.metrics.tick(trace.syncMs + decision.latencyMs, trace.syncMs);
        }
        if (decision.outcome === 'error')
          this.log.error(
            { err: decision.error, model: this.brain.model },
            'guard decision failed; guards keep their last actions',
          );
        else if (decision.outcome === 'fallback' && decision.error && !this.warnedFallback) {
          this.warnedFallback = true;
          this.log.warn(
            { reason: decision.error.message, model: this.brain.model },
            'guard model cannot answer; the fallback heuristic decides',
          );
        }
        if (decision.outcome === 'model') this.warnedFallback = false;
      })
      .catch((err: unknown) => {
        this.log.error({ err }, 'arena: handling a guard decision failed');
      });
    return trace;
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
    if (!h) return;
    const seq = ++h.recsSeq;
    recommendQuests(
      this.decider,
      this.quests,
      playerId,
      { taken: h.taken, finished: h.finished },
      { model: this.recsModel },
    ).then(
      ({ message, fallback }) => {
        this.metrics.recommendation(fallback);
        // Only the latest request of a player still here is delivered.
        if (this.humans.get(playerId) === h && h.recsSeq === seq && !this.closed)
          this.onRecommendations(playerId, message);
      },
      (err: unknown) => {
        this.log.warn({ err, player: playerId }, 'quest recommendations failed');
      },
    );
  }

  private fillBots(): void {
    while (this.humans.size + this.bots.length < this.minPlayers) {
      const id = `bot-${++this.nextBot}`;
      const style = BOT_STYLES[(this.nextBot - 1) % BOT_STYLES.length]!;
      this.arena.addPlayer(id, 'bot');
      this.bots.push({ id, style });
    }
  }

  private trimBots(): void {
    while (this.bots.length > 0 && this.humans.size + this.bots.length > this.minPlayers) {
      const b = this.bots.pop()!;
      this.arena.removePlayer(b.id);
      this.inputs.delete(b.id);
    }
  }

  private initState(): void {
    const s = this.state;
    const a = this.arena;
    s.width = a.width;
    s.height = a.height;
    for (const o of a.obstacles) s.obstacles.push(new ObstacleState({ x: o.x, y: o.y, w: o.w, h: o.h }));
    for (const g of a.guards) {
      const gs = new GuardState({
        id: g.id,
        x: 0,
        y: 0,
        health: 0,
        alive: true,
        action: '',
        model: '',
        decisionTick: 0,
      });
      this.guardStates.push(gs);
      s.guards.set(g.id, gs);
    }
    for (const c of a.collectibles) {
      const cs = new CollectibleState({ x: c.pos.x, y: c.pos.y, active: c.active });
      this.collectibleStates.push(cs);
      s.collectibles.set(c.id, cs);
    }
    for (const q of this.quests.values()) {
      s.quests.set(
        q.id,
        new QuestInfoState({
          id: q.id,
          title: q.title,
          kind: q.kind,
          goal: q.kind === 'visit' ? 1 : q.goal,
          reward: q.reward,
        }),
      );
    }
  }

  private syncState(): void {
    const s = this.state;
    const a = this.arena;
    s.tick = a.tick;
    for (let i = 0; i < a.guards.length; i++) {
      const gs = this.guardStates[i]!;
      writeGuard(a.guards[i]!, gs);
      gs.action = GUARD_ACTIONS[this.actions[i]!]!;
      gs.model = this.actionModel[i]!;
      gs.decisionTick = this.actionTick[i]!;
    }
    for (let i = 0; i < a.collectibles.length; i++) writeCollectible(a.collectibles[i]!, this.collectibleStates[i]!);
    this.syncPlayers();
  }

  private syncPlayers(): void {
    const s = this.state;
    const seen = new Set<string>();
    for (const p of this.arena.players) {
      seen.add(p.id);
      let ps = this.playerStates.get(p.id);
      if (!ps) {
        ps = new PlayerState(initialPlayerFields(p));
        this.playerStates.set(p.id, ps);
        s.players.set(p.id, ps);
      }
      writePlayer(p, ps);
    }
    if (seen.size !== this.playerStates.size) {
      for (const id of [...this.playerStates.keys()]) {
        if (seen.has(id)) continue;
        this.playerStates.delete(id);
        s.players.delete(id);
      }
    }
  }
}

/**
 * Replaces actions the mask forbids (a heuristic may pick them) with `patrol`,
 * or `idle` for a downed guard. Model decisions are already masked by the decoder.
 */
function maskedActions(actions: Uint8Array, masks: Float32Array, outcome: DecisionOutcome): Uint8Array {
  if (outcome !== 'fallback') return actions;
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!;
    if (masks[i * GUARD_ACTION_COUNT + a] === 0)
      actions[i] = masks[i * GUARD_ACTION_COUNT + ACTION.patrol] ? ACTION.patrol : ACTION.idle;
  }
  return actions;
}
