/**
 * The offline arena: the pure simulation (`server/sim`) runs in this page, and
 * the Playmind SDK's browser build (onnxruntime-web, WASM) serves the models
 * from a base URL: every tick ONE batched `npc-guard` decision for all guards,
 * and the player's quest recommendations from `quest-recs`. Scripted bots fill
 * the other players. No server is needed: any static file server will do.
 *
 * Ticks are pipelined as in the server's arena room (`server/rooms/arena-session.ts`):
 * the decision issued at the end of tick `t` is applied at tick `t + 1` if it
 * is back; otherwise every guard keeps its last action, the miss is counted
 * and the late answer is dropped. While a late call is still running no new
 * one is issued, so a slow page does not pile up inference work.
 *
 * This module is loaded by dynamic import, in offline mode only: it pulls in
 * the SDK and onnxruntime-web.
 *
 * @module
 */
import {
  createBrain,
  type Brain,
  type Decision,
  type Logger,
  type PolicyManifest,
  type Recommendation,
} from '../../sdk/index.browser.js';
import {
  ACTION,
  BOT_STYLES,
  GUARD_ACTIONS,
  GUARD_ACTION_COUNT,
  GUARD_FEATURES,
  GUARD_FEATURE_COUNT,
  GUARD_HEURISTICS,
  botInput,
  botQuestChoice,
  createArena,
  guardActionMasks,
  observeAll,
  type Arena,
  type BotStyle,
  type PlayerInput,
} from '../../server/sim/index.js';
import { DEFAULT_ARENA_QUESTS, questFromCatalogue, type ArenaQuest } from '../../server/rooms/arena-quests.js';
import { initialPlayerFields, writeCollectible, writeGuard, writePlayer } from '../../server/rooms/arena-view.js';
import {
  SourceEmitter,
  type ArenaSource,
  type ArenaView,
  type CollectibleView,
  type GuardView,
  type InferenceSummary,
  type PlayerIntent,
  type PlayerView,
  type QuestView,
  type Recommendations,
  type SourceEvents,
} from './arena-source.js';
import type { ConnectionStatus } from './test-hook.js';

/** Options of {@link OfflineSource.start}. */
export interface OfflineOptions {
  /** Base URL of the model repository (`<base>/index.json`, `<base>/<name>/manifest.json`, ...). */
  models: string;
  /** Base URL of onnxruntime-web's `.wasm` / `.mjs` files. */
  wasmPaths: string;
  /** Ticks per second. @default 20 (the arena room's rate) */
  tickRate?: number;
  /** @default 6 */
  guardCount?: number;
  /** Scripted bots fill the arena up to this many players. @default 4 */
  minPlayers?: number;
  /** Simulation seed. @default random */
  seed?: number;
  /** The own player's id. @default 'you' */
  playerId?: string;
  /** @default 'npc-guard' */
  guardModel?: string;
  /** @default 'quest-recs' */
  recsModel?: string;
  /** Recommendations shown. @default 5 */
  recommendations?: number;
  /**
   * A brain to decide with (see {@link createOfflineBrain}), kept open when the source closes;
   * by default the source makes its own and closes it.
   */
  brain?: Brain;
}

/**
 * The brain offline mode decides with: the SDK's browser build, local mode,
 * with the arena's heuristics as fallbacks.
 *
 * @param wasmBinary - onnxruntime-web's WASM, when the page fetched it itself (to show progress)
 */
export function createOfflineBrain(
  options: Pick<OfflineOptions, 'models' | 'wasmPaths'>,
  wasmBinary?: ArrayBuffer,
): Promise<Brain> {
  return createBrain({
    mode: 'local',
    models: options.models,
    wasmPaths: options.wasmPaths,
    ...(wasmBinary ? { wasmBinary } : {}),
    heuristics: GUARD_HEURISTICS,
    logger: pageLogger,
  });
}

/** Mutable versions of the view types: the source updates them in place every tick. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** How the guard model's contract maps onto the arena's features and actions. */
interface GuardEncoding {
  /** The model's features are exactly `GUARD_FEATURES` and its actions `GUARD_ACTIONS`: rows and masks pass as they are. */
  identity: boolean;
  /** The model's action names (first branch). */
  actions: readonly string[];
}

/** One tick's decision request. */
interface Pending {
  /** The tick whose state was observed. */
  readonly tick: number;
  /** The actions (GUARD_ACTIONS indices) and who decided, once back. */
  result?: { actions: Uint8Array; model: string; servedBy: string } | null;
  /** Set when its tick passed without it: the answer is dropped. */
  late: boolean;
}

