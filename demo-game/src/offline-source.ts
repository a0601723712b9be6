/**
 * The offline arena: the one arena game (`server/game`, the same code the
 * server's `arena` room runs) in this page, with the Playmind SDK's browser
 * build (onnxruntime-web, WASM) injected: every tick ONE batched `npc-guard`
 * decision for all guards, and the player's quest recommendations from
 * `quest-recs`. Scripted bots fill the other players. No server is needed: any
 * static file server will do.
 *
 * Ticks are pipelined as in the room: the decision issued at the end of tick `t`
 * is applied at tick `t + 1` if it is back; otherwise every guard keeps its last
 * action, the miss is counted and the late answer is dropped. While a late call
 * is still running no new one is issued (`maxDecisionsInFlight: 1`), so a slow
 * page does not pile up inference work.
 *
 * This module is loaded by dynamic import, in offline mode only: it pulls in
 * the SDK and onnxruntime-web.
 *
 * @module
 */
import { createBrain, type Brain, type BrainOptions, type Logger } from '../../sdk/index.browser.js';
import { ArenaGame, arenaQuests, policyDecider, type DecideGuards, type RoundRules } from '../../server/game/index.js';
import { GUARD_HEURISTICS } from '../../server/sim/index.js';
import {
  SourceEmitter,
  type ArenaSource,
  type ArenaView,
  type InferenceSummary,
  type PlayerIntent,
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
  /** The own player's name. @default 'Player you' */
  name?: string;
  /** Round rules; null plays one endless match. @default the arena game's default rules */
  rounds?: Partial<RoundRules> | null;
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
  options: Pick<OfflineOptions, 'models' | 'wasmPaths'> & Omit<BrainOptions, 'models'>,
  wasmBinary?: ArrayBuffer,
): Promise<Brain> {
  return createBrain({
    heuristics: GUARD_HEURISTICS,
    logger: pageLogger,
    ...options,
    mode: 'local',
    ...(wasmBinary ? { wasmBinary } : {}),
  });
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

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
  private readonly game: ArenaGame;
  private intent: PlayerIntent = { dx: 0, dy: 0, attack: false };
  private readonly summary: Mutable<InferenceSummary> = {
    guardsServedBy: '',
    recommendationsServedBy: '',
    decisions: 0,
    deadlineMisses: 0,
    backend: 'onnxruntime-web (wasm, in this page)',
  };
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;
  /** Error codes already reported for guard decisions (each is reported once, not every tick). */
  private readonly reported = new Set<string>();

  private constructor(
    private readonly brain: Brain,
    decideGuards: DecideGuards,
    options: OfflineOptions,
    private readonly ownsBrain: boolean,
  ) {
    this.playerId = options.playerId ?? 'you';
    this.game = offlineGame(brain, decideGuards, options, {
      summary: this.summary,
      onRecommendations: (m) => this.events.emit('recommendations', m),
      onError: (error) => this.reportError(error),
    });
    this.timer = setInterval(() => this.tick(), 1000 / (options.tickRate ?? 20));
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
    const brain = options.brain ?? (await createOfflineBrain(options));
    // Without the model's manifest, decide() answers with the fallback heuristic on the arena's own encoding.
    const decide = await policyDecider(brain.policy(guardModel), {
      onNoManifest: (err) =>
        pageLogger.warn({ err: messageOf(err) }, `${guardModel}: no manifest; the fallback heuristic will decide`),
    });
    return new OfflineSource(brain, decide, options, options.brain === undefined);
  }

  view(): ArenaView {
    return this.game.view;
  }

  inference(): InferenceSummary {
    return { ...this.summary };
  }

  setIntent(intent: PlayerIntent): void {
    this.intent = { dx: intent.dx, dy: intent.dy, attack: intent.attack === true };
  }

  takeQuest(questId: string): void {
    try {
      this.game.takeQuest(this.playerId, questId);
    } catch (err) {
      this.events.emit('error', { code: codeOf(err, 'internal'), message: messageOf(err) });
      return;
    }
    this.events.emit('state', this.game.view);
  }

  abandonQuest(): void {
    try {
      this.game.abandonQuest(this.playerId);
    } catch (err) {
      this.events.emit('error', { code: codeOf(err, 'internal'), message: messageOf(err) });
      return;
    }
    this.events.emit('state', this.game.view);
  }

  setGuardMode(mode: 'model' | 'scripted'): void {
    this.game.setGuardMode(mode);
    this.events.emit('state', this.game.view);
  }

  requestRecommendations(): void {
    if (!this.closed) this.game.requestRecommendations(this.playerId);
  }

  on<E extends keyof SourceEvents>(event: E, listener: SourceEvents[E]): void {
    this.events.on(event, listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.game.close();
    if (this.ownsBrain) await this.brain.close();
  }

  /** One tick of the game with the player's current intent. */
  private tick(): void {
    if (this.closed) return;
    this.game.setInput(this.playerId, this.intent);
    this.game.tick();
    this.events.emit('state', this.game.view);
  }

  /** Reports an error to the page; a guard decision's error once per code, not every tick. */
  private reportError(error: { code: string; message: string; guards: boolean }): void {
    if (this.closed) return;
    if (error.guards) {
      if (this.reported.has(error.code)) return;
      this.reported.add(error.code);
    }
    this.events.emit('error', { code: error.code, message: error.message });
  }
}

/** What the offline game reports to its page. */
export interface OfflineGameHooks {
  /** Updated in place: decisions applied, misses, who served the guards and the recommendations. */
  readonly summary?: Mutable<InferenceSummary>;
  readonly onRecommendations?: (recs: Recommendations) => void;
  /** `guards`: a guard decision failed (the guards keep their last actions). */
  readonly onError?: (error: { code: string; message: string; guards: boolean }) => void;
}

/**
 * The offline mode's game: the arena game with this page's brain injected (its
 * `quest-recs` catalogue for the quests, `recommend()` for recommendations) and
 * the own player joined. The page ticks it on a timer; a test may drive it.
 *
 * @param brain - a local brain (the SDK's browser build in the page)
 * @param decideGuards - e.g. `policyDecider(brain.policy('npc-guard'))`
 * @param options - the game settings
 * @param hooks - where the summary, recommendations and errors go
 */
export function offlineGame(
  brain: Brain,
  decideGuards: DecideGuards,
  options: Omit<OfflineOptions, 'models' | 'wasmPaths' | 'tickRate'>,
  hooks: OfflineGameHooks = {},
): ArenaGame {
  const summary = hooks.summary;
  const recsModel = options.recsModel ?? 'quest-recs';
  const catalogue = brain.repository?.manifest(recsModel);
  const game = new ArenaGame({
    decideGuards,
    recommendQuests: async (r) => {
      const rec = await brain.recommender(recsModel).recommend(r.request);
      if (summary) summary.recommendationsServedBy = rec.servedBy;
      return rec;
    },
    quests: arenaQuests(catalogue?.kind === 'recommender' ? catalogue.recommender.catalogue : undefined),
    recsModel,
    guardCount: options.guardCount ?? 6,
    minPlayers: options.minPlayers ?? 4,
    seed: options.seed,
    recommendations: options.recommendations ?? 5,
    rounds: options.rounds === undefined ? {} : options.rounds,
    maxDecisionsInFlight: 1,
    // In the page a late tick keeps the guards' last actions and counts a miss (the HUD's late count).
    lateFallback: null,
    logger: pageLogger,
    metrics: {
      tick() {},
      recommendation() {},
      decision: (outcome, _ms, _n, _reason, error) => {
        if (summary && (outcome === 'deadline' || outcome === 'overloaded')) summary.deadlineMisses++;
        if (error && outcome !== 'fallback')
          hooks.onError?.({
            code: codeOf(error, 'internal'),
            message: `guard decision failed (the guards keep their last actions): ${messageOf(error)}`,
            guards: true,
          });
      },
    },
    observers: summary
      ? [
          {
            decision: (d) => {
              summary.decisions++;
              summary.guardsServedBy = d.servedBy;
            },
          },
        ]
      : [],
    onRecommendations: (_player, m) =>
      hooks.onRecommendations?.({ items: m.items, model: m.model, coldStart: m.coldStart }),
    onRecommendationError: (_player, err) =>
      hooks.onError?.({
        code: codeOf(err, 'internal'),
        message: `quest recommendations failed: ${messageOf(err)}`,
        guards: false,
      }),
  });
  game.addHuman(options.playerId ?? 'you', options.playerId ?? 'you', options.name);
  return game;
}

/** The SDK's log lines go to the browser console (errors as console errors: a model that fails to load is one). */
const pageLogger: Logger = {
  info: (obj, msg) => console.info(`[playmind] ${msg ?? ''}`, obj),
  warn: (obj, msg) => console.warn(`[playmind] ${msg ?? ''}`, obj),
  error: (obj, msg) => console.error(`[playmind] ${msg ?? ''}`, obj),
};
