/**
 * Where a repository reads model folders from: a directory (Node) or a base URL
 * (browser). Both give the same Triton-style layout:
 * `<name>/manifest.json` and `<name>/<version>/model.onnx`.
 */

/** A file read from a source, with where it came from (for messages). */
export interface SourceFile<T> {
  data: T;
  /** A path or URL naming the file. */
  location: string;
}

/** The read side of a model repository. */
export interface ModelSource {
  /** The folder or URL, for messages. */
  readonly location: string;
  /** Names of the model folders. */
  listModels(): Promise<string[]>;
  /** Version numbers present for a model (folders named by a positive integer). */
  listVersions(name: string): Promise<number[]>;
  /** The manifest's text. */
  readManifest(name: string): Promise<SourceFile<string>>;
  /** The bytes of `<name>/<version>/model.onnx`. */
  readModel(name: string, version: number): Promise<SourceFile<Uint8Array>>;
  /**
   * The bytes of another file of a version's folder, `<name>/<version>/<path>` (the
   * external weight files a model references, e.g. `model.onnx.data`). `path` is relative
   * and stays inside the folder (the caller checks).
   */
  readVersionFile?(name: string, version: number, path: string): Promise<SourceFile<Uint8Array>>;
  /** Where a version's model file is (for messages), without reading it. */
  modelLocation(name: string, version: number): string;
  /**
   * Calls `onChange(name)` once a model's files have changed and stopped changing
   * (a file being written is not reported until it is complete), and `onRemove(name)`
   * once a model's folder is gone. Returns a stop function.
   */
  watch?(onChange: (name: string) => void, onRemove?: (name: string) => void): () => void;
}
