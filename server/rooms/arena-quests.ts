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
import { recommenderContract, type Brain, type RecommenderManifest } from '../../sdk/public.js';
import type { RecommendationsMessage } from '../../sdk/runtime.js';
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
 * The room's quests: the quest-recs catalogue when the brain's repository knows the
 * model, else the simulation's default quests.
 */
export function roomQuests(brain: Brain, model = 'quest-recs'): readonly ArenaQuest[] {
  const m = brain.repository?.manifest(model);
  if (m?.kind !== 'recommender') return DEFAULT_ARENA_QUESTS;
  return m.recommender.catalogue.map(questFromCatalogue);
}

/** What a player receives in a `recommendations` message (its schema: `RecommendationsMessageSchema`). */
export type { RecommendationsMessage };

/** A player's quest history, as the recommender reads it. */
export interface QuestHistory {
  /** Quests taken (finished or not), oldest first, without repeats. */
  readonly taken: readonly string[];
  /** Quests finished. */
  readonly finished: readonly string[];
}

/** The room's quests as the catalogue a recommender must cover (room order = popularity), once per room. */
const contracts = new WeakMap<ReadonlyMap<string, ArenaQuest>, Map<string, RecommenderManifest>>();
function questContract(model: string, quests: ReadonlyMap<string, ArenaQuest>): RecommenderManifest {
  let byModel = contracts.get(quests);
  if (!byModel) contracts.set(quests, (byModel = new Map()));
  let c = byModel.get(model);
  if (!c) {
    c = recommenderContract({
      name: model,
      catalogue: [...quests.values()].map((q) => ({ id: q.id, title: q.title })),
    });
    byModel.set(model, c);
  }
  return c;
}

/**
 * Recommends quests to one player with the quest-recs model (history = the
 * quests the player took or finished; finished ones are excluded), through the
 * brain: when the model cannot answer, or is missing, the SDK's fallback rule
 * answers from popularity (the model's catalogue, else the room's order).
 *
 * @returns the message to send to that player only, and whether a fallback answered
 */
export async function recommendQuests(
  brain: Brain,
  quests: ReadonlyMap<string, ArenaQuest>,
  player: string,
  history: QuestHistory,
  options: { model?: string; k?: number; deadlineMs?: number } = {},
): Promise<{ message: RecommendationsMessage; fallback: boolean }> {
  const model = options.model ?? 'quest-recs';
  const k = options.k ?? 5;
  const rec = await brain.recommender(model, { contract: questContract(model, quests) }).recommend({
    history: [...history.taken],
    exclude: [...history.finished],
    k: k + history.finished.length,
    deadlineMs: options.deadlineMs ?? 250,
  });
  const message: RecommendationsMessage = {
    player,
    items: rec.items
      .filter((it) => quests.has(it.id))
      .slice(0, k)
      .map((it) => {
        const q = quests.get(it.id)!;
        return { id: q.id, title: q.title, kind: q.kind, score: Number.isFinite(it.score) ? it.score : 0 };
      }),
    model: rec.model,
    coldStart: rec.coldStart || rec.servedBy === 'fallback',
  };
  return { message, fallback: rec.servedBy === 'fallback' };
}