/** The arena's action names as plain strings (for lookups by a model's names). */
const ARENA_ACTIONS: readonly string[] = GUARD_ACTIONS;

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function codeOf(err: unknown, fallback: string): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : fallback;
}

/** See the module documentation. */
export class OfflineSource implements ArenaSource {
  readonly mode = 'offline';
  readonly playerId: string;
  readonly status: ConnectionStatus = 'offline';

  private readonly events = new SourceEmitter();
  private readonly arena: Arena;
  private readonly quests: ReadonlyMap<string, ArenaQuest>;
  private readonly bots: { id: string; style: BotStyle }[] = [];
  private readonly inputs = new Map<string, PlayerInput>();
  private intent: PlayerInput = { dx: 0, dy: 0, attack: false };
  /** The action each guard applies (GUARD_ACTIONS index), and who decided it. */
  private readonly actions: Uint8Array;
  private readonly state: {
    tick: number;
    width: number;
    height: number;
    obstacles: { x: number; y: number; w: number; h: number }[];
    players: Map<string, Mutable<PlayerView>>;
    guards: Map<string, Mutable<GuardView>>;
    collectibles: Map<string, Mutable<CollectibleView>>;
    quests: Map<string, QuestView>;
  };
  private readonly guardStates: Mutable<GuardView>[] = [];
  private readonly collectibleStates: Mutable<CollectibleView>[] = [];
  private pending: Pending | null = null;
  /** Whether a decide call is running (possibly a late one). */
  private busy = false;
  private readonly summary: Mutable<InferenceSummary> = {
    guardsServedBy: '',
    recommendationsServedBy: '',
    decisions: 0,
    deadlineMisses: 0,
    backend: 'onnxruntime-web (wasm, in this page)',
  };
  private readonly history = { taken: [] as string[], finished: [] as string[] };
  private recsSeq = 0;
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;
  /** Error codes already reported for guard decisions (each is reported once, not every tick). */
  private readonly reported = new Set<string>();

  private constructor(
    private readonly brain: Brain,
    private readonly encoding: GuardEncoding,
    quests: readonly ArenaQuest[],
    private readonly options: Required<Omit<OfflineOptions, 'seed' | 'models' | 'wasmPaths' | 'brain'>> & {
      seed: number;
    },
    private readonly ownsBrain: boolean,
  ) {
    this.playerId = options.playerId;
    this.quests = new Map(quests.map((q) => [q.id, q]));
    this.arena = createArena(
      { guardCount: options.guardCount, playerCount: 0, quests: [...this.quests.values()] },
      options.seed,
    );
    this.actions = new Uint8Array(this.arena.guards.length).fill(ACTION.patrol);
    this.arena.addPlayer(this.playerId, 'human');
    for (let i = 1; this.arena.players.length < options.minPlayers; i++) {
      const id = `bot-${i}`;
      this.arena.addPlayer(id, 'bot');
      this.bots.push({ id, style: BOT_STYLES[(i - 1) % BOT_STYLES.length]! });
    }

    const a = this.arena;
    this.state = {
      tick: a.tick,
      width: a.width,
      height: a.height,
      obstacles: a.obstacles.map((o) => ({ x: o.x, y: o.y, w: o.w, h: o.h })),
      players: new Map(),
      guards: new Map(),
      collectibles: new Map(),
      quests: new Map(
        [...this.quests.values()].map((q) => [
          q.id,
          { id: q.id, title: q.title, kind: q.kind, goal: q.kind === 'visit' ? 1 : q.goal, reward: q.reward },
        ]),
      ),
    };
    for (const g of a.guards) {
      const gs: Mutable<GuardView> = {
        id: g.id,
        x: g.pos.x,
        y: g.pos.y,
        health: g.health,
        alive: g.alive,
        action: GUARD_ACTIONS[ACTION.patrol]!,
        model: 'initial',
      };
      this.guardStates.push(gs);
      this.state.guards.set(g.id, gs);
    }
    for (const c of a.collectibles) {
      const cs: Mutable<CollectibleView> = { x: c.pos.x, y: c.pos.y, active: c.active };
      this.collectibleStates.push(cs);
      this.state.collectibles.set(c.id, cs);
    }
    this.sync();
    this.issueDecision();
    this.timer = setInterval(() => this.tick(), 1000 / options.tickRate);
  }

