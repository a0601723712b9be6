/**
 * Finds the external weight files an ONNX model references (`model.onnx.data`, as PyTorch
 * and `onnx.save(..., save_as_external_data=True)` write them), by walking the protobuf
 * wire format of the ModelProto without decoding it: weights stored inline (the large
 * `raw_data` fields) are skipped by their length, so this costs little even on large
 * models, and it needs no protobuf library (it runs in the browser too).
 *
 * Walked (onnx.proto field numbers): ModelProto.graph (7); GraphProto.node (1),
 * initializer (5), sparse_initializer (15); NodeProto.attribute (5); AttributeProto.t (5),
 * g (6), tensors (10), graphs (11), sparse_tensor (22), sparse_tensors (23);
 * SparseTensorProto.values (1), indices (2); TensorProto.external_data (13),
 * data_location (14, EXTERNAL = 1); StringStringEntryProto key (1), value (2).
 */

/** Field numbers of the messages that can hold a TensorProto, by message. */
const GRAPH = { node: 1, initializer: 5, sparseInitializer: 15 } as const;
const NODE_ATTRIBUTE = 5;
const ATTR = { t: 5, g: 6, tensors: 10, graphs: 11, sparseTensor: 22, sparseTensors: 23 } as const;
const SPARSE = { values: 1, indices: 2 } as const;
const TENSOR = { externalData: 13, dataLocation: 14 } as const;
const MODEL_GRAPH = 7;
const EXTERNAL = 1;

interface Field {
  field: number;
  wire: number;
  /** For length-delimited fields: [start, end) of the payload. */
  start: number;
  end: number;
  /** For varints: the value. */
  value: number;
}

/** Iterates the fields of a message in bytes[start, end). @throws on malformed input */
function* fields(bytes: Uint8Array, start: number, end: number): Generator<Field> {
  let at = start;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (at >= end) throw new Error('truncated varint');
      const b = bytes[at++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new Error('varint too long');
  };
  while (at < end) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const value = varint();
      yield { field, wire, start: at, end: at, value };
    } else if (wire === 2) {
      const len = varint();
      if (at + len > end) throw new Error('truncated field');
      yield { field, wire, start: at, end: at + len, value: len };
      at += len;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

const text = new TextDecoder();

/**
 * The external weight files a model references, relative to the model file's folder, in
 * the order first referenced.
 * @throws Error when the bytes are not a well-formed protobuf message
 */
export function externalDataFiles(bytes: Uint8Array): string[] {
  const found = new Set<string>();
  const tensor = (start: number, end: number) => {
    let location: string | undefined;
    let external = false;
    for (const f of fields(bytes, start, end)) {
      if (f.field === TENSOR.dataLocation && f.wire === 0) external = f.value === EXTERNAL;
      else if (f.field === TENSOR.externalData && f.wire === 2) {
        let key = '';
        let value = '';
        for (const e of fields(bytes, f.start, f.end)) {
          if (e.wire !== 2) continue;
          if (e.field === 1) key = text.decode(bytes.subarray(e.start, e.end));
          else if (e.field === 2) value = text.decode(bytes.subarray(e.start, e.end));
        }
        if (key === 'location') location = value;
      }
    }
    if (external && location !== undefined) found.add(location);
  };
  const sparse = (start: number, end: number) => {
    for (const f of fields(bytes, start, end))
      if (f.wire === 2 && (f.field === SPARSE.values || f.field === SPARSE.indices)) tensor(f.start, f.end);
  };
  const graph = (start: number, end: number): void => {
    for (const f of fields(bytes, start, end)) {
      if (f.wire !== 2) continue;
      if (f.field === GRAPH.initializer) tensor(f.start, f.end);
      else if (f.field === GRAPH.sparseInitializer) sparse(f.start, f.end);
      else if (f.field === GRAPH.node) {
        for (const a of fields(bytes, f.start, f.end)) {
          if (a.field !== NODE_ATTRIBUTE || a.wire !== 2) continue;
          for (const v of fields(bytes, a.start, a.end)) {
            if (v.wire !== 2) continue;
            if (v.field === ATTR.t || v.field === ATTR.tensors) tensor(v.start, v.end);
            else if (v.field === ATTR.g || v.field === ATTR.graphs) graph(v.start, v.end);
            else if (v.field === ATTR.sparseTensor || v.field === ATTR.sparseTensors) sparse(v.start, v.end);
          }
        }
      }
    }
  };
  for (const f of fields(bytes, 0, bytes.byteLength))
    if (f.field === MODEL_GRAPH && f.wire === 2) graph(f.start, f.end);
  return [...found];
}

/**
 * Whether a location an external-data entry names stays inside the model's folder: a
 * relative path without `..` segments, backslashes or a drive.
 */
export function isSafeDataLocation(location: string): boolean {
  if (location === '' || location.includes('\\') || location.includes('\0')) return false;
  if (location.startsWith('/') || /^[a-zA-Z]:/.test(location)) return false;
  return location.split('/').every((part) => part !== '..' && part !== '');
}
