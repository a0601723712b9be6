/**
 * Runs a recommender version: the player's history becomes a multi-hot (or
 * weighted) row over the catalogue; scores come back; excluded items are dropped
 * and the top k returned. No history (or none the catalogue knows) is a cold
 * start, answered by popularity.
 */
import type { RecommenderManifest } from '../contract/manifest.js';
import { ErrorCode, PlaymindError } from '../protocol.js';
import { RecommendFieldsSchema, parseMessage } from '../protocol/schemas.js';
import type { InferenceEngine, RunnableVersion } from './inference-engine.js';

/** A recommendation request. */
export interface RecommendRequest {
  /** Item ids the player interacted with (unknown ids are ignored and reported). */
  history: readonly string[];
  /** Weights per history item (e.g. hours played), for `weighted` models. @default 1 each */
  weights?: readonly number[];
  /** How many items to return. @default 10 */
  k?: number;
  /** Item ids never to return (e.g. quests already done). */
  exclude?: readonly string[];
  deadlineMs?: number;
}

/** A recommendation. */
export interface Recommendation {
  items: { id: string; score: number; title?: string; tags?: string[] }[];
  /** `name@version`, or `name@popularity` for a cold start. */
  model: string;
  servedBy: 'local' | 'remote' | 'fallback';
  /** True when the answer came from popularity because the history told nothing. */
  coldStart: boolean;
  /** History ids the catalogue does not know (ignored). */
  unknownItems: string[];
}

/** A recommender version as the runner needs it. */
export interface RecommenderVersion extends RunnableVersion {
  readonly manifest: RecommenderManifest;
}

/**
 * Checks a request's arguments (the public API calls this before routing), with the
 * protocol's schema of a recommendation request.
 * @throws PlaymindError `invalid_argument` naming the field
 */
export function checkRecommendRequest(model: string, req: RecommendRequest): void {
  parseMessage(RecommendFieldsSchema, model, req, ErrorCode.INVALID_ARGUMENT);
  if (req.weights && req.weights.length !== req.history.length)
    throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `${model}: 'weights' must have one number per history item`, {
      details: { model },
    });
}

/** Answers from popularity alone (cold start, or the fallback route). */
export function recommendByPopularity(
  m: RecommenderManifest,
  req: RecommendRequest,
  model: string,
  servedBy: Recommendation['servedBy'],
): Recommendation {
  const known = new Set(m.recommender.catalogue.map((c) => c.id));
  const scores = Float32Array.from(
    m.recommender.catalogue,
    (c, i) => c.popularity ?? m.recommender.catalogue.length - i,
  );
  return topK(
    m,
    scores,
    req,
    model,
    servedBy,
    true,
    req.history.filter((h) => !known.has(h)),
  );
}

/** Runs a recommendation on one version. */
export async function runRecommender(
  engine: InferenceEngine,
  version: RecommenderVersion,
  req: RecommendRequest,
): Promise<Recommendation> {
  const m = version.manifest;
  const cat = m.recommender.catalogue;
  const index = catalogueIndex(m);
  const row = new Float32Array(cat.length);
  const unknown: string[] = [];
  req.history.forEach((id, i) => {
    const j = index.get(id);
    if (j === undefined) unknown.push(id);
    else row[j] = m.recommender.history === 'weighted' ? (row[j] ?? 0) + (req.weights?.[i] ?? 1) : 1;
  });
  if (unknown.length === req.history.length)
    return { ...recommendByPopularity(m, req, `${m.name}@popularity`, 'local'), unknownItems: unknown };
  const spec = m.inputs.find((s) => s.name === m.recommender.input)!;
  const { outputs, servedBy } = await engine.run(
    version,
    { [spec.name]: { type: 'float32', data: row, dims: [1, cat.length] } },
    { deadlineMs: req.deadlineMs, fetches: [m.recommender.output] },
  );
  const scores = outputs[m.recommender.output]!.data as Float32Array;
  return topK(m, scores, req, servedBy, 'local', false, unknown);
}

const indexCache = new WeakMap<RecommenderManifest, Map<string, number>>();
function catalogueIndex(m: RecommenderManifest): Map<string, number> {
  let idx = indexCache.get(m);
  if (!idx) {
    idx = new Map(m.recommender.catalogue.map((c, i) => [c.id, i]));
    indexCache.set(m, idx);
  }
  return idx;
}

function topK(
  m: RecommenderManifest,
  scores: Float32Array,
  req: RecommendRequest,
  model: string,
  servedBy: Recommendation['servedBy'],
  coldStart: boolean,
  unknownItems: string[],
): Recommendation {
  const k = req.k ?? 10;
  const excluded = new Set([...(req.exclude ?? [])]);
  const cat = m.recommender.catalogue;
  const order: number[] = [];
  for (let i = 0; i < cat.length; i++) if (!excluded.has(cat[i]!.id)) order.push(i);
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const items = order.slice(0, k).map((i) => {
    const c = cat[i]!;
    return { id: c.id, score: scores[i]!, ...(c.title ? { title: c.title } : {}), ...(c.tags ? { tags: c.tags } : {}) };
  });
  return { items, model, servedBy, coldStart, unknownItems };
}