  /**
   * Loads the models (onnxruntime-web fetches its WASM from `wasmPaths`) and starts ticking.
   *
   * @throws Error when the SDK cannot start (no WASM, no model index)
   */
  static async start(options: OfflineOptions): Promise<OfflineSource> {
    if (!options || typeof options.models !== 'string' || typeof options.wasmPaths !== 'string') {
      throw new TypeError(`'options.models' and 'options.wasmPaths' must be URLs`);
    }
    const guardModel = options.guardModel ?? 'npc-guard';
    const recsModel = options.recsModel ?? 'quest-recs';
    const brain = options.brain ?? (await createOfflineBrain(options));
    let encoding: GuardEncoding = { identity: true, actions: GUARD_ACTIONS };
    try {
      const m: PolicyManifest = await brain.policy(guardModel).manifest();
      const features = m.policy.observation.features.map((f) => (typeof f === 'string' ? f : f.name));
      const actions = m.policy.actions.discrete?.branches[0] ?? [];
      encoding = { identity: sameList(features, GUARD_FEATURES) && sameList(actions, GUARD_ACTIONS), actions };
    } catch (err) {
      // The model is not there: decide() answers with the fallback heuristic on the arena's own encoding.
      pageLogger.warn({ err: messageOf(err) }, `${guardModel}: no manifest; the fallback heuristic will decide`);
    }
    const catalogue = brain.repository?.manifest(recsModel);
    const quests =
      catalogue?.kind === 'recommender'
        ? catalogue.recommender.catalogue.map(questFromCatalogue)
        : DEFAULT_ARENA_QUESTS;
    return new OfflineSource(
      brain,
      encoding,
      quests,
      {
        tickRate: options.tickRate ?? 20,
        guardCount: options.guardCount ?? 6,
        minPlayers: options.minPlayers ?? 4,
        seed: options.seed ?? Math.floor(Math.random() * 2 ** 31),
        playerId: options.playerId ?? 'you',
        guardModel,
        recsModel,
        recommendations: options.recommendations ?? 5,
      },
      options.brain === undefined,
    );
  }

  view(): ArenaView {
    return this.state;
  }

  inference(): InferenceSummary {
    return { ...this.summary };
  }

  setIntent(intent: PlayerIntent): void {
    const clamp = (v: number) => (Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0);
    this.intent = { dx: clamp(intent.dx), dy: clamp(intent.dy), attack: intent.attack === true };
  }

  takeQuest(questId: string): void {
    const spec = this.quests.get(questId);
    if (!spec) {
      this.events.emit('error', { code: 'invalid_argument', message: `unknown quest '${questId}'` });
      return;
    }
    this.arena.takeQuest(this.playerId, spec);
    if (!this.history.taken.includes(questId)) this.history.taken.push(questId);
    this.sync();
    this.events.emit('state', this.state);
    this.requestRecommendations();
  }

  requestRecommendations(): void {
    if (this.closed) return;
    const seq = ++this.recsSeq;
    const k = this.options.recommendations;
    const { taken, finished } = this.history;
    this.brain
      .recommender(this.options.recsModel)
      .recommend({ history: [...taken], exclude: [...finished], k: k + finished.length })
      .then(
        (rec: Recommendation) => {
          if (this.closed || seq !== this.recsSeq) return;
          this.summary.recommendationsServedBy = rec.servedBy;
          const items = rec.items
            .filter((it) => this.quests.has(it.id))
            .slice(0, k)
            .map((it) => {
              const q = this.quests.get(it.id)!;
              return { id: q.id, title: q.title, kind: q.kind, score: Number.isFinite(it.score) ? it.score : 0 };
            });
          const recs: Recommendations = { items, model: rec.model, coldStart: rec.coldStart };
          this.events.emit('recommendations', recs);
        },
        (err: unknown) => {
          if (!this.closed)
            this.events.emit('error', {
              code: codeOf(err, 'internal'),
              message: `quest recommendations failed: ${messageOf(err)}`,
            });
        },
      );
  }

