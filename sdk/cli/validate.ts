/**
 * `playmind validate <dir>`: checks a model folder — its manifest against the schema
 * (unknown keys included), the heuristic it names, and every version's model file
 * against the manifest (onnxruntime accepts it, the inputs and outputs match, a warm-up
 * batch runs) — and lists every problem found, once. Given a repository (a folder of
 * model folders), it checks each model and the repository's `index.json`.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ManifestSchema, parseManifest, type Manifest } from '../contract/manifest.js';
import { nodeBackend } from '../engine/backend-node.js';
import { GUARD_OBSERVATION_FEATURES } from '../heuristics/expert-guard.js';
import { describeMissingHeuristic, missingHeuristics } from '../heuristics/missing-heuristics.js';
import { ErrorCode, PlaymindError } from '../protocol.js';
import { FsModelSource } from '../repository/fs-source.js';
import { buildModelIndex, MODEL_INDEX_FILE, modelIndexProblem } from '../repository/model-index.js';
import { ModelRepository, silentLogger } from '../repository/model-repository.js';
import type { ModelSource } from '../repository/model-source.js';
import { BUILTIN_HEURISTICS } from '../routes/fallback.js';
import { unknownKeys } from './unknown-keys.js';

/** Options of {@link validateModelDir} and {@link validatePath}. */
export interface ValidateOptions {
  /** Heuristics the game registers besides the builtin ones (`createBrain({ heuristics })`). */
  heuristics?: readonly string[];
}

/** The result of validating one model folder. */
export interface ValidationReport {
  dir: string;
  /** Every problem, once, in the order found. */
  problems: string[];
  versions: { version: number; ok: boolean; sha256?: string }[];
}

/** The result of validating a repository (a folder of model folders). */
export interface RepositoryReport {
  dir: string;
  models: ValidationReport[];
  /** The state of `<dir>/index.json`, the listing a browser reads. */
  index: 'up to date' | 'missing' | 'stale' | 'invalid';
  /** Problems of the repository itself (a stale or invalid index.json). */
  problems: string[];
}

/**
 * Validates a model folder, or every model of a repository folder.
 * @throws PlaymindError `models_not_found` when `path` is not a folder, or holds neither a manifest nor model folders
 */
export async function validatePath(
  path: string,
  options: ValidateOptions = {},
): Promise<{ kind: 'model'; report: ValidationReport } | { kind: 'repository'; report: RepositoryReport }> {
  const dir = resolve(path);
  const s = await stat(dir).catch(() => null);
  if (!s?.isDirectory())
    throw new PlaymindError(ErrorCode.MODELS_NOT_FOUND, `${dir}: no such folder`, { details: { models: dir } });
  const entries = await readdir(dir);
  const looksLikeModel = entries.includes('manifest.json') || entries.some((e) => /^[1-9]\d*$/.test(e));
  if (looksLikeModel) return { kind: 'model', report: await validateModelDir(dir, options) };
  const names = await new FsModelSource(dir).listModels();
  if (names.length === 0)
    throw new PlaymindError(
      ErrorCode.MODELS_NOT_FOUND,
      `${dir}: neither a model folder (no manifest.json, no version folder) nor a repository (no model folders)`,
      { details: { models: dir } },
    );
  return { kind: 'repository', report: await validateRepository(dir, options) };
}

/** Validates every model folder of a repository and its `index.json`. */
export async function validateRepository(dirArg: string, options: ValidateOptions = {}): Promise<RepositoryReport> {
  const dir = resolve(dirArg);
  const source = new FsModelSource(dir);
  const models: ValidationReport[] = [];
  for (const name of await source.listModels()) models.push(await validateModelDir(join(dir, name), options));
  const indexFile = join(dir, MODEL_INDEX_FILE);
  const problems: string[] = [];
  let index: RepositoryReport['index'] = 'up to date';
  const text = await readFile(indexFile, 'utf8').catch(() => null);
  if (text === null) index = 'missing';
  else {
    let value: unknown;
    let problem: string | null;
    try {
      value = JSON.parse(text);
      problem = modelIndexProblem(value);
    } catch (err) {
      problem = `not valid JSON (${(err as Error).message})`;
    }
    if (problem) {
      index = 'invalid';
      problems.push(`${indexFile}: ${problem}; run "playmind index ${dirArg}" to rewrite it`);
    } else if (JSON.stringify(value) !== JSON.stringify(await buildModelIndex(source))) {
      index = 'stale';
      problems.push(
        `${indexFile}: does not list the models and versions in the folder (a browser would read a wrong list); run "playmind index ${dirArg}"`,
      );
    }
  }
  return { dir, models, index, problems };
}

