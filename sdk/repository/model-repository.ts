/**
 * The model repository: loads model folders, checks them against their manifests,
 * serves one version per model and swaps versions atomically. A failed load keeps
 * the previous version serving and records the file and the reason.
 */
import { checkSessionAgainstManifest } from '../contract/check-session.js';
import { parseManifest, type Manifest, type TensorSpec } from '../contract/manifest.js';
import type { Backend, BackendSession, Tensor } from '../engine/backend.js';
import type { RunnableVersion } from '../engine/inference-engine.js';
import { ErrorCode, PlaymindError, toPlaymindError } from '../protocol.js';
import type { ModelSource } from './model-source.js';
import { sha256Hex } from './sha256.js';
import { Emitter } from '../util/emitter.js';
import { float32ToFloat16, zeroTensor } from '../contract/tensors.js';
import { externalDataFiles, isSafeDataLocation } from '../onnx/external-data.js';
import { findNonFinite, type NonFinite } from '../engine/non-finite.js';

/** A loaded, checked, warmed-up model version. */
export interface ModelVersion extends RunnableVersion {
  readonly manifest: Manifest;
  readonly sha256: string;
  readonly loadedAt: Date;
  /** Where the model file came from. */
  readonly location: string;
}

/** Why a load failed: the file and the reason. */
export interface LoadFailure {
  name: string;
  version: number | null;
  /** The file that was refused (a path or URL). */
  file: string;
  code: string;
  reason: string;
  at: string;
}

/** What the repository knows of one model (served by `/v2/models/:name`). */
export interface ModelState {
  name: string;
  kind: Manifest['kind'] | null;
  format: Manifest['format'] | null;
  /** READY when a version is served. */
  state: 'READY' | 'UNAVAILABLE' | 'UNLOADED';
  /** The served version, if any. */
  served: number | null;
  /** Versions present in the source. */
  versions: number[];
  /** The last load that failed, kept until a later load of the model succeeds. */
  lastError: LoadFailure | null;
  /** Every refused file since start (latest last, bounded). */
  failures: LoadFailure[];
  /**
   * Set when the served version answered a request with NaN or ±Infinity at run time (those
   * requests failed with `non_finite_output`); cleared when another version is swapped in.
   */
  nonFinite: NonFiniteFlag | null;
}

/** A served version that answered with non-finite values (see {@link ModelState.nonFinite}). */
export interface NonFiniteFlag {
  version: number;
  /** The output of the latest such answer. */
  output: string;
  /** Requests answered so (since the version was swapped in). */
  requests: number;
  firstAt: string;
  lastAt: string;
}

/** Events of a {@link ModelRepository}. */
export interface RepositoryEvents {
  loaded: { name: string; version: number; id: string; previous: string | null };
  'load-failed': LoadFailure;
  unloaded: { name: string; id: string };
  'non-finite': { name: string; version: number; output: string };
}

/** A pino-compatible logger (only the methods used). */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that says nothing. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
/** The default logger: warnings and errors to the console. */
export const consoleLogger: Logger = {
  info() {},
  warn(obj, msg) {
    console.warn(`[playmind] ${msg ?? ''}`, obj);
  },
  error(obj, msg) {
    console.error(`[playmind] ${msg ?? ''}`, obj);
  },
};

/** Options of {@link ModelRepository}. */
export interface RepositoryOptions {
  source: ModelSource;
  backend: Backend;
  /** @default warnings and errors to the console */
  logger?: Logger;
  /**
   * Run a zero batch, then a few probe batches (ones, halves, seeded values in [0, 1) in
   * every float input), through each version before serving it; a version whose warm-up
   * outputs hold NaN or ±Infinity is refused (`non_finite_output`). @default true
   */
  warmup?: boolean;
  /** Keep at most this many refused files in {@link ModelState.failures}. @default 20 */
  maxFailures?: number;
}

interface Entry {
  name: string;
  manifest: Manifest | null;
  served: ModelVersion | null;
  versions: number[];
  lastError: LoadFailure | null;
  failures: LoadFailure[];
  nonFinite: NonFiniteFlag | null;
  unloaded: boolean;
  /** The version {@link ModelRepository.pin} chose, over the manifest's choice. */
  pin: number | undefined;
  /** Serialises loads of one model. */
  chain: Promise<unknown>;
}

