/**
 * A {@link ModelSource} over a directory, with file watching. Node only.
 *
 * Every file it reads is resolved with `realpath` first and must stay inside the
 * repository folder (itself resolved): a manifest, a version folder or a model file
 * that is a symlink leading out of it (to `/etc/passwd`, say) is refused with a
 * `model_load_failed` error that names the file relative to the repository and never
 * where the link points. Symlinks that stay inside the folder are followed.
 */
import { watch as fsWatch, type Dirent, type FSWatcher } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ErrorCode, PlaymindError } from '../protocol.js';
import type { ModelSource, SourceFile } from './model-source.js';

/**
 * Resolves `path` (inside `root`) with `realpath` and checks that it stays inside `root`.
 * @param root - the folder, already absolute
 * @param path - a path inside it
 * @returns the real path
 * @throws PlaymindError `model_load_failed` when it leads out of `root` (the message names
 *   `path` relative to `root`, never the link's target); the fs error when it does not exist
 */
export async function confinedPath(root: string, path: string): Promise<string> {
  const realRoot = await realpath(root);
  const real = await realpath(path);
  const rel = relative(realRoot, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
    throw new PlaymindError(
      ErrorCode.MODEL_LOAD_FAILED,
      `${relative(root, path) || '.'} leads outside the model repository (a symlink?): not read`,
      { details: { file: relative(root, path) } },
    );
  return real;
}

/** Options of {@link FsModelSource}. */
export interface FsSourceOptions {
  /**
   * How long a model's files must stay unchanged (size and mtime) before a change is
   * reported, in ms. @default 150 (env `PLAYMIND_WATCH_SETTLE_MS`)
   */
  settleMs?: number;
}

/** Reads models from a folder. */
export class FsModelSource implements ModelSource {
  readonly location: string;
  private readonly settleMs: number;

  /** @param dir - the model repository folder */
  constructor(dir: string, options: FsSourceOptions = {}) {
    this.location = resolve(dir);
    const env = typeof process !== 'undefined' ? Number(process.env.PLAYMIND_WATCH_SETTLE_MS) : NaN;
    this.settleMs = options.settleMs ?? (Number.isFinite(env) ? env : 150);
  }

  /**
   * The model folders of the repository.
   * @throws PlaymindError `models_not_found` when the folder does not exist, is a file, or is one
   *   model's folder (it holds a manifest.json) instead of the repository that holds model folders
   */
  async listModels(): Promise<string[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.location, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'no such folder'
          : code === 'ENOTDIR'
            ? 'a file, not a folder'
            : `cannot read it (${(err as Error).message})`;
      throw new PlaymindError(ErrorCode.MODELS_NOT_FOUND, `models folder ${this.location}: ${why}`, {
        cause: err,
        details: { models: this.location },
      });
    }
    if (entries.some((e) => e.isFile() && e.name === 'manifest.json'))
      throw new PlaymindError(
        ErrorCode.MODELS_NOT_FOUND,
        `models folder ${this.location}: this is one model's folder (it holds manifest.json); pass the folder that holds the model folders, ${dirname(this.location)}`,
        { details: { models: this.location } },
      );
    const names: string[] = [];
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const inner = await readdir(join(this.location, e.name)).catch(() => [] as string[]);
      if (inner.includes('manifest.json') || inner.some((f) => /^[1-9]\d*$/.test(f))) names.push(e.name);
    }
    return names.sort();
  }

  async listVersions(name: string): Promise<number[]> {
    // A model folder that leads out of the repository has no versions (Dirents do not follow symlinks).
    const dir = await confinedPath(this.location, join(this.location, name)).catch(() => null);
    if (dir === null) return [];
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isDirectory() && /^[1-9]\d*$/.test(e.name))
      .map((e) => Number(e.name))
      .sort((a, b) => a - b);
  }

  async readManifest(name: string): Promise<SourceFile<string>> {
    const location = join(this.location, name, 'manifest.json');
    return { data: await readFile(await confinedPath(this.location, location), 'utf8'), location };
  }

  async readModel(name: string, version: number): Promise<SourceFile<Uint8Array>> {
    const location = this.modelLocation(name, version);
    const buf = await readFile(await confinedPath(this.location, location));
    return { data: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), location };
  }

  async readVersionFile(name: string, version: number, path: string): Promise<SourceFile<Uint8Array>> {
    const location = join(this.location, name, String(version), ...path.split('/'));
    const buf = await readFile(location);
    return { data: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), location };
  }

  modelLocation(name: string, version: number): string {
    return join(this.location, name, String(version), 'model.onnx');
  }

  watch(onChange: (name: string) => void, onRemove?: (name: string) => void): () => void {
    const timers = new Map<string, ReturnType<typeof setTimeout>>();
    const fingerprints = new Map<string, string>();
    let stopped = false;
    const check = (name: string) => {
      timers.delete(name);
      void this.fingerprint(name).then((fp) => {
        if (stopped) return;
        if (fp === null) {
          // The folder is gone (removed, or renamed away).
          fingerprints.delete(name);
          onRemove?.(name);
          return;
        }
        if (fingerprints.get(name) !== fp) {
          // still changing (or first look): look again once it has had time to settle
          fingerprints.set(name, fp);
          timers.set(
            name,
            setTimeout(() => check(name), this.settleMs),
          );
          return;
        }
        fingerprints.delete(name);
        onChange(name);
      });
    };
    const poke = (name: string) => {
      if (stopped || !name || name.startsWith('.')) return;
      const t = timers.get(name);
      if (t) clearTimeout(t);
      fingerprints.delete(name);
      timers.set(
        name,
        setTimeout(() => check(name), this.settleMs),
      );
    };
    let watcher: FSWatcher | undefined;
    try {
      watcher = fsWatch(this.location, { recursive: true }, (_event, file) => {
        if (!file) return;
        const rel = relative(this.location, join(this.location, String(file)));
        poke(rel.split(sep)[0] ?? '');
      });
      watcher.on('error', () => undefined);
    } catch {
      watcher = undefined;
    }
    return () => {
      stopped = true;
      watcher?.close();
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    };
  }

  /** Sizes and mtimes of a model's manifest and version files: equal twice in a row means settled. */
  private async fingerprint(name: string): Promise<string | null> {
    const parts: string[] = [];
    const dir = join(this.location, name);
    // Only model folders count: a file dropped at the top level (a temp file) is not a model.
    if (
      !(await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    )
      return null;
    // model.onnx and whatever lies beside it (external weight files) in each version folder.
    const files = ['manifest.json'];
    for (const v of await this.listVersions(name)) {
      const inner = await readdir(join(dir, String(v))).catch(() => [] as string[]);
      files.push(...['model.onnx', ...inner.filter((f) => f !== 'model.onnx').sort()].map((f) => join(String(v), f)));
    }
    for (const f of files) {
      const s = await stat(join(dir, f)).catch(() => null);
      parts.push(s ? `${f}:${s.size}:${s.mtimeMs}` : `${f}:-`);
    }
    return parts.join('|');
  }
}
