/**
 * A {@link ModelSource} over HTTP, for the browser: `<base>/index.json` lists the models
 * and their versions (the Playmind server serves it at `/models/index.json`).
 */
import { ErrorCode, PlaymindError } from '../protocol.js';
import type { ModelIndex } from './model-index.js';
import type { ModelSource, SourceFile } from './model-source.js';

export type { ModelIndex } from './model-index.js';

/** Reads models from a base URL with `fetch`. */
export class HttpModelSource implements ModelSource {
  readonly location: string;
  private index?: Promise<ModelIndex>;

  /** @param baseUrl - e.g. `/models` or `https://game.example/models` */
  constructor(
    baseUrl: string,
    private readonly fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis),
  ) {
    this.location = baseUrl.replace(/\/+$/, '');
  }

  /**
   * The repository's listing, `<base>/index.json` (written by `playmind import`, `train-recs` and
   * `index`; served by the Playmind server at `/models/index.json`).
   * @throws PlaymindError `models_not_found` naming the URL when it cannot be fetched or is not a listing
   */
  private getIndex(): Promise<ModelIndex> {
    this.index ??= this.fetchIndex();
    return this.index;
  }

  private async fetchIndex(): Promise<ModelIndex> {
    const url = `${this.location}/index.json`;
    const fail = (why: string, cause?: unknown) =>
      new PlaymindError(
        ErrorCode.MODELS_NOT_FOUND,
        `no model repository at ${this.location || '/'}: ${url} ${why} (write it with "npx playmind index <models folder>", or serve the Playmind server's /models)`,
        { cause, details: { models: this.location, url } },
      );
    let res: Response;
    try {
      res = await this.fetchImpl(url);
    } catch (err) {
      throw fail(`could not be fetched (${(err as Error).message})`, err);
    }
    if (!res.ok) throw fail(`answered HTTP ${res.status}`);
    let index: unknown;
    try {
      index = await res.json();
    } catch (err) {
      throw fail('is not JSON', err);
    }
    const models = (index as { models?: unknown } | null)?.models;
    if (!Array.isArray(models) || !models.every((m) => typeof (m as { name?: unknown })?.name === 'string'))
      throw fail('is not a model listing ({ "models": [{ "name", "versions" }] })');
    return index as ModelIndex;
  }

  async listModels(): Promise<string[]> {
    return (await this.getIndex()).models.map((m) => m.name);
  }

  async listVersions(name: string): Promise<number[]> {
    return (await this.getIndex()).models.find((m) => m.name === name)?.versions ?? [];
  }

  async readManifest(name: string): Promise<SourceFile<string>> {
    const location = `${this.location}/${encodeURIComponent(name)}/manifest.json`;
    return { data: await (await this.get(location)).text(), location };
  }

  async readModel(name: string, version: number): Promise<SourceFile<Uint8Array>> {
    const location = this.modelLocation(name, version);
    return { data: new Uint8Array(await (await this.get(location)).arrayBuffer()), location };
  }

  async readVersionFile(name: string, version: number, path: string): Promise<SourceFile<Uint8Array>> {
    const location = `${this.location}/${encodeURIComponent(name)}/${version}/${path.split('/').map(encodeURIComponent).join('/')}`;
    return { data: new Uint8Array(await (await this.get(location)).arrayBuffer()), location };
  }

  modelLocation(name: string, version: number): string {
    return `${this.location}/${encodeURIComponent(name)}/${version}/model.onnx`;
  }

  private async get(url: string): Promise<Response> {
    const res = await this.fetchImpl(url);
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    return res;
  }
}
