/**
 * Writes a model folder's `index.json`, so the folder can be served to a browser as
 * plain static files. Node only.
 *
 * @module
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FsModelSource } from './fs-source.js';
import { buildModelIndex, MODEL_INDEX_FILE, type ModelIndex } from './model-index.js';

/** What {@link writeModelIndex} did. */
export interface WrittenIndex {
  /** The file written. */
  file: string;
  index: ModelIndex;
  /** Whether the file changed. */
  changed: boolean;
}

/**
 * Writes `<dir>/index.json` listing every model folder in `dir` and its versions
 * (atomically: a browser never reads half a file).
 * @param dir - the model repository folder
 * @example await writeModelIndex('public/models');
 */
export async function writeModelIndex(dir: string): Promise<WrittenIndex> {
  const source = new FsModelSource(dir);
  const index = await buildModelIndex(source);
  const file = join(source.location, MODEL_INDEX_FILE);
  const text = `${JSON.stringify(index, null, 2)}\n`;
  const before = await readFile(file, 'utf8').catch(() => null);
  if (before === text) return { file, index, changed: false };
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
  return { file, index, changed: true };
}

/** One line saying what {@link writeModelIndex} did, e.g. `wrote models/index.json: npc-guard (1), quest-recs (1)`. */
export function describeWrittenIndex(r: WrittenIndex): string {
  const models = r.index.models.map((m) => `${m.name} (${m.versions.join(', ') || 'no versions'})`).join(', ');
  return `${r.changed ? 'wrote' : 'kept'} ${r.file}: ${models || 'no models'}`;
}
