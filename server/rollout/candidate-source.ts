/**
 * A model source that shows one model at one version: the candidate of a
 * rollout. A repository on it loads, checks and warms the candidate like any
 * version (so a broken candidate is refused with its file and reason), and a
 * brain on that repository decides with it through the same decision layer as
 * the served version, without touching what the server serves.
 *
 * @module
 */
import type { ModelSource } from '../../sdk/index.js';

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

  modelLocation(name: string, version: number): string {
    return this.inner.modelLocation(name, version);
  }
}