/** Validates one model folder. */
export async function validateModelDir(dirArg: string, options: ValidateOptions = {}): Promise<ValidationReport> {
  const dir = resolve(dirArg);
  const name = basename(dir);
  const manifestFile = join(dir, 'manifest.json');
  const problems = new Set<string>();
  let manifest: Manifest | null = null;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(manifestFile, 'utf8'));
  } catch (err) {
    problems.add(
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? `${manifestFile}: missing (every model folder needs one; "playmind import" writes it)`
        : `${manifestFile}: not valid JSON (${(err as Error).message})`,
    );
  }
  if (raw !== undefined) {
    for (const key of unknownKeys(ManifestSchema, raw))
      problems.add(`${manifestFile}: ${key}: unknown key (not part of the manifest schema; misspelt?)`);
    try {
      manifest = parseManifest(raw, manifestFile);
    } catch (err) {
      if (err instanceof PlaymindError && Array.isArray(err.details.problems)) {
        for (const p of err.details.problems as string[]) problems.add(`${manifestFile}: ${p}`);
      } else problems.add(err instanceof Error ? err.message : String(err));
    }
  }
  if (manifest) {
    if (manifest.name !== name)
      problems.add(`${manifestFile}: name "${manifest.name}" does not match its folder "${name}"`);
    for (const p of heuristicProblems(manifest, options)) problems.add(`${manifestFile}: ${p}`);
  }
  const versions = (await readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory() && /^[1-9]\d*$/.test(e.name))
    .map((e) => Number(e.name))
    .sort((a, b) => a - b);
  if (versions.length === 0) problems.add(`${dir}: no version folder (expected ${name}/1/model.onnx)`);
  const out: ValidationReport['versions'] = [];
  if (manifest && manifest.name === name) {
    // Load each version on its own, through the same code the server uses.
    const fs = new FsModelSource(dirname(dir));
    for (const v of versions) {
      const pinned: ModelSource = {
        location: fs.location,
        listModels: async () => [name],
        listVersions: async () => [v],
        readManifest: async () => ({ data: JSON.stringify({ ...manifest, version: v }), location: manifestFile }),
        readModel: (n, ver) => fs.readModel(n, ver),
        readVersionFile: (n, ver, path) => fs.readVersionFile(n, ver, path),
        modelLocation: (n, ver) => fs.modelLocation(n, ver),
      };
      const repo = new ModelRepository({ source: pinned, backend: nodeBackend(), logger: silentLogger });
      try {
        const loaded = await repo.reload(name);
        out.push({ version: v, ok: true, sha256: loaded.sha256 });
      } catch (err) {
        problems.add((err as Error).message);
        out.push({ version: v, ok: false });
      } finally {
        await repo.close();
      }
    }
  }
  return { dir, problems: [...problems], versions: out };
}

/** A fallback heuristic nothing provides, or the expert guard on rows it cannot read. */
function heuristicProblems(m: Manifest, options: ValidateOptions): string[] {
  const available = [...Object.keys(BUILTIN_HEURISTICS), ...(options.heuristics ?? [])];
  const problems = missingHeuristics([m], available).map(
    (miss) =>
      `policy.fallback.heuristic: ${describeMissingHeuristic(miss, available)} (or pass --heuristic ${miss.heuristic} if your game does)`,
  );
  if (m.kind === 'policy' && m.policy.fallback?.heuristic === 'expert-guard') {
    const features = m.policy.observation.features.map((f) => f.name);
    const at = GUARD_OBSERVATION_FEATURES.findIndex((f, i) => features[i] !== f);
    if (at >= 0 || features.length !== GUARD_OBSERVATION_FEATURES.length)
      problems.push(
        `policy.fallback.heuristic: "expert-guard" reads rows in npc-guard's feature order (${GUARD_OBSERVATION_FEATURES.join(', ')}); ` +
          `this model's features differ${at >= 0 ? ` at position ${at} ("${features[at] ?? '(none)'}" instead of "${GUARD_OBSERVATION_FEATURES[at]}")` : ` in number (${features.length})`}`,
      );
  }
  return problems;
}
