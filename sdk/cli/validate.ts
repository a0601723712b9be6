/**
 * `playmind validate <dir>`: checks a model folder — its manifest against the schema,
 * and every version's model file against the manifest (onnxruntime accepts it, the
 * inputs and outputs match, a warm-up batch runs) — and lists every problem found.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseManifest, type Manifest } from '../contract/manifest.js';
import { nodeBackend } from '../engine/backend-node.js';
import { PlaymindError } from '../protocol.js';
import { FsModelSource } from '../repository/fs-source.js';
import { ModelRepository, silentLogger } from '../repository/model-repository.js';
import type { ModelSource } from '../repository/model-source.js';

/** The result of a validation. */
export interface ValidationReport {
  dir: string;
  problems: string[];
  versions: { version: number; ok: boolean; sha256?: string }[];
}

/** Validates one model folder. */
export async function validateModelDir(dirArg: string): Promise<ValidationReport> {
  const dir = resolve(dirArg);
  const name = basename(dir);
  const problems: string[] = [];
  let manifest: Manifest | null = null;
  try {
    manifest = parseManifest(await readFile(join(dir, 'manifest.json'), 'utf8'), join(dir, 'manifest.json'));
    if (manifest.name !== name)
      problems.push(`${join(dir, 'manifest.json')}: name "${manifest.name}" does not match its folder "${name}"`);
  } catch (err) {
    if (err instanceof PlaymindError && Array.isArray(err.details.problems)) {
      for (const p of err.details.problems as string[]) problems.push(`${join(dir, 'manifest.json')}: ${p}`);
    } else problems.push(err instanceof Error ? err.message : String(err));
  }
  const versions = (await readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory() && /^[1-9]\d*$/.test(e.name))
    .map((e) => Number(e.name))
    .sort((a, b) => a - b);
  if (versions.length === 0) problems.push(`${dir}: no version folder (expected ${name}/1/model.onnx)`);
  const out: ValidationReport['versions'] = [];
  if (manifest) {
    // Load each version on its own, through the same code the server uses.
    const fs = new FsModelSource(dirname(dir));
    for (const v of versions) {
      const pinned: ModelSource = {
        location: fs.location,
        listModels: async () => [name],
        listVersions: async () => [v],
        readManifest: async () => ({
          data: JSON.stringify({ ...manifest, version: v }),
          location: join(dir, 'manifest.json'),
        }),
        readModel: (n, ver) => fs.readModel(n, ver),
        modelLocation: (n, ver) => fs.modelLocation(n, ver),
      };
      const repo = new ModelRepository({ source: pinned, backend: nodeBackend(), logger: silentLogger });
      try {
        const loaded = await repo.reload(name);
        out.push({ version: v, ok: true, sha256: loaded.sha256 });
      } catch (err) {
        problems.push((err as Error).message);
        out.push({ version: v, ok: false });
      } finally {
        await repo.close();
      }
    }
  }
  return { dir, problems, versions: out };
}
