/**
 * The room's quests and each player's recommendations from the quest-recs model,
 * through the server's brain. The catalogue-to-quest mapping and the shaping of
 * recommendations are the arena game's (`server/game/quests.ts`).
 *
 * @module
 */
import { recommenderContract, type Brain, type RecommenderManifest } from '../../sdk/public.js';
import type { RecommendationsMessage } from '../../sdk/runtime.js';
import { arenaQuests, shapeRecommendations, type ArenaQuest, type QuestHistory } from '../game/index.js';

export {
  DEFAULT_ARENA_QUESTS,
  questFromCatalogue,
  type ArenaQuest,
  type CatalogueItem,
  type QuestHistory,
} from '../game/index.js';

/**
 * The room's quests: the quest-recs catalogue when the brain's repository knows the
 * model, else the simulation's default quests.
 */
export function roomQuests(brain: Brain, model = 'quest-recs'): readonly ArenaQuest[] {
  const m = brain.repository?.manifest(model);
  return arenaQuests(m?.kind === 'recommender' ? m.recommender.catalogue : undefined);
}

/** What a player receives in a `recommendations` message (its schema: `RecommendationsMessageSchema`). */
export type { RecommendationsMessage };

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
    ...shapeRecommendations(quests, player, k, rec),
    coldStart: rec.coldStart || rec.servedBy === 'fallback',
  };
  return { message, fallback: rec.servedBy === 'fallback' };
}
