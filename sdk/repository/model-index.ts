/**
 * The listing of a model repository that a browser reads (`<base>/index.json`):
 * the models and their version folders. A static file server cannot list a folder,
 * so {@link HttpModelSource} reads this file instead; the Playmind server builds it
 * on the fly at `/models/index.json`, and the `playmind` CLI writes it beside the
 * models it creates (`import`, `train-recs`, `index`).
 *
 * @module
 */
import type { ModelSource } from './model-source.js';

/** The name of the listing file at the root of a repository. */
export const MODEL_INDEX_FILE = 'index.json';

/** The listing at `<base>/index.json`. */
export interface ModelIndex {
  models: { name: string; versions: number[] }[];
}

/**
 * Lists a source's models and versions.
 * @param source - a model source (a folder, usually)
 * @returns the listing, models by name, versions ascending
 */
export async function buildModelIndex(source: ModelSource): Promise<ModelIndex> {
  const names = await source.listModels();
  return {
    models: await Promise.all(names.map(async (name) => ({ name, versions: await source.listVersions(name) }))),
  };
}

/**
 * Checks that a value read from `index.json` is a listing.
 * @returns the problem, or null when it is one
 */
export function modelIndexProblem(value: unknown): string | null {
  if (!value || typeof value !== 'object' || !Array.isArray((value as ModelIndex).models))
    return 'expected { "models": [{ "name": ..., "versions": [1, ...] }] }';
  for (const [i, m] of (value as ModelIndex).models.entries()) {
    if (!m || typeof m.name !== 'string' || m.name.length === 0)
      return `models[${i}]: "name" must be a non-empty string`;
    if (!Array.isArray(m.versions) || !m.versions.every((v) => Number.isInteger(v) && v > 0))
      return `models[${i}] ("${m.name}"): "versions" must be positive integers`;
  }
  return null;
}
