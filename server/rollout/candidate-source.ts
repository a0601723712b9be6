/**
 * A model source that shows one model at one version: the candidate of a
 * rollout. A repository on it loads, checks and warms the candidate like any
 * version (so a broken candidate is refused with its file and reason), and a
 * brain on that repository decides with it through the same decision layer as
 * the served version, without touching what the server serves.
 *
 * @module
 */
import {
  FsModelSource,
  ModelRepository,
  createBrain,
  nodeBackend,
  type Brain,
  type InferenceEngine,
  type Logger,
  type ModelSource,
  type ModelVersion,
} from '../../sdk/index.js';

type SourceFile<T> = { data: T; location: string };

/** See the module documentation. */
export class VersionPinnedSource implements ModelSource {
  /**
   * @param inner - the server's model source
   * @param name - the model
   * @param version - the one version shown (the manifest's `version` is set to it)
   */
  constructor(
    private readonly inner: ModelSource,
    readonly name: string,
    readonly version: number,
  ) {}

  get location(): string {
    return this.inner.location;
  }

  listModels(): Promise<string[]> {
    return Promise.resolve([this.name]);
  }

  listVersions(name: string): Promise<number[]> {
    return this.inner.listVersions(name);
  }

  async readManifest(name: string): Promise<SourceFile<string>> {
    const m = await this.inner.readManifest(name);
    let data: unknown;
    try {
      data = JSON.parse(m.data) as unknown;
    } catch {
      return m; // the repository reports the bad manifest
    }
    if (!data || typeof data !== 'object' || Array.isArray(data)) return m;
    return { location: m.location, data: JSON.stringify({ ...(data as object), version: this.version }) };
  }

  readModel(name: string, version: number): Promise<SourceFile<Uint8Array>> {
    return this.inner.readModel(name, version);
  }

  readVersionFile(name: string, version: number, path: string): Promise<SourceFile<Uint8Array>> {
    if (!this.inner.readVersionFile) return Promise.reject(new Error(`${this.inner.location} cannot read ${path}`));
    return this.inner.readVersionFile(name, version, path);
  }

  modelLocation(name: string, version: number): string {
    return this.inner.modelLocation(name, version);
  }
}

/** A candidate version, loaded beside the served one. */
export interface Candidate {
  /** A repository that serves only the candidate (build a brain on it to decide with it). */
  readonly repository: ModelRepository;
  readonly version: ModelVersion;
  /** A brain on that repository (on the server's engine when one was given): decide with the candidate through it. */
  readonly brain: Brain;
  close(): Promise<void>;
}

/**
 * Loads one version of a model from a model folder, checked and warmed up, in a
 * repository of its own (what the server serves is untouched).
 * @param modelsDir - the model repository folder
 * @param name - the model
 * @param version - the version
 * @param logger - where the load is logged
 * @param engine - the engine its brain runs on (the server's shared one) @default an engine of its own
 * @returns the candidate; close it when done
 * @throws PlaymindError naming the file and the reason when it does not load
 */
export async function loadCandidate(
  modelsDir: string,
  name: string,
  version: number,
  logger?: Logger,
  engine?: InferenceEngine,
): Promise<Candidate> {
  const repository = new ModelRepository({
    source: new VersionPinnedSource(new FsModelSource(modelsDir), name, version),
    backend: nodeBackend(),
    ...(logger ? { logger } : {}),
  });
  try {
    const v = await repository.reload(name);
    const brain = await createBrain({
      models: repository,
      ...(engine ? { engine } : {}),
      ...(logger ? { logger } : {}),
    });
    return {
      repository,
      version: v,
      brain,
      close: async () => {
        await brain.close();
        await repository.close();
      },
    };
  } catch (err) {
    await repository.close();
    throw err;
  }
}
