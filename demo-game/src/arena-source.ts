/**
 * What the game reads and does, whoever runs the arena: the server's `arena`
 * room (`online-source.ts`) or the simulation in the page (`offline-source.ts`).
 * The scene and the side panel only see this contract.
 *
 * The view is the arena game's view (`server/game/view.ts`): the offline source
 * hands out the game's plain view, the online source the decoded
 * @colyseus/schema objects the room writes from that same view
 * (`server/rooms/arena-state.ts`).
 *
 * @module
 */
import { NO_QUEST_TARGET } from '../../server/game/view.js';
import type { ConnectionStatus, HookRecommendation } from './test-hook.js';

/** A read-only keyed collection (a `MapSchema` or a `Map`). */
export interface KeyedView<V> {
  readonly size: number;
  get(key: string): V | undefined;
  forEach(cb: (value: V, key: string) => void): void;
}

/** A read-only list (an `ArraySchema` or an array). */
export interface ListView<V> {
  readonly length: number;
  forEach(cb: (value: V, index: number) => void): void;
}

export interface RectView {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface PlayerView {
  readonly id: string;
  /** `human` or `bot` */
  readonly kind: string;
  readonly x: number;
  readonly y: number;
  readonly health: number;
  readonly alive: boolean;
  readonly score: number;
  /** The active quest id, '' without one. */
  readonly quest: string;
  readonly questProgress: number;
  readonly questGoal: number;
  readonly questsDone: number;
  /**
   * Where the active `visit` quest must be reached; both {@link NO_QUEST_TARGET}
   * without one (no quest, or a `collect` / `defeat` quest).
   */
  readonly questTargetX: number;
  readonly questTargetY: number;
  /** The name shown to players (absent from servers before rounds and names). */
  readonly name?: string;
  /** Ticks until a downed player is back. */
  readonly respawnIn?: number;
}

/** `questTargetX` / `questTargetY` without a target (`server/game/view.ts`). */
export { NO_QUEST_TARGET };

/** The target of a player's active `visit` quest, or null. */
export function questTargetOf(player: PlayerView | null | undefined): { x: number; y: number } | null {
  if (!player || player.quest === '') return null;
  const x = player.questTargetX;
  const y = player.questTargetY;
  // Older servers do not sync the fields (undefined); the sentinel means no target.
  if (typeof x !== 'number' || typeof y !== 'number' || x === NO_QUEST_TARGET || y === NO_QUEST_TARGET) return null;
  return { x, y };
}

export interface GuardView {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly health: number;
  readonly alive: boolean;
  /** `idle`, `patrol`, `chase`, `attack`, `flee` or `flank` */
  readonly action: string;
  /** Who decided the action, e.g. `npc-guard@1`. */
  readonly model: string;
  /** The route that served the decision (`local`, `remote`, `fallback`); '' before the first (absent from older servers). */
  readonly servedBy?: string;
  /** The action probabilities the model gave (`GUARD_ACTIONS` order), where it gave them (offline only for now). */
  readonly probabilities?: ArrayLike<number> | null;
  /** The player it targets ('' for none). */
  readonly target?: string;
  /** Whether it sees its target now. */
  readonly sees?: boolean;
  /** What the scripted expert guard would have done on the same observation. */
  readonly expert?: string;
  /** The tick whose state was observed to decide `action`. */
  readonly decisionTick?: number;
}

export interface CollectibleView {
  readonly x: number;
  readonly y: number;
  readonly active: boolean;
}

export interface QuestView {
  readonly id: string;
  readonly title: string;
  /** `collect`, `defeat` or `visit` */
  readonly kind: string;
  readonly goal: number;
  readonly reward: number;
}

/** The arena as the game sees it. */
export interface ArenaView {
  readonly tick: number;
  readonly width: number;
  readonly height: number;
  readonly obstacles: ListView<RectView>;
  readonly players: KeyedView<PlayerView>;
  readonly guards: KeyedView<GuardView>;
  readonly collectibles: KeyedView<CollectibleView>;
  readonly quests: KeyedView<QuestView>;
  /** The current round (1 for the first; absent or 0 without rounds). */
  readonly round?: number;
  readonly roundTicksLeft?: number;
  readonly roundGoal?: number;
  readonly teamScore?: number;
  /** `players` or `guards` ('' before the first end). */
  readonly lastRoundWinner?: string;
  readonly lastRoundScore?: number;
  /** `model` or `scripted`. */
  readonly guardMode?: string;
}

/** A player's quest recommendations. */
export interface Recommendations {
  items: HookRecommendation[];
  /** e.g. `quest-recs@1`, `quest-recs@popularity` */
  model: string;
  coldStart: boolean;
}

/**
 * How the guards' decisions and the recommendations are computed when the
 * page computes them (offline mode: the SDK's browser build).
 */
export interface InferenceSummary {
  /** Who served the last applied guard decision (`local`, `fallback`), '' before the first. */
  readonly guardsServedBy: string;
  /** Who served the last recommendations (`local`, `fallback`), '' before the first. */
  readonly recommendationsServedBy: string;
  /** Guard decisions applied (one batched decision per tick). */
  readonly decisions: number;
  /** Ticks whose decision was not back in time: the guards kept their last actions. */
  readonly deadlineMisses: number;
  /** What runs the models, e.g. `onnxruntime-web (wasm, in this page)`. */
  readonly backend: string;
}

/** What the player wants to do (sticky until replaced). */
export interface PlayerIntent {
  dx: number;
  dy: number;
  attack: boolean;
}

/** The events a source emits. */
export interface SourceEvents {
  /** After every state update (one per tick). */
  state: (view: ArenaView) => void;
  recommendations: (recs: Recommendations) => void;
  status: (status: ConnectionStatus) => void;
  error: (error: { code: string; message: string }) => void;
}

/** An arena the game plays in. */
export interface ArenaSource {
  readonly mode: 'online' | 'offline';
  /** The own player's id. */
  readonly playerId: string;
  readonly status: ConnectionStatus;
  /** The current state, or null before the first one. */
  view(): ArenaView | null;
  /** How the page computes decisions and recommendations; null when the server does (online). */
  inference(): InferenceSummary | null;
  setIntent(intent: PlayerIntent): void;
  takeQuest(questId: string): void;
  /** Gives up the active quest. */
  abandonQuest(): void;
  /** Lets the model or the scripted expert guard decide the guards (the whole arena's). */
  setGuardMode(mode: 'model' | 'scripted'): void;
  requestRecommendations(): void;
  on<E extends keyof SourceEvents>(event: E, listener: SourceEvents[E]): void;
  close(): Promise<void>;
}

/** A tiny typed event emitter for sources. */
export class SourceEmitter {
  private readonly listeners: { [E in keyof SourceEvents]: SourceEvents[E][] } = {
    state: [],
    recommendations: [],
    status: [],
    error: [],
  };

  on<E extends keyof SourceEvents>(event: E, listener: SourceEvents[E]): void {
    this.listeners[event].push(listener);
  }

  emit<E extends keyof SourceEvents>(event: E, ...args: Parameters<SourceEvents[E]>): void {
    for (const l of this.listeners[event]) (l as (...a: Parameters<SourceEvents[E]>) => void)(...args);
  }
}
