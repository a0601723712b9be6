/** What the format inspectors share: the context they read and the notes they write. */
import type { BackendSession, TensorMeta } from '../engine/backend.js';
import type { GraphSummary } from '../onnx/graph-reader.js';
import type { DType, TensorSpec } from './manifest.js';

/** The recognised / assumed notes an inspection collects. */
export interface Notes {
  recognised: string[];
  assumed: string[];
}

/** What the format inspectors get. */
export interface InspectContext {
  name: string;
  session: BackendSession;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  graph?: GraphSummary;
  notes: Notes;
}

/** Converts session metadata into a manifest tensor spec (named or negative dims become -1). */
export function specOf(m: TensorMeta): TensorSpec {
  const dtype = (m.dtype === 'unknown' ? 'float32' : m.dtype) as DType;
  return { name: m.name, dtype, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
}

/** Values per batch row of a spec (dynamic dims count 1). */
export const widthOf = (s: TensorSpec): number => s.shape.slice(1).reduce((a, d) => a * (d < 0 ? 1 : d), 1);

/** `name float32[-1, 4]`, for notes. */
export const describeSpec = (t: TensorSpec): string => `${t.name} ${t.dtype}[${t.shape.join(', ')}]`;

/** The note that says which names an import made up (exports name neither features nor actions). */
export function namingNote(features: readonly string[], actions: readonly string[]): string {
  const span = (xs: readonly string[]) =>
    xs.length <= 3 ? xs.join(', ') : `${xs[0]}, ${xs[1]} … ${xs[xs.length - 1]}`;
  return `names made up, as the export has none: features ${span(features)}${actions.length > 0 ? `; actions ${span(actions)}` : ''} — rename them in manifest.json (policy.observation.features${actions.length > 0 ? ', policy.actions' : ''})`;
}