/**
 * @example
 * const repo = new ModelRepository({ source: new FsModelSource('./models'), backend: nodeBackend() });
 * await repo.loadAll();
 * repo.watch();
 */
export class ModelRepository extends Emitter<RepositoryEvents> {
  private readonly entries = new Map<string, Entry>();
  private readonly active = new Map<ModelVersion, number>();
  private readonly retiring = new Map<ModelVersion, () => void>();
  private readonly source: ModelSource;
  private readonly backend: Backend;
  private readonly log: Logger;
  private readonly warmup: boolean;
  private readonly maxFailures: number;
  private stopWatch?: () => void;
  private closed = false;

  constructor(options: RepositoryOptions) {
    super();
    this.source = options.source;
    this.backend = options.backend;
    this.log = options.logger ?? consoleLogger;
    this.warmup = options.warmup ?? true;
    this.maxFailures = options.maxFailures ?? 20;
  }

  /** The folder or URL models are read from. */
  get location(): string {
    return this.source.location;
  }

  /** Loads every model folder in the source. A model that fails is reported, not thrown. */
  async loadAll(): Promise<ModelState[]> {
    const names = await this.source.listModels();
    await Promise.all(names.map((n) => this.reload(n).catch(() => undefined)));
    return this.list();
  }

  /**
   * (Re)loads a model: reads its manifest, picks the pinned or highest version, checks it
   * and swaps it in. When it fails, the previous version keeps serving.
   * @returns the served version after the attempt
   * @throws PlaymindError naming the file and the reason, when the load failed
   */
  reload(name: string): Promise<ModelVersion> {
    const entry = this.entry(name);
    entry.unloaded = false;
    const next = entry.chain.then(() => this.doLoad(entry));
    entry.chain = next.catch(() => undefined);
    return next;
  }

  /** Loads a model that was unloaded (model control `load`). */
  load(name: string): Promise<ModelVersion> {
    return this.reload(name);
  }

  /**
   * Serves one version of a model, whatever its manifest picks: loads, checks and warms
   * it, then swaps it in atomically (requests in flight finish on the version they started
   * on). The pin holds over later reloads (file changes) until it is lifted with `null`.
   * When the load fails the previous version keeps serving and the previous pin is kept.
   *
   * @param name - the model
   * @param version - the version to serve, or null to serve the manifest's choice again
   * @returns the served version
   * @throws PlaymindError `unknown_model`, or the load failure (file and reason)
   * @example await repository.pin('npc-guard', 2); // promote version 2
   */
  pin(name: string, version: number | null): Promise<ModelVersion> {
    if (version !== null && (!Number.isInteger(version) || version < 1))
      return Promise.reject(new RangeError(`'version' must be a positive integer or null, got ${String(version)}`));
    const entry = this.entries.get(name);
    if (!entry)
      return Promise.reject(
        new PlaymindError(ErrorCode.UNKNOWN_MODEL, `no model named "${name}"`, { details: { model: name } }),
      );
    const next = entry.chain.then(async () => {
      const previous = entry.pin;
      entry.pin = version ?? undefined;
      entry.unloaded = false;
      try {
        return await this.doLoad(entry);
      } catch (err) {
        entry.pin = previous;
        throw err;
      }
    });
    entry.chain = next.catch(() => undefined);
    return next;
  }

  /** The version {@link pin} holds for a model, or null when the manifest picks. */
  pinned(name: string): number | null {
    return this.entries.get(name)?.pin ?? null;
  }

