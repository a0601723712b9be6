/**
 * The arena's quests: the quest-recs catalogue (ids like `q-forest-1`, with
 * titles and tags) mapped onto quests the simulation can count, and each
 * player's recommendations from the quest-recs model.
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
import type { RecommenderManifest } from '../../sdk/contract/manifest.js';
import type { InferenceEngine } from '../../sdk/engine/inference-engine.js';
import { recommendByPopularity, runRecommender, type RecommenderVersion } from '../../sdk/engine/recommender.js';
import type { ModelRepository } from '../../sdk/repository/model-repository.js';
import { ErrorCode, PlaymindError, toPlaymindError } from '../../sdk/protocol.js';
import { DEFAULT_QUESTS, type QuestKind, type QuestSpec } from '../sim/index.js';

/** A quest of the room: what the simulation counts plus what players read. */
export interface ArenaQuest extends QuestSpec {
  readonly title: string;
  readonly tags: readonly string[];
}

/** One catalogue item (the quest-recs manifest's `recommender.catalogue` entry). */
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

/** The sim's own quests as room quests (when no quest-recs catalogue is loaded). */
export const DEFAULT_ARENA_QUESTS: readonly ArenaQuest[] = DEFAULT_QUESTS.map((q) => ({ ...q, title: q.id, tags: [] }));

/**
 * The room's quests: the quest-recs catalogue when the repository knows the
 * model, else the simulation's default quests.
 */
export function roomQuests(repository: ModelRepository, model = 'quest-recs'): readonly ArenaQuest[] {
  const m = repository.manifest(model);
  if (m?.kind !== 'recommender') return DEFAULT_ARENA_QUESTS;
  return m.recommender.catalogue.map(questFromCatalogue);
}

/** What a player receives in a `recommendations` message. */
export interface RecommendationsMessage {
  /** The player these are for (the receiver's own id). */
  player: string;
  items: { id: string; title: string; kind: QuestKind; score: number }[];
  /** `quest-recs@<version>`, `quest-recs@popularity` (cold start) or `quest-recs@unavailable` (room order). */
  model: string;
  coldStart: boolean;
}

/** A player's quest history, as the recommender reads it. */
export interface QuestHistory {
  /** Quests taken (finished or not), oldest first, without repeats. */
  readonly taken: readonly string[];
  /** Quests finished. */
  readonly finished: readonly string[];
}

/**
 * Recommends quests to one player with the quest-recs model (history = the
 * quests the player took or finished; finished ones are excluded). When the
 * model is unavailable, answers from catalogue popularity (or the room's order).
 *
 * @returns the message to send to that player only, and whether a fallback answered
 */
export async function recommendQuests(
  repository: ModelRepository,
  engine: InferenceEngine,
  quests: ReadonlyMap<string, ArenaQuest>,
  player: string,
  history: QuestHistory,
  options: { model?: string; k?: number; deadlineMs?: number } = {},
): Promise<{ message: RecommendationsMessage; fallback: boolean }> {
  const model = options.model ?? 'quest-recs';
  const k = options.k ?? 5;
  const req = {
    history: [...history.taken],
    exclude: [...history.finished],
    k: k + history.finished.length,
    deadlineMs: options.deadlineMs ?? 250,
  };
  const shape = (items: { id: string; score: number }[], name: string, coldStart: boolean): RecommendationsMessage => ({
    player,
    items: items
      .filter((it) => quests.has(it.id))
      .slice(0, k)
      .map((it) => {
        const q = quests.get(it.id)!;
        return { id: q.id, title: q.title, kind: q.kind, score: Number.isFinite(it.score) ? it.score : 0 };
      }),
    model: name,
    coldStart,
  });
  try {
    const rec = await repository.use(model, (v) => {
      if (v.manifest.kind !== 'recommender')
        throw new PlaymindError(ErrorCode.WRONG_KIND, `model "${model}" is a ${v.manifest.kind}, not a recommender`, {
          details: { model },
        });
      return runRecommender(engine, v as RecommenderVersion, req);
    });
    return { message: shape(rec.items, rec.model, rec.coldStart), fallback: false };
  } catch (err) {
    const e = toPlaymindError(err);
    if (e.code !== ErrorCode.UNKNOWN_MODEL && e.code !== ErrorCode.MODEL_UNAVAILABLE && e.code !== ErrorCode.WRONG_KIND)
      throw e;
    const m = repository.manifest(model);
    if (m?.kind === 'recommender') {
      const rec = recommendByPopularity(m as RecommenderManifest, req, `${model}@popularity`, 'fallback');
      return { message: shape(rec.items, rec.model, true), fallback: true };
    }
    const done = new Set(history.finished);
    const items = [...quests.values()]
      .filter((q) => !done.has(q.id))
      .map((q, i, all) => ({ id: q.id, score: all.length - i }));
    return { message: shape(items, `${model}@unavailable`, true), fallback: true };
  }
}
