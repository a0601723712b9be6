/**
 * Simulated quest-taking telemetry: a seeded population of player personas with
 * hidden tastes (tag and region preferences, skill, activity) who take quests,
 * then finish or abandon them. Written as JSONL in the format the game server
 * appends to:
 *
 * ```
 * {"player":"p-17","quest":"q-forest-1","outcome":"taken","time":"2025-03-01T10:12:00.000Z"}
 * ```
 *
 * Same options, same bytes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Rng } from '../../../sdk/recs/prng.js';
import { QUESTS, QUEST_TAGS, REGIONS, type Quest, type QuestTag } from './quests.js';

/** What happened to a quest. */
export type QuestOutcome = 'taken' | 'finished' | 'abandoned';

/** One telemetry line. */
export interface TelemetryEvent {
  player: string;
  quest: string;
  outcome: QuestOutcome;
  /** ISO-8601, UTC. */
  time: string;
}

/** A simulated player: the hidden tastes behind their telemetry. */
export interface Persona {
  id: string;
  /** Affinity per quest tag (about −1 … 3). */
  tagTaste: Record<QuestTag, number>;
  /** Affinity per region, in {@link REGIONS} order. */
  regionTaste: number[];
  /** 0 … 1; compared with quest difficulty. */
  skill: number;
  /** How many quests the player will take. */
  activity: number;
}

/** Options of {@link simulateTelemetry}. */
export interface TelemetryOptions {
  /** Number of players. @default 3000 */
  players?: number;
  /** @default 1 */
  seed?: number;
  /** First player's id number, so a second population does not reuse ids. @default 1 */
  firstPlayer?: number;
  /** Start of the simulated period. @default '2025-03-01T00:00:00Z' */
  start?: string;
}

/** Archetypes players are mixed from: base taste per tag. */
const ARCHETYPES: Array<Partial<Record<QuestTag, number>>> = [
  { combat: 2, boss: 1.5, stealth: 0.3, puzzle: -1, social: -0.5 }, // warrior
  { exploration: 2, collection: 1, escort: 0.5, boss: -0.5 }, // explorer
  { stealth: 2, puzzle: 1, combat: 0.5, escort: -1 }, // rogue
  { social: 2, escort: 1, story: 1, combat: -1 }, // diplomat
  { puzzle: 2, crafting: 1.2, story: 0.5, combat: -0.5 }, // thinker
  { collection: 2, crafting: 1, exploration: 1, stealth: -0.5 }, // collector
  { story: 2, boss: 0.8, social: 0.5, collection: -0.5 }, // storyteller
];

/**
 * Draws the player population.
 * @param n - number of players
 * @param rng - the random stream
 * @param firstPlayer - id number of the first player
 */
