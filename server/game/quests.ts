/**
 * The arena's quests: the quest-recs catalogue (ids like `q-forest-1`, with
 * titles and tags) mapped onto quests the simulation can count, and how a
 * recommender's answer is shaped into what a player is shown.
 *
 * Mapping by tag (first match wins):
 *
 * | tags                          | kind      | goal                 | reward        |
 * |-------------------------------|-----------|----------------------|---------------|
 * | `boss`                        | `defeat`  | 2 guards             | 6             |
 * | `combat`, `stealth`           | `defeat`  | 1 guard              | 3             |
 * | `collection`, `crafting`      | `collect` | 3 (crafting: 4) items| one per item  |
 * | anything else (`exploration`, `escort`, `puzzle`, `story`, `social`) | `visit` | a shrine | 2 |
 *
 * @module
 */
import { DEFAULT_QUESTS, type QuestKind, type QuestSpec } from '../sim/index.js';

/** A quest of the arena: what the simulation counts plus what players read. */
export interface ArenaQuest extends QuestSpec {
  readonly title: string;
  readonly tags: readonly string[];
}

/** One catalogue item (a recommender manifest's `recommender.catalogue` entry). */
export interface CatalogueItem {
  readonly id: string;
  readonly title?: string;
  readonly tags?: readonly string[];
}

/**
 * Maps a catalogue quest onto a quest the arena can count.
 *
 * @param item - a catalogue entry
 * @returns the quest spec (see the module table)
 * @example questFromCatalogue({ id: 'q-forest-1', tags: ['combat'] }) // → defeat 1, reward 3
 */
export function questFromCatalogue(item: CatalogueItem): ArenaQuest {
  const tags = item.tags ?? [];
  const has = (t: string) => tags.includes(t);
  let kind: QuestKind;
  let goal: number;
  let reward: number;
  if (has('boss')) [kind, goal, reward] = ['defeat', 2, 6];
  else if (has('combat') || has('stealth')) [kind, goal, reward] = ['defeat', 1, 3];
  else if (has('collection') || has('crafting')) {
    kind = 'collect';
    goal = has('crafting') && !has('collection') ? 4 : 3;
    reward = goal;
  } else [kind, goal, reward] = ['visit', 1, 2];
  return { id: item.id, kind, goal, reward, title: item.title ?? item.id, tags: [...tags] };
}

/** The sim's own quests as arena quests (when no quest-recs catalogue is loaded). */
export const DEFAULT_ARENA_QUESTS: readonly ArenaQuest[] = DEFAULT_QUESTS.map((q) => ({ ...q, title: q.id, tags: [] }));

/**
 * The arena's quests for a recommender's catalogue, or the simulation's default
 * quests without one.
 *
 * @param catalogue - the catalogue, or undefined when no recommender is loaded
 */
export function arenaQuests(catalogue: readonly CatalogueItem[] | undefined): readonly ArenaQuest[] {
  return catalogue && catalogue.length > 0 ? catalogue.map(questFromCatalogue) : DEFAULT_ARENA_QUESTS;
}

/** A player's quest history, as the recommender reads it. */
export interface QuestHistory {
  /** Quests taken (finished or not), oldest first, without repeats. */
  readonly taken: readonly string[];
  /** Quests finished. */
  readonly finished: readonly string[];
}

/** What the game asks "recommend quests" for one player. */
export interface QuestRecommendationRequest extends QuestHistory {
  /** The player. */
  readonly player: string;
  /** How many quests the player is shown. */
  readonly count: number;
  /**
   * The recommender request these mean (the SDK's `recommend()` argument): the
   * history is the quests taken, the finished ones are excluded, and `k` leaves
   * room for the excluded ones.
   */
  readonly request: { readonly history: string[]; readonly exclude: string[]; readonly k: number };
}

/** What "recommend quests" answers (the SDK's `Recommendation`, or the server's equivalent). */
export interface QuestRecommendationResult {
  readonly items: readonly { readonly id: string; readonly score: number }[];
  /** e.g. `quest-recs@1`, `quest-recs@popularity`. */
  readonly model: string;
  readonly coldStart: boolean;
  /** `local`, `remote` or `fallback` (the model could not answer). */
  readonly servedBy: string;
}

/**
 * Recommends quests to one player; the game shapes the answer. May reject (the
 * game reports it and the player keeps its last recommendations).
 */
export type RecommendQuests = (request: QuestRecommendationRequest) => Promise<QuestRecommendationResult>;

/** What a player is shown (the `arena` room's `recommendations` message). */
export interface QuestRecommendations {
  /** The player these are for. */
  player: string;
  items: { id: string; title: string; kind: QuestKind; score: number }[];
  /** `quest-recs@<version>`, `quest-recs@popularity` (cold start) or `quest-recs@unavailable` (arena order). */
  model: string;
  coldStart: boolean;
}

/**
 * The recommender request for a player's history.
 *
 * @param player - the player
 * @param history - its quests
 * @param count - quests shown
 */
export function recommendationRequest(
  player: string,
  history: QuestHistory,
  count: number,
): QuestRecommendationRequest {
  return {
    player,
    taken: [...history.taken],
    finished: [...history.finished],
    count,
    request: { history: [...history.taken], exclude: [...history.finished], k: count + history.finished.length },
  };
}

/**
 * Shapes a recommender's answer for a player: only quests of this arena, at most
 * `count`, with titles and kinds; a non-finite score shows as 0.
 */
export function shapeRecommendations(
  quests: ReadonlyMap<string, ArenaQuest>,
  player: string,
  count: number,
  result: Pick<QuestRecommendationResult, 'items' | 'model' | 'coldStart'>,
): QuestRecommendations {
  const items: QuestRecommendations['items'] = [];
  for (const it of result.items) {
    if (items.length >= count) break;
    const q = quests.get(it.id);
    if (!q) continue;
    items.push({ id: q.id, title: q.title, kind: q.kind, score: Number.isFinite(it.score) ? it.score : 0 });
  }
  return { player, items, model: result.model, coldStart: result.coldStart };
}

/**
 * Recommendations when no recommender can answer: the quests not finished, in
 * the arena's order.
 */
export function arenaOrderRecommendations(
  quests: ReadonlyMap<string, ArenaQuest>,
  history: QuestHistory,
  model: string,
): QuestRecommendationResult {
  const done = new Set(history.finished);
  const open = [...quests.values()].filter((q) => !done.has(q.id));
  return {
    items: open.map((q, i) => ({ id: q.id, score: open.length - i })),
    model: `${model}@unavailable`,
    coldStart: true,
    servedBy: 'fallback',
  };
}
