/**
 * Arena configuration and its defaults.
 *
 * @module
 */
import type { QuestSpec } from './types.js';

/** Tuning of the players. */
export interface PlayerTuning {
  radius: number;
  speed: number;
  maxHealth: number;
  attackRange: number;
  attackDamage: number;
  attackCooldown: number;
  respawnTicks: number;
}

/** Tuning of the guards. */
export interface GuardTuning {
  radius: number;
  speed: number;
  maxHealth: number;
  attackRange: number;
  attackDamage: number;
  attackCooldown: number;
  respawnTicks: number;
  /** Players farther than this (or behind an obstacle) are not seen. */
  sightRange: number;
  /** How long a guard remembers where it last saw its target. */
  memoryTicks: number;
  /** Radius in which other guards count as nearby allies. */
  allyRadius: number;
  /** Radius of the zone around the post that the guard protects. */
  zoneRadius: number;
  /** Radius of the patrol loop around the post. */
  patrolRadius: number;
  /** Health regained per tick while no player is in sight. */
  regenPerTick: number;
  /** Length at which obstacle rays saturate. */
  rayLength: number;
}

/** Tuning of the collectibles. */
export interface CollectibleTuning {
  radius: number;
  value: number;
  respawnTicks: number;
  /** Share of collectibles spawned inside a guard zone (the rest anywhere). */
  zoneShare: number;
}

/** Full arena configuration. */
export interface ArenaConfig {
  /** World width. @default 800 */
  width: number;
  /** World height. @default 600 */
  height: number;
  /** Simulation ticks per second. @default 20 */
  tickRate: number;
  /** Episode length used by `runEpisode`. @default 1200 (one minute) */
  episodeTicks: number;
  /** @default 9 */
  obstacleCount: number;
  /** @default 6 */
  guardCount: number;
  /** Guards are split round-robin into this many teams; allies share a team. @default 1 */
  guardTeams: number;
  /** Players created with the arena (more can join with `addPlayer`). @default 3 */
  playerCount: number;
  /** Collectibles alive at once. @default 8 */
  collectibleCount: number;
  player: PlayerTuning;
  guard: GuardTuning;
  collectible: CollectibleTuning;
  /** Score a player earns for downing a guard. @default 1 */
  guardDownScore: number;
  /** Guards win an episode when the players' total score stays below this. */
  winScore: number;
  /** Quests players may take by id (`Arena.takeQuest`). */
  quests: readonly QuestSpec[];
}

/** A partial configuration: any field (and any field of the nested tunings) may be omitted. */
export type ArenaConfigInput = {
  [K in keyof ArenaConfig]?: ArenaConfig[K] extends readonly unknown[]
    ? ArenaConfig[K]
    : ArenaConfig[K] extends object
      ? Partial<ArenaConfig[K]>
      : ArenaConfig[K];
};

/** The quests available when the configuration names none. */
export const DEFAULT_QUESTS: readonly QuestSpec[] = Object.freeze([
  { id: 'collect-3', kind: 'collect', goal: 3, reward: 3 },
  { id: 'defeat-1', kind: 'defeat', goal: 1, reward: 3 },
  { id: 'visit-shrine', kind: 'visit', goal: 1, reward: 2 },
] satisfies QuestSpec[]);

/** The default arena: 800 × 600, 20 Hz, 6 guards, 3 players, one-minute episodes. */
export const DEFAULT_ARENA_CONFIG: Readonly<ArenaConfig> = Object.freeze({
  width: 800,
  height: 600,
  tickRate: 20,
  episodeTicks: 1200,
  obstacleCount: 9,
  guardCount: 6,
  guardTeams: 1,
  playerCount: 3,
  collectibleCount: 8,
  player: {
    radius: 10,
    speed: 3.2,
    maxHealth: 100,
    attackRange: 40,
    attackDamage: 10,
    attackCooldown: 8,
    respawnTicks: 100,
  },
  guard: {
    radius: 11,
    speed: 2.8,
    maxHealth: 100,
    attackRange: 36,
    attackDamage: 15,
    attackCooldown: 12,
    respawnTicks: 160,
    sightRange: 220,
    memoryTicks: 60,
    allyRadius: 160,
    zoneRadius: 140,
    patrolRadius: 70,
    regenPerTick: 0.25,
    rayLength: 160,
  },
  collectible: {
    radius: 8,
    value: 1,
    respawnTicks: 60,
    zoneShare: 0.6,
  },
  guardDownScore: 1,
  winScore: 20,
  quests: DEFAULT_QUESTS,
});

function positive(name: string, v: number, integer: boolean, allowZero = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`'${name}' must be a finite number`);
  if (integer && !Number.isInteger(v)) throw new RangeError(`'${name}' must be an integer, got ${v}`);
  if (allowZero ? v < 0 : v <= 0) throw new RangeError(`'${name}' must be ${allowZero ? '>= 0' : '> 0'}, got ${v}`);
}

/**
 * Fills a partial configuration from {@link DEFAULT_ARENA_CONFIG} and checks it.
 *
 * @param input - fields to override @default {}
 * @returns a complete, frozen configuration
 * @throws TypeError / RangeError naming the first bad field
 * @example
 * const cfg = resolveArenaConfig({ guardCount: 4, guard: { speed: 3 } });
 */
export function resolveArenaConfig(input: ArenaConfigInput = {}): Readonly<ArenaConfig> {
  if (typeof input !== 'object' || input === null) throw new TypeError(`'config' must be an object`);
  const d = DEFAULT_ARENA_CONFIG;
  const cfg: ArenaConfig = {
    ...d,
    ...(input as Partial<ArenaConfig>),
    player: { ...d.player, ...input.player },
    guard: { ...d.guard, ...input.guard },
    collectible: { ...d.collectible, ...input.collectible },
    quests: input.quests ?? d.quests,
  };
  positive('width', cfg.width, false);
  positive('height', cfg.height, false);
  positive('tickRate', cfg.tickRate, false);
  positive('episodeTicks', cfg.episodeTicks, true);
  positive('obstacleCount', cfg.obstacleCount, true, true);
  positive('guardCount', cfg.guardCount, true);
  positive('guardTeams', cfg.guardTeams, true);
  positive('playerCount', cfg.playerCount, true, true);
  positive('collectibleCount', cfg.collectibleCount, true, true);
  positive('winScore', cfg.winScore, false, true);
  for (const [k, v] of Object.entries(cfg.player)) positive(`player.${k}`, v, false, k === 'respawnTicks');
  for (const [k, v] of Object.entries(cfg.guard))
    positive(`guard.${k}`, v, false, k === 'regenPerTick' || k === 'respawnTicks');
  for (const [k, v] of Object.entries(cfg.collectible)) positive(`collectible.${k}`, v, false, k !== 'radius');
  const ids = new Set<string>();
  for (const q of cfg.quests) {
    if (ids.has(q.id)) throw new RangeError(`'quests' has a duplicate id '${q.id}'`);
    ids.add(q.id);
  }
  return Object.freeze(cfg);
}
