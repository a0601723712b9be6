/**
 * `playmind import <file.onnx> [--name N] [--into models/] [--actions JSON|file]`:
 * inspects an ONNX file, recognises ML-Agents and Godot RL Agents exports, writes
 * `<into>/<name>/manifest.json` and `<into>/<name>/<version>/model.onnx` (with the external
 * weight files it references beside it), then loads the result through the repository to
 * prove it serves.
 */
import { mkdir, readFile, writeFile, rm, readdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseGodotActionSpace, type GodotActionSpace, type GodotDecoding } from '../contract/format-godot-rl.js';
import { inspectModel, type Inspection } from '../contract/formats.js';
import { parseManifest } from '../contract/manifest.js';
import { externalDataFiles, isSafeDataLocation } from '../onnx/external-data.js';
import { readGraph, type GraphSummary } from '../onnx/graph-reader.js';
import { nodeBackend } from '../engine/backend-node.js';
import { ErrorCode, PlaymindError } from '../protocol.js';
import { sha256Hex } from '../repository/sha256.js';
import { FsModelSource } from '../repository/fs-source.js';
import { ModelRepository, silentLogger } from '../repository/model-repository.js';

/** Options of {@link importModel}. */
export interface ImportOptions {
  name?: string;
  /** The model repository folder. @default 'models' */
  into?: string;
  /** Replace an existing model folder's manifest and add a version. @default false */
  force?: boolean;
  /**
   * Godot RL Agents: the agent's action space, as `AIController.get_action_space()` returns
   * it — JSON text, the path of a JSON file, or the object.
   * @example '{"move": {"size": 2, "action_type": "continuous"}, "jump": {"size": 2, "action_type": "discrete"}}'
   */
  actions?: string | GodotActionSpace;
  /** Godot RL Agents: how the game's plugin decodes actions. @default 'argmax' */
  godotDecoding?: GodotDecoding;
}

/** What {@link importModel} wrote. */
export interface ImportResult {
  name: string;
  version: number;
  dir: string;
  format: string;
  kind: string;
  /** What the import recognised in the file. */
  recognised: string[];
  /** What it assumed where the file does not say. */
  assumed: string[];
  /** `recognised` then `assumed`. */
  notes: string[];
}

/**
 * Imports an ONNX file into a model repository.
 * @throws PlaymindError naming the file and the reason when it is not a loadable model
 */