  /** Stops serving a model; its version is released once its requests finish. */
  async unload(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry)
      throw new PlaymindError(ErrorCode.UNKNOWN_MODEL, `no model named "${name}"`, { details: { model: name } });
    await entry.chain;
    entry.unloaded = true;
    const old = entry.served;
    entry.served = null;
    if (old) {
      void this.retire(old);
      this.emit('unloaded', { name, id: old.id });
      this.log.info({ model: name, version: old.version }, 'model unloaded');
    }
  }

  /** The served version, or undefined. */
  get(name: string): ModelVersion | undefined {
    return this.entries.get(name)?.served ?? undefined;
  }

  /** The manifest of a model, even when no version could be loaded. */
  manifest(name: string): Manifest | undefined {
    return this.entries.get(name)?.manifest ?? undefined;
  }

  /** Whether the repository knows the model (loaded or not). */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /**
   * Runs `fn` on the served version, keeping that version alive until `fn` settles even
   * if a swap happens meanwhile (in-flight requests finish on the version they started on).
   * @throws PlaymindError `unknown_model` or `model_unavailable`
   */
  use<T>(name: string, fn: (v: ModelVersion) => Promise<T>): Promise<T> {
    const entry = this.entries.get(name);
    if (!entry) return Promise.reject(this.unknownModel(name));
    const v = entry.served;
    if (!v) {
      const why = entry.unloaded
        ? 'it was unloaded'
        : entry.lastError
          ? `its last load failed: ${entry.lastError.reason}`
          : 'no version is loaded';
      return Promise.reject(
        new PlaymindError(ErrorCode.MODEL_UNAVAILABLE, `model "${name}" cannot answer: ${why}`, {
          details: { model: name },
        }),
      );
    }
    this.active.set(v, (this.active.get(v) ?? 0) + 1);
    const release = () => {
      const n = (this.active.get(v) ?? 1) - 1;
      if (n === 0) {
        this.active.delete(v);
        this.retiring.get(v)?.();
      } else this.active.set(v, n);
    };
    let p: Promise<T>;
    try {
      p = fn(v);
    } catch (err) {
      release();
      return Promise.reject(err);
    }
    return p.then(
      (r) => {
        release();
        return r;
      },
      (err: unknown) => {
        release();
        throw err;
      },
    );
  }

  /**
   * The `unknown_model` error for a name the repository does not know. It lists the models the
   * repository has, not its folder: a server sends this error to remote callers, and its
   * filesystem layout is none of theirs.
   */
  unknownModel(name: string): PlaymindError {
    const names = [...this.entries.keys()].sort();
    const has =
      names.length === 0
        ? 'the repository has no models'
        : `models: ${names.slice(0, 10).join(', ')}${names.length > 10 ? `, … (${names.length} in all)` : ''}`;
    return new PlaymindError(ErrorCode.UNKNOWN_MODEL, `no model named "${name}" (${has})`, {
      details: { model: name },
    });
  }

  /** The state of one model. */
  state(name: string): ModelState | undefined {
    const e = this.entries.get(name);
    return e ? this.toState(e) : undefined;
  }

  /** The state of every known model. */
  list(): ModelState[] {
    return [...this.entries.values()].map((e) => this.toState(e)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Watches the source (Node folders): reloads models whose files changed, and stops
   * serving a model whose folder was removed (as Triton's poll mode does; putting the
   * folder back loads it again).
   */
  watch(): void {
    if (this.stopWatch || !this.source.watch) return;
    this.stopWatch = this.source.watch(
      (name) => {
        if (this.closed) return;
        const entry = this.entries.get(name);
        if (entry?.unloaded) return;
        this.log.info({ model: name }, 'model files changed; reloading');
        this.reload(name).catch(() => undefined);
      },
      (name) => {
        if (!this.closed) void this.removed(name);
      },
    );
  }

  /** The model's folder is gone: stop serving it (its version is released once its requests finish). */
  private async removed(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry || entry.unloaded) return;
    const next = entry.chain.then(() => {
      const old = entry.served;
      entry.served = null;
      const failure: LoadFailure = {
        name,
        version: null,
        file: `${this.source.location}/${name}`,
        code: ErrorCode.MODEL_UNAVAILABLE,
        reason: `the folder of model "${name}" was removed`,
        at: new Date().toISOString(),
      };
      entry.lastError = failure;
      entry.failures.push(failure);
      if (entry.failures.length > this.maxFailures) entry.failures.shift();
      this.log.warn({ model: name, file: failure.file }, 'model folder removed; the model is no longer served');
      if (old) {
        void this.retire(old);
        this.emit('unloaded', { name, id: old.id });
      }
    });
    entry.chain = next.catch(() => undefined);
    await entry.chain;
  }

  /** Stops watching and releases every session once its requests have finished. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopWatch?.();
    await Promise.all([...this.entries.values()].map((e) => e.chain));
    const waits: Promise<void>[] = [];
    for (const e of this.entries.values()) {
      if (e.served) waits.push(this.retire(e.served));
      e.served = null;
    }
    await Promise.all(waits);
    await this.backend.dispose?.();
  }

  private entry(name: string): Entry {
    let e = this.entries.get(name);
    if (!e) {
      e = {
        name,
        manifest: null,
        served: null,
        versions: [],
        lastError: null,
        failures: [],
        nonFinite: null,
        unloaded: false,
        pin: undefined,
        chain: Promise.resolve(),
      };
      this.entries.set(name, e);
    }
    return e;
  }

  private toState(e: Entry): ModelState {
    return {
      name: e.name,
      kind: e.manifest?.kind ?? null,
      format: e.manifest?.format ?? null,
      state: e.served ? 'READY' : e.unloaded ? 'UNLOADED' : 'UNAVAILABLE',
      served: e.served?.version ?? null,
      versions: [...e.versions],
      lastError: e.lastError,
      failures: [...e.failures],
      nonFinite: e.nonFinite && { ...e.nonFinite },
    };
  }

  private async doLoad(entry: Entry): Promise<ModelVersion> {
    const name = entry.name;
    let manifest: Manifest;
    let manifestFile = `${this.source.location}/${name}/manifest.json`;
    try {
      const m = await this.source.readManifest(name);
      manifestFile = m.location;
      manifest = parseManifest(m.data, m.location);
      if (manifest.name !== name) {
        throw new PlaymindError(
          ErrorCode.MANIFEST_INVALID,
          `${m.location}: name "${manifest.name}" does not match its folder "${name}"`,
        );
      }
    } catch (err) {
      const e =
        err instanceof PlaymindError
          ? err
          : new PlaymindError(ErrorCode.MANIFEST_INVALID, `${manifestFile}: cannot read (${(err as Error).message})`, {
              cause: err,
            });
      throw this.fail(entry, null, manifestFile, e);
    }
    entry.versions = await this.source.listVersions(name);
    if (entry.versions.length === 0) {
      throw this.fail(
        entry,
        null,
        `${this.source.location}/${name}`,
        new PlaymindError(
          ErrorCode.MODEL_LOAD_FAILED,
          `model "${name}" has no version folder (expected ${name}/1/model.onnx)`,
        ),
      );
    }
    const target = entry.pin ?? manifest.version ?? entry.versions[entry.versions.length - 1]!;
    if (!entry.versions.includes(target)) {
      throw this.fail(
        entry,
        target,
        this.source.modelLocation(name, target),
        new PlaymindError(
          ErrorCode.MODEL_LOAD_FAILED,
          `${entry.pin !== undefined ? 'the repository' : 'manifest'} pins version ${target} but there is no folder ${name}/${target}`,
        ),
      );
    }
    try {
      const v = await this.loadVersion(manifest, target);
      entry.manifest = manifest;
      this.swapIn(entry, v);
      return v;
    } catch (err) {
      const failure = this.fail(
        entry,
        target,
        this.source.modelLocation(name, target),
        toPlaymindError(err, ErrorCode.MODEL_LOAD_FAILED),
      );
      // Nothing served yet (first start): fall back to the newest lower version that loads.
      if (!entry.served && manifest.version === undefined && entry.pin === undefined) {
        for (const lower of entry.versions.filter((x) => x < target).reverse()) {
          try {
            const v = await this.loadVersion(manifest, lower);
            entry.manifest = manifest;
            this.swapIn(entry, v);
            entry.lastError = failure.details.failure as LoadFailure;
            break;
          } catch (e2) {
            this.fail(
              entry,
              lower,
              this.source.modelLocation(name, lower),
              toPlaymindError(e2, ErrorCode.MODEL_LOAD_FAILED),
            );
          }
        }
      }
      if (!entry.manifest) entry.manifest = manifest;
      throw failure;
    }
  }

  /** Reads, checks and warms up one version. Throws a PlaymindError naming the file. */
  private async loadVersion(manifest: Manifest, version: number): Promise<ModelVersion> {
    const name = manifest.name;
    let file = this.source.modelLocation(name, version);
    let bytes: Uint8Array;
    try {
      const f = await this.source.readModel(name, version);
      file = f.location;
      bytes = f.data;
    } catch (err) {
      throw new PlaymindError(ErrorCode.MODEL_LOAD_FAILED, `${file}: cannot read (${(err as Error).message})`, {
        cause: err,
      });
    }
    if (bytes.byteLength === 0) throw new PlaymindError(ErrorCode.MODEL_LOAD_FAILED, `${file}: the file is empty`);
    const sha256 = await sha256Hex(bytes);
    const expected = manifest.sha256?.[String(version)];
    if (expected && expected !== sha256) {
      throw new PlaymindError(
        ErrorCode.MODEL_LOAD_FAILED,
        `${file}: sha256 is ${sha256}, the manifest expects ${expected}`,
      );
    }
    const externalData = await this.readExternalData(name, version, file, bytes);
    let session: BackendSession;
    try {
      session = await this.backend.createSession(bytes, externalData.length > 0 ? { externalData } : {});
    } catch (err) {
      // The runtime itself failed (its WASM did not load): not this file's fault, say so as it is.
      if (err instanceof PlaymindError && err.code === ErrorCode.RUNTIME_LOAD_FAILED) throw err;
      throw new PlaymindError(
        ErrorCode.MODEL_LOAD_FAILED,
        `${file}: onnxruntime refused it: ${(err as Error).message}`,
        { cause: err },
      );
    }
    try {
      const problems = checkSessionAgainstManifest(manifest, session);
      if (problems.length > 0) {
        throw new PlaymindError(
          ErrorCode.CONTRACT_MISMATCH,
          `${file}: does not match its manifest: ${problems.join('; ')}`,
          { details: { problems } },
        );
      }
      const fixed = fixedBatchSize(session);
      if (this.warmup) await warmUp(session, manifest.inputs, fixed ?? 1, file);
      return {
        id: `${name}@${version}`,
        name,
        version,
        session,
        manifest,
        sha256,
        location: file,
        loadedAt: new Date(),
        batching: manifest.batching,
        fixedBatchSize: fixed,
        onNonFinite: (found) => this.flagNonFinite(name, version, found),
      };
    } catch (err) {
      await session.release().catch(() => undefined);
      throw err;
    }
  }

  /**
   * The external weight files a version's model.onnx references (`model.onnx.data`), read
   * from beside it. Throws a PlaymindError naming the file when one cannot be read.
   */
  private async readExternalData(
    name: string,
    version: number,
    file: string,
    bytes: Uint8Array,
  ): Promise<{ path: string; data: Uint8Array }[]> {
    let locations: string[];
    try {
      locations = externalDataFiles(bytes);
    } catch {
      return []; // not a well-formed protobuf: onnxruntime says why
    }
    const out: { path: string; data: Uint8Array }[] = [];
    for (const path of locations) {
      if (!isSafeDataLocation(path)) {
        throw new PlaymindError(
          ErrorCode.MODEL_LOAD_FAILED,
          `${file}: its weights are in "${path}", outside the version folder; external weight files must lie beside model.onnx`,
        );
      }
      if (!this.source.readVersionFile) {
        throw new PlaymindError(
          ErrorCode.MODEL_LOAD_FAILED,
          `${file}: its weights are in "${path}", and this model source cannot read files beside model.onnx`,
        );
      }
      try {
        out.push({ path, data: (await this.source.readVersionFile(name, version, path)).data });
      } catch (err) {
        throw new PlaymindError(
          ErrorCode.MODEL_LOAD_FAILED,
          `${file}: its weights are in "${path}" beside it, which cannot be read (${(err as Error).message})`,
          { cause: err, details: { externalData: path } },
        );
      }
    }
    return out;
  }

  /** A served version answered with non-finite values: flag it (state, log once, event). */
  private flagNonFinite(name: string, version: number, found: NonFinite): void {
    const entry = this.entries.get(name);
    if (!entry || entry.served?.version !== version) return;
    const at = new Date().toISOString();
    if (entry.nonFinite?.version === version) {
      entry.nonFinite.requests++;
      entry.nonFinite.output = found.output;
      entry.nonFinite.lastAt = at;
    } else {
      entry.nonFinite = { version, output: found.output, requests: 1, firstAt: at, lastAt: at };
      this.log.error(
        { model: name, version, output: found.output, count: found.count, first: found.first },
        'model answered with non-finite values (NaN or Infinity); those requests fail with non_finite_output',
      );
    }
    this.emit('non-finite', { name, version, output: found.output });
  }

  private swapIn(entry: Entry, v: ModelVersion): void {
    const old = entry.served;
    entry.served = v;
    entry.lastError = null;
    if (entry.nonFinite?.version !== v.version) entry.nonFinite = null;
    this.log.info(
      { model: v.name, version: v.version, sha256: v.sha256, previous: old?.id ?? null },
      'model version serving',
    );
    this.emit('loaded', { name: v.name, version: v.version, id: v.id, previous: old?.id ?? null });
    if (old && old !== v) void this.retire(old);
  }

  /** Releases a version's session once no request uses it. */
  private retire(v: ModelVersion): Promise<void> {
    const release = async () => {
      this.retiring.delete(v);
      await v.session.release().catch(() => undefined);
    };
    if (!this.active.get(v)) return release();
    return new Promise<void>((resolve) => {
      this.retiring.set(v, () => void release().then(resolve));
    });
  }

  private fail(entry: Entry, version: number | null, file: string, err: PlaymindError): PlaymindError {
    const failure: LoadFailure = {
      name: entry.name,
      version,
      file,
      code: err.code,
      reason: err.message,
      at: new Date().toISOString(),
    };
    entry.lastError = failure;
    entry.failures.push(failure);
    if (entry.failures.length > this.maxFailures) entry.failures.shift();
    this.log.warn(
      { model: entry.name, version, file, code: err.code, reason: err.message },
      `refused model file; ${entry.served ? `still serving ${entry.served.id}` : 'nothing served'}`,
    );
    this.emit('load-failed', failure);
    return new PlaymindError(err.code, err.message, {
      cause: err.cause ?? err,
      details: { ...err.details, model: entry.name, version, file, failure },
    });
  }
}

