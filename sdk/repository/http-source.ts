/**
 * A {@link ModelSource} over HTTP, for the browser: `<base>/index.json` lists the models
 * and their versions (the Playmind server serves it at `/models/index.json`).
 */
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

  private async getIndex(): Promise<ModelIndex> {
    this.index ??= this.fetchJson<ModelIndex>(`${this.location}/index.json`);
    return this.index;
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

  modelLocation(name: string, version: number): string {
    return `${this.location}/${encodeURIComponent(name)}/${version}/model.onnx`;
  }

  private async fetchJson<T>(url: string): Promise<T> {
    return (await (await this.get(url)).json()) as T;
  }

  private async get(url: string): Promise<Response> {
    const res = await this.fetchImpl(url);
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    return res;
  }
}