export async function importModel(file: string, options: ImportOptions = {}): Promise<ImportResult> {
  const into = resolve(options.into ?? 'models');
  const name =
    options.name ??
    basename(file)
      .replace(/\.onnx$/i, '')
      .replace(/[^a-zA-Z0-9._-]+/g, '-')
      .replace(/^[^a-zA-Z0-9]+/, '');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(name))
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `invalid model name "${name}": use letters, digits, ".", "_" and "-"`,
    );
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    throw new PlaymindError(ErrorCode.MODEL_LOAD_FAILED, `${file}: cannot read (${(err as Error).message})`, {
      cause: err,
    });
  }
  if (bytes.byteLength === 0) throw new PlaymindError(ErrorCode.MODEL_LOAD_FAILED, `${file}: the file is empty`);
  const actions = typeof options.actions === 'string' ? await readActionSpace(options.actions) : options.actions;
  let graph: GraphSummary | undefined;
  const fileNotes: string[] = [];
  try {
    graph = readGraph(bytes);
  } catch {
    graph = undefined; // not a readable ModelProto: onnxruntime says why below
  }
  // External weight files (model.onnx + model.onnx.data) are carried beside model.onnx in the
  // version folder, under the names the model gives them; the repository reads them from there.
  const externalData: { path: string; data: Uint8Array }[] = [];
  for (const location of graph ? externalLocations(bytes) : []) {
    if (!isSafeDataLocation(location) || location === 'model.onnx') {
      throw new PlaymindError(
        ErrorCode.MODEL_LOAD_FAILED,
        `${file}: its weights are in "${location}", which is not a file beside it (external weight files must be named relative to the model, inside its folder)`,
      );
    }
    try {
      externalData.push({ path: location, data: await readBeside(file, location) });
    } catch (err) {
      throw new PlaymindError(
        ErrorCode.MODEL_LOAD_FAILED,
        `${file}: its weights are in "${location}" beside it, which cannot be read (${(err as Error).message})`,
        { cause: err, details: { externalData: location } },
      );
    }
  }
  if (externalData.length > 0) {
    const mib = externalData.reduce((s, f) => s + f.data.byteLength, 0) / 2 ** 20;
    fileNotes.push(
      `external weights: ${externalData.map((f) => f.path).join(', ')} (${mib.toFixed(2)} MiB), copied beside model.onnx in the version folder; the repository reads them from there`,
    );
  }
  const backend = nodeBackend();
  let session;
  try {
    session = await backend.createSession(bytes, externalData.length > 0 ? { externalData } : {});
  } catch (err) {
    throw new PlaymindError(ErrorCode.MODEL_LOAD_FAILED, `${file}: onnxruntime refused it: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let inspection: Inspection;
  try {
    inspection = await inspectModel(name, session, {
      graph,
      godotActions: actions,
      godotDecoding: options.godotDecoding,
    });
  } catch (err) {
    if (err instanceof PlaymindError)
      throw new PlaymindError(err.code, `${file}: ${err.message}`, { cause: err, details: err.details });
    throw err;
  } finally {
    await session.release();
  }
  inspection.recognised.push(...fileNotes);
  inspection.notes = [...inspection.recognised, ...inspection.assumed];
  const dir = join(into, name);
  const existing = (await readdir(dir).catch(() => [] as string[])).filter((f) => /^[1-9]\d*$/.test(f)).map(Number);
  if (existing.length > 0 && !options.force) {
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `${dir} already holds model "${name}" (versions ${existing.join(', ')}); pass --force to add a version`,
    );
  }
  const version = existing.length > 0 ? Math.max(...existing) + 1 : 1;
  const sha = await sha256Hex(bytes);
  let previousSha: Record<string, string> = {};
  if (existing.length > 0) {
    try {
      previousSha = parseManifest(await readFile(join(dir, 'manifest.json'), 'utf8')).sha256 ?? {};
    } catch {
      previousSha = {};
    }
  }
  const manifest = {
    ...inspection.manifest,
    sha256: { ...previousSha, [String(version)]: sha },
    report: { importedFrom: basename(file), recognised: inspection.recognised, assumed: inspection.assumed },
  };
  parseManifest(manifest, `${dir}/manifest.json`);
  await mkdir(join(dir, String(version)), { recursive: true });
  await writeFile(join(dir, String(version), 'model.onnx'), bytes);
  for (const f of externalData) {
    const to = join(dir, String(version), ...f.path.split('/'));
    await mkdir(dirname(to), { recursive: true });
    await writeFile(to, f.data);
  }
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // Prove it serves: load it the way the server will.
  const repo = new ModelRepository({ source: new FsModelSource(into), backend, logger: silentLogger });
  try {
    await repo.reload(name);
  } catch (err) {
    if (existing.length === 0) await rm(dir, { recursive: true, force: true });
    else await rm(join(dir, String(version)), { recursive: true, force: true });
    throw err;
  } finally {
    await repo.close();
  }
  return {
    name,
    version,
    dir,
    format: inspection.format,
    kind: inspection.kind,
    recognised: inspection.recognised,
    assumed: inspection.assumed,
    notes: inspection.notes,
  };
}

/** The external weight files a model names (none when its bytes cannot be walked: onnxruntime says why). */
function externalLocations(bytes: Uint8Array): string[] {
  try {
    return externalDataFiles(bytes);
  } catch {
    return [];
  }
}

/** An action space from JSON text, or from the JSON file it names. */
async function readActionSpace(arg: string): Promise<GodotActionSpace> {
  if (arg.trim().startsWith('{')) return parseGodotActionSpace(arg, '--actions');
  let text: string;
  try {
    text = await readFile(arg, 'utf8');
  } catch (err) {
    throw new PlaymindError(
      ErrorCode.INVALID_ARGUMENT,
      `--actions: "${arg}" is neither JSON nor a readable file (${(err as Error).message})`,
      { cause: err },
    );
  }
  return parseGodotActionSpace(text, arg);
}

/** Reads an external weight file named by a model, refusing paths outside the model's folder. */
async function readBeside(modelFile: string, location: string): Promise<Uint8Array> {
  const folder = dirname(resolve(modelFile));
  const path = resolve(folder, location);
  const rel = relative(folder, path);
  if (isAbsolute(location) || rel.startsWith('..') || isAbsolute(rel))
    throw new Error(`"${location}" is outside the model's folder ${folder}`);
  return new Uint8Array(await readFile(path));
}
