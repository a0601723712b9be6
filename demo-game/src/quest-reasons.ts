/**
 * A one-line reason for a quest recommendation, for players: from the tags a
 * recommended quest shares with quests the player took or finished ("Because
 * you finished Wolves at the Mill"), else from what the model does — quest-recs
 * is an item–item model over which quests players do together — or from
 * popularity on a cold start. Never a raw score.
 *
 * @module
 */

/** A catalogue entry (the quest-recs manifest's `recommender.catalogue`). */
export interface CatalogueEntry {
  readonly id: string;
  readonly title?: string;
  readonly tags?: readonly string[];
  readonly popularity?: number;
}

/** What the player did, oldest first. */
export interface QuestHistory {
  readonly taken: readonly string[];
  readonly finished: readonly string[];
}

/**
 * The reason shown under a recommended quest.
 *
 * @param questId - the recommended quest
 * @param catalogue - entries by id
 * @param coldStart - the recommendations came from popularity (no history, or no model)
 * @example reasonFor('q-forest-2', cat, { taken: ['q-forest-1'], finished: ['q-forest-1'] }, false)
 * // 'Because you finished Wolves at the Mill (forest)'
 */
export function reasonFor(
  questId: string,
  catalogue: ReadonlyMap<string, CatalogueEntry>,
  history: QuestHistory,
  coldStart: boolean,
): string {
  const item = catalogue.get(questId);
  const tags = new Set(item?.tags ?? []);
  const finished = new Set(history.finished);
  // Most shared tags first; on a tie a finished quest beats a taken one, a recent one an older one.
  let best: { id: string; shared: string[]; finished: boolean; order: number } | null = null;
  const seen = new Set<string>();
  const past = [...history.finished, ...history.taken];
  past.forEach((id, order) => {
    if (id === questId || seen.has(id)) return;
    seen.add(id);
    const shared = (catalogue.get(id)?.tags ?? []).filter((t) => tags.has(t));
    if (shared.length === 0) return;
    const cand = { id, shared, finished: finished.has(id), order };
    if (
      !best ||
      cand.shared.length > best.shared.length ||
      (cand.shared.length === best.shared.length && cand.finished && !best.finished)
    )
      best = cand;
  });
  const pick = best as { id: string; shared: string[]; finished: boolean } | null;
  if (pick) {
    const title = catalogue.get(pick.id)?.title ?? pick.id;
    return `Because you ${pick.finished ? 'finished' : 'took'} ${title} (${pick.shared.slice(0, 2).join(', ')})`;
  }
  const last = past.length > 0 ? catalogue.get(history.taken[history.taken.length - 1] ?? past[0]!) : undefined;
  if (!coldStart && last) return `Players who did ${last.title ?? last.id} often did this one too`;
  const rank = popularityRank(questId, catalogue);
  if (rank !== null && rank <= 5) return 'One of the most played quests';
  if (tags.size > 0) return `A popular ${[...tags][0]} quest to start with`;
  return 'A popular quest to start with';
}

function popularityRank(questId: string, catalogue: ReadonlyMap<string, CatalogueEntry>): number | null {
  const own = catalogue.get(questId)?.popularity;
  if (own === undefined) return null;
  let rank = 1;
  for (const e of catalogue.values()) if ((e.popularity ?? 0) > own) rank++;
  return rank;
}
