/**
 * Which fallback heuristics the manifests name but nothing provides: checked when a
 * brain starts (a warning naming the model and the heuristic) and by
 * `playmind validate` (a problem).
 *
 * @module
 */
import type { Manifest } from '../contract/manifest.js';

/** A model whose manifest names a heuristic nobody registered. */
export interface MissingHeuristic {
  model: string;
  heuristic: string;
}

/**
 * @param manifests - the manifests to check
 * @param available - the names of the heuristics there are
 * @returns one entry per policy whose `policy.fallback.heuristic` is not available
 */
export function missingHeuristics(manifests: Iterable<Manifest>, available: Iterable<string>): MissingHeuristic[] {
  const names = new Set(available);
  const missing: MissingHeuristic[] = [];
  for (const m of manifests) {
    const heuristic = m.kind === 'policy' ? m.policy.fallback?.heuristic : undefined;
    if (heuristic !== undefined && !names.has(heuristic)) missing.push({ model: m.name, heuristic });
  }
  return missing;
}

/** What to tell a developer about a {@link MissingHeuristic}. */
export function describeMissingHeuristic(miss: MissingHeuristic, available: Iterable<string>): string {
  return (
    `model "${miss.model}" names the fallback heuristic "${miss.heuristic}", which nothing provides ` +
    `(available: ${[...available].sort().join(', ') || 'none'}); when the model cannot answer, its calls fail instead ` +
    `of falling back. Register it: createBrain({ heuristics: { '${miss.heuristic}': (row, mask) => actionIndex } })`
  );
}
