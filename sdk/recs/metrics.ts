/**
 * Ranking metrics for leave-one-out evaluation, with ties resolved in expectation:
 * a held-out item tied with t other items is placed uniformly among the tied
 * positions, so a model that outputs constant scores earns chance level, not a
 * lucky first place.
 */

/** Hit (recall with one relevant item) and NDCG at k for one ranking. */
export interface RankScore {
  recall: number;
  ndcg: number;
}

/**
 * Scores the rank of `target` among the candidates of `scores`.
 * @param scores - one score per item
 * @param target - the held-out item
 * @param excluded - items not ranked (already seen); `excluded[target]` must be false
 * @param k - cut-off
 */
export function rankScore(scores: ArrayLike<number>, target: number, excluded: Uint8Array, k: number): RankScore {
  const s = scores[target]!;
  let greater = 0;
  let ties = 0;
  for (let i = 0; i < scores.length; i++) {
    if (excluded[i] || i === target) continue;
    const v = scores[i]!;
    if (v > s) greater++;
    else if (v === s) ties++;
  }
  if (Number.isNaN(s)) return { recall: 0, ndcg: 0 };
  let recall = 0;
  let ndcg = 0;
  for (let pos = greater; pos <= greater + ties && pos < k; pos++) {
    recall += 1;
    ndcg += 1 / Math.log2(pos + 2);
  }
  return { recall: recall / (ties + 1), ndcg: ndcg / (ties + 1) };
}

/** Accumulates per-user scores into means. */
export class MetricMean {
  private r = 0;
  private g = 0;
  private n = 0;

  add(s: RankScore): void {
    this.r += s.recall;
    this.g += s.ndcg;
    this.n++;
  }

  get users(): number {
    return this.n;
  }

  result(): RankScore {
    return this.n === 0 ? { recall: 0, ndcg: 0 } : { recall: this.r / this.n, ndcg: this.g / this.n };
  }
}