export function generatePersonas(n: number, rng: Rng, firstPlayer = 1): Persona[] {
  const out: Persona[] = [];
  for (let p = 0; p < n; p++) {
    const a = rng.int(ARCHETYPES.length);
    const b = rng.next() < 0.4 ? rng.int(ARCHETYPES.length) : a;
    const mix = b === a ? 1 : 0.5 + 0.3 * rng.next();
    const tagTaste = {} as Record<QuestTag, number>;
    for (const tag of QUEST_TAGS) {
      const ta = ARCHETYPES[a]![tag] ?? 0;
      const tb = ARCHETYPES[b]![tag] ?? 0;
      tagTaste[tag] = mix * ta + (1 - mix) * tb + 0.4 * rng.normal();
    }
    const regionTaste = REGIONS.map(() => 0.6 * rng.normal());
    const skill = Math.min(1, Math.max(0, 0.45 + 0.22 * rng.normal()));
    const activity = Math.min(30, 1 + Math.floor(-Math.log(1 - rng.next()) * 7));
    out.push({ id: `p-${firstPlayer + p}`, tagTaste, regionTaste, skill, activity });
  }
  return out;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function tagAffinity(persona: Persona, quest: Quest): number {
  let s = 0;
  for (const t of quest.tags) s += persona.tagTaste[t];
  return s / Math.sqrt(quest.tags.length);
}

/**
 * Plays one persona through the game: picks available quests by taste (softmax),
 * finishes or abandons them by skill and taste.
 */
function playOne(persona: Persona, rng: Rng, startMs: number): TelemetryEvent[] {
  const events: TelemetryEvent[] = [];
  const taken = new Set<string>();
  const finished = new Set<string>();
  let t = startMs + rng.next() * 60 * 86_400_000;
  let lastRegion = -1;
  const at = (ms: number) => new Date(Math.round(ms / 1000) * 1000).toISOString();
  for (let n = 0; n < persona.activity; n++) {
    const unlocked = Math.floor(finished.size / 1.5) + 2; // regions open as the player progresses
    const candidates: Quest[] = [];
    const weights: number[] = [];
    for (const q of QUESTS) {
      const r = REGIONS.indexOf(q.region);
      if (taken.has(q.id) || r >= unlocked) continue;
      if (q.requires && !finished.has(q.requires)) continue;
      const tooHard = Math.max(0, q.difficulty - persona.skill - 0.2);
      const u =
        tagAffinity(persona, q) +
        persona.regionTaste[r]! +
        (r === lastRegion ? 0.6 : 0) +
        (q.requires ? 0.5 : 0) -
        3 * tooHard;
      candidates.push(q);
      weights.push(Math.exp(u / 0.7));
    }
    if (candidates.length === 0) break;
    const q = candidates[rng.weighted(weights)]!;
    taken.add(q.id);
    lastRegion = REGIONS.indexOf(q.region);
    t += -Math.log(1 - rng.next()) * 8 * 3_600_000;
    events.push({ player: persona.id, quest: q.id, outcome: 'taken', time: at(t) });
    const last = n === persona.activity - 1;
    if (last && rng.next() < 0.25) break; // still playing it when the log was cut
    const pFinish = sigmoid(5 * (persona.skill + 0.2 - q.difficulty) + 0.4 * tagAffinity(persona, q));
    t += (20 + rng.next() * 100) * 60_000;
    if (rng.next() < pFinish) {
      finished.add(q.id);
      events.push({ player: persona.id, quest: q.id, outcome: 'finished', time: at(t) });
    } else {
      events.push({ player: persona.id, quest: q.id, outcome: 'abandoned', time: at(t) });
    }
  }
  return events;
}

/**
 * Simulates the telemetry of a player population, ordered by time as a server
 * would append it.
 * @returns the events (same options, same events)
 * @example simulateTelemetry({ players: 3000, seed: 1 })
 */
export function simulateTelemetry(options: TelemetryOptions = {}): TelemetryEvent[] {
  const { players = 3000, seed = 1, firstPlayer = 1, start = '2025-03-01T00:00:00Z' } = options;
  const rng = new Rng(seed);
  const personas = generatePersonas(players, rng.fork(1), firstPlayer);
  const play = rng.fork(2);
  const startMs = Date.parse(start);
  const events = personas.flatMap((p) => playOne(p, play, startMs));
  // Stable sort by time (ties keep the player's own order).
  return events
    .map((e, i) => ({ e, i }))
    .sort((x, y) => (x.e.time < y.e.time ? -1 : x.e.time > y.e.time ? 1 : x.i - y.i))
    .map((x) => x.e);
}

/** The events as JSONL (one object per line, trailing newline). */
export function toJsonl(events: readonly TelemetryEvent[]): string {
  return (
    events
      .map((e) => JSON.stringify({ player: e.player, quest: e.quest, outcome: e.outcome, time: e.time }))
      .join('\n') + '\n'
  );
}

/** Simulates telemetry and writes it as JSONL to `file` (folders are created). */
export async function writeTelemetry(file: string, options: TelemetryOptions = {}): Promise<TelemetryEvent[]> {
  const events = simulateTelemetry(options);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, toJsonl(events));
  return events;
}
