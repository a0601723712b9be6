/**
 * `playmind import <file.onnx> [--name N] [--into models/]`: inspects an ONNX file,
 * recognises ML-Agents and Godot RL Agents exports, writes
 * `<into>/<name>/manifest.json` and `<into>/<name>/<version>/model.onnx`, then loads
 * the result through the repository to prove it serves.
 */
import { mkdir, readFile, writeFile, rm, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { inspectModel } from '../contract/formats.js';
import { parseManifest } from '../contract/manifest.js';
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
}

/** What {@link importModel} wrote. */
export interface ImportResult {
  name: string;
  version: number;
  dir: string;
  format: string;
  kind: string;
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
  const backend = nodeBackend();
  let session;
  try {
    session = await backend.createSession(bytes);
  } catch (err) {
    throw new PlaymindError(ErrorCode.MODEL_LOAD_FAILED, `${file}: onnxruntime refused it: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let inspection;
  try {
    inspection = await inspectModel(name, session);
  } finally {
    await session.release();
  }
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
    report: { importedFrom: basename(file), notes: inspection.notes },
  };
  parseManifest(manifest, `${dir}/manifest.json`);
  await mkdir(join(dir, String(version)), { recursive: true });
  await writeFile(join(dir, String(version), 'model.onnx'), bytes);
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
  return { name, version, dir, format: inspection.format, kind: inspection.kind, notes: inspection.notes };
}