  on<E extends keyof SourceEvents>(event: E, listener: SourceEvents[E]): void {
    this.events.on(event, listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (this.ownsBrain) await this.brain.close();
  }

  /** One tick: apply last tick's decision (or keep the actions), step, sync, issue the next decision. */
  private tick(): void {
    if (this.closed) return;
    const p = this.pending;
    this.pending = null;
    if (p) {
      if (p.result === undefined) {
        p.late = true;
        this.summary.deadlineMisses++;
      } else if (p.result) {
        this.actions.set(p.result.actions);
        for (const gs of this.guardStates) gs.model = p.result.model;
        this.summary.guardsServedBy = p.result.servedBy;
        this.summary.decisions++;
      }
    }
    const arena = this.arena;
    this.inputs.clear();
    for (const b of this.bots) {
      const questId = botQuestChoice(arena, b.id, b.style);
      if (questId !== null) arena.takeQuest(b.id, questId);
      this.inputs.set(b.id, botInput(arena, b.id, b.style));
    }
    this.inputs.set(this.playerId, this.intent);
    const { events } = arena.step(this.actions, this.inputs);
    let recsDue = arena.tick === 1;
    for (const e of events) {
      if (e.type !== 'quest-finished' || e.playerId !== this.playerId) continue;
      if (!this.history.taken.includes(e.questId)) this.history.taken.push(e.questId);
      if (!this.history.finished.includes(e.questId)) this.history.finished.push(e.questId);
      recsDue = true;
    }
    this.sync();
    this.events.emit('state', this.state);
    if (recsDue) this.requestRecommendations();
    if (!this.busy) this.issueDecision();
  }

  /** Observes every guard and asks the model for one batched decision. */
  private issueDecision(): void {
    const arena = this.arena;
    const n = arena.guards.length;
    const rows = observeAll(arena);
    const masks = guardActionMasks(arena);
    const { identity, actions: names } = this.encoding;
    const observations = [];
    const maskRows = [];
    for (let i = 0; i < n; i++) {
      const row = rows.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT);
      const mask = masks.subarray(i * GUARD_ACTION_COUNT, (i + 1) * GUARD_ACTION_COUNT);
      if (identity) {
        observations.push(row);
        maskRows.push(mask);
      } else {
        // Another model's contract: feed features and masks by name.
        observations.push(Object.fromEntries(GUARD_FEATURES.map((f, j) => [f, row[j]!])));
        maskRows.push(
          Object.fromEntries(
            names.filter((a) => ARENA_ACTIONS.includes(a)).map((a) => [a, mask[ARENA_ACTIONS.indexOf(a)]! > 0]),
          ),
        );
      }
    }
    const pending: Pending = { tick: arena.tick, late: false };
    this.pending = pending;
    this.busy = true;
    this.brain
      .policy(this.options.guardModel)
      .decide(observations, { masks: maskRows })
      .then(
        (decisions: Decision[]) => {
          pending.result = this.toActions(decisions, masks);
        },
        (err: unknown) => {
          pending.result = null;
          const code = codeOf(err, 'internal');
          if (!this.closed && !this.reported.has(code)) {
            this.reported.add(code);
            this.events.emit('error', {
              code,
              message: `guard decision failed (the guards keep their last actions): ${messageOf(err)}`,
            });
          }
        },
      )
      .finally(() => {
        this.busy = false;
      });
  }

  /** Decisions to GUARD_ACTIONS indices; an action the arena forbids (a heuristic may pick one) becomes patrol, or idle. */
  private toActions(
    decisions: readonly Decision[],
    masks: Float32Array,
  ): { actions: Uint8Array; model: string; servedBy: string } | null {
    if (decisions.length !== this.actions.length) return null;
    const out = new Uint8Array(this.actions);
    for (let i = 0; i < decisions.length; i++) {
      const action = decisions[i]!.action;
      const a = action === undefined ? -1 : ARENA_ACTIONS.indexOf(action);
      if (a < 0) continue;
      const allowed = (j: number) => masks[i * GUARD_ACTION_COUNT + j]! > 0;
      out[i] = allowed(a) ? a : allowed(ACTION.patrol) ? ACTION.patrol : ACTION.idle;
    }
    return { actions: out, model: decisions[0]?.model ?? '', servedBy: decisions[0]?.servedBy ?? '' };
  }

  private sync(): void {
    const a = this.arena;
    const s = this.state;
    s.tick = a.tick;
    for (let i = 0; i < a.guards.length; i++) {
      const gs = this.guardStates[i]!;
      writeGuard(a.guards[i]!, gs);
      gs.action = GUARD_ACTIONS[this.actions[i]!]!;
    }
    for (let i = 0; i < a.collectibles.length; i++) writeCollectible(a.collectibles[i]!, this.collectibleStates[i]!);
    for (const p of a.players) {
      let ps = s.players.get(p.id);
      if (!ps) {
        ps = initialPlayerFields(p);
        s.players.set(p.id, ps);
      }
      writePlayer(p, ps);
    }
  }
}

/** The SDK's log lines go to the browser console (errors as console errors: a model that fails to load is one). */
const pageLogger: Logger = {
  info: (obj, msg) => console.info(`[playmind] ${msg ?? ''}`, obj),
  warn: (obj, msg) => console.warn(`[playmind] ${msg ?? ''}`, obj),
  error: (obj, msg) => console.error(`[playmind] ${msg ?? ''}`, obj),
};