/** When every input fixes its first dimension to the same size, that size. */
function fixedBatchSize(session: BackendSession): number | undefined {
  let fixed: number | undefined;
  for (const m of session.inputs) {
    const d = m.shape[0];
    if (typeof d !== 'number' || d < 0) return undefined;
    if (fixed !== undefined && fixed !== d) return undefined;
    fixed = d;
  }
  return fixed;
}

/**
 * The warm-up: a zero batch (it must run), then probe batches that fill every float input
 * with ones, halves and seeded values in [0, 1) (other inputs stay zero). A probe the model
 * cannot run is skipped (a probe is not a real input); any output holding NaN or ±Infinity
 * refuses the version with `non_finite_output`, naming the probe and the output.
 */
async function warmUp(session: BackendSession, inputs: readonly TensorSpec[], rows: number, file: string) {
  const probes: [string, (i: number) => number][] = [
    ['zeros', () => 0],
    ['ones', () => 1],
    ['halves', () => 0.5],
    ['seeded values in [0, 1)', (i) => ((Math.imul(i + 1, 2654435761) >>> 0) % 1000) / 1000],
  ];
  for (const [probe, value] of probes) {
    const feeds: Record<string, Tensor> = {};
    for (const spec of inputs) {
      const t = zeroTensor(spec, rows);
      if (probe !== 'zeros' && (t.type === 'float32' || t.type === 'float64')) {
        const d = t.data as Float32Array | Float64Array;
        for (let i = 0; i < d.length; i++) d[i] = value(i);
      } else if (probe !== 'zeros' && t.type === 'float16') {
        (t.data as Uint16Array).set(float32ToFloat16(Array.from({ length: t.data.length }, (_, i) => value(i))));
      }
      feeds[spec.name] = t;
    }
    let outputs: Record<string, Tensor>;
    try {
      outputs = await session.run(feeds);
    } catch (err) {
      if (probe !== 'zeros') continue;
      throw new PlaymindError(ErrorCode.MODEL_LOAD_FAILED, `${file}: warm-up run failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const bad = findNonFinite(outputs);
    if (bad) {
      throw new PlaymindError(
        ErrorCode.NON_FINITE_OUTPUT,
        `${file}: warm-up with ${probe} in every float input gave non-finite outputs: "${bad.output}" has ${bad.count} of ${bad.of} values NaN or ±Infinity (first: ${bad.first})`,
        { details: { output: bad.output, probe, count: bad.count } },
      );
    }
  }
}
