/**
 * The demo's test hook: a plain, JSON-serialisable summary of what the game
 * shows, published on `window.__playmind` after every state update, so an
 * end-to-end test can read the game without scraping pixels.
 *
 * This file has no imports: the e2e test (`test/e2e/demo.test.ts`) imports its
 * types too.
 *
 * @module
 */

/** How the game is connected. */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'offline';

/** A quest the player can take, as recommended by the quest-recs model. */
export interface HookRecommendation {
  id: string;
  title: string;
  kind: string;
  score: number;
  /** The one-line reason the panel shows (absent in what sources emit; the game adds it). */
  reason?: string;
}

/** What `window.__playmind` holds. */
export interface PlaymindHook {
  /** `online`: the server's arena room; `offline`: the simulation runs in the page. */
  mode: 'online' | 'offline';
  status: ConnectionStatus;
  /** Whether the game receives ticks (online: joined; offline: running). */
  connected: boolean;
  /** The last simulation tick received. */
  tick: number;
  /** State updates received so far. */
  updates: number;
  /** The own player, once it is in the state. */
  me: { id: string; x: number; y: number; health: number; alive: boolean; score: number } | null;
  guards: { id: string; x: number; y: number; action: string; model: string; alive: boolean }[];
  /** The most common `model` among the guards (e.g. `npc-guard@1`), '' before the first decision. */
  guardModel: string;
  recommendations: HookRecommendation[];
  /** Who made the recommendations (e.g. `quest-recs@1`). */
  recommendationsModel: string;
  /** The active quest, or null. */
  activeQuest: { id: string; title: string; kind: string; progress: number; goal: number } | null;
  /** Where the active quest must be reached (a `visit` quest, arena units), or null. */
  activeQuestTarget: { x: number; y: number } | null;
  /** The last input sent (`dx`, `dy` in [-1, 1]). */
  input: { dx: number; dy: number; attack: boolean };
  /**
   * Offline mode: how the page computes the guards' decisions and the
   * recommendations (the SDK's browser build); null online (the server does).
   */
  inference: {
    /** `local` (the model, in this page) or `fallback` (the heuristic); '' before the first decision. */
    guardsServedBy: string;
    recommendationsServedBy: string;
    /** Guard decisions applied. */
    decisions: number;
    /** Ticks whose decision was not back in time (the guards kept their last actions). */
    deadlineMisses: number;
    backend: string;
  } | null;
  /** The status message shown above the HUD ('' without one), e.g. why the game went offline. */
  notice: string;
  /** Errors the server sent (`error` messages) and connection failures, newest last. */
  errors: { code: string; message: string }[];
  /** `title` until the player presses Play. */
  screen: 'title' | 'playing';
  /** Who decides for the guards: `server-model`, `server-fallback`, `local-model`, `local-fallback`, `none`. */
  route: string;
  /** The HUD's line for it. */
  routeLabel: string;
  /** The round trip to the server, ms (null offline or before the first answer). */
  ping: number | null;
  /** Ticks per second, measured. */
  tickRate: number;
  /** Ticks whose guard decision came late, and of how many. */
  decisionsLate: { late: number; of: number };
  /** The offline runtime's download. */
  offline: { state: string; loaded: number; total: number };
  /** Page times (`performance.now()`) the connection was found lost and the offline arena took over, or null. */
  lostAt: number | null;
  offlineAt: number | null;
  /** The arena scene's `this.playmind` brain (playmind/phaser, made on first use for offline mode). */
  sceneBrain: 'ready' | 'none';
  /** Switches to offline mode after a lost connection, and back online. */
  switches: { offline: number; online: number };
  /** Feedback shown so far, by kind (`hit`, `hurt`, `kill`, `pickup`, `quest`, `down`, `respawn`). */
  feedback: Record<string, number>;
  /** Sounds played so far, by name. */
  sounds: Record<string, number>;
  /** Whether an audio context runs (false without a device, or muted). */
  audio: boolean;
  /** The own prediction's corrections (the server disagreed with a step), snaps and restarts from the server. */
  prediction: { corrections: number; snaps: number; restarts: number };
  /** The respawn countdown or end-of-round banner ('' without one). */
  banner: string;
  /** Every player in the arena (the own one too). */
  players: { id: string; name: string; kind: string; x: number; y: number; alive: boolean; score: number }[];
  /** The guard inspector: the selected guard's target, probabilities and the expert's choice, or null. */
  inspector: InspectorInfo | null;
  /** The round and its standings (best first), or null without rounds. */
  round: RoundInfo | null;
  /** The last round end the page showed, or null. */
  lastRoundEnd: { round: number; winner: string; text: string } | null;
  /** Round ends the page has seen. */
  roundsEnded: number;
  /** `model` or `scripted` ('' when the arena does not say). */
  guardMode: string;
  /** The arena's size and obstacles (static), null before the first state. */
  world: { width: number; height: number; obstacles: { x: number; y: number; w: number; h: number }[] } | null;
}

/** What the guard inspector shows (`guard-inspector.ts`). */
export interface InspectorInfo {
  id: string;
  alive: boolean;
  action: string;
  model: string;
  servedBy: string;
  decisionTick: number;
  /** The target's display name ('' for none). */
  target: string;
  sees: boolean;
  /** Probability per action, or null when the decider gave none (a heuristic). */
  probabilities: Record<string, number> | null;
  /** The expert's action ('' when unknown). */
  expert: string;
}

/** A row of the scoreboard. */
export interface ScoreRow {
  id: string;
  name: string;
  kind: string;
  score: number;
  mine: boolean;
}

/** What the round section shows (`scoreboard.ts`). */
export interface RoundInfo {
  round: number;
  secondsLeft: number;
  goal: number;
  teamScore: number;
  /** Best first. */
  rows: ScoreRow[];
}

/** A frame the scene recorded: page time and where each player was drawn. */
export interface RecordedFrame {
  t: number;
  players: Record<string, [number, number]>;
}

declare global {
  interface Window {
    __playmind?: PlaymindHook;
    /** Frames still to record (tests set it); the scene counts it down. */
    __playmindRecord?: number;
    /** What the scene recorded. */
    __playmindFrames?: RecordedFrame[];
  }
}
