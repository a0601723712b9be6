/**
 * ModelInferRequest / ModelInferResponse of the Open Inference Protocol's gRPC service
 * (`proto/open_inference_grpc.proto`), as `@grpc/proto-loader` decodes them with
 * `keepCase`, `longs: String` and `defaults`, to and from the transport-neutral
 * {@link InferCall} / {@link InferReply}.
 *
 * Contents: every input carries either typed `contents` (the repeated field of its
 * datatype: `fp32_contents` for FP32, `int_contents` for INT8/INT16/INT32, ...) or, for
 * all inputs at once, `raw_input_contents` (one bytes entry per input, in order). The
 * reply uses the representation the request used: `raw_output_contents` for raw
 * requests, typed `contents` otherwise.
 */
import { ErrorCode, PlaymindError } from '../../sdk/index.js';
import type { InferCall, InferInput, InferReply, ModelMetadata } from '../inference/open-inference.js';
import { dtypeOf, rawBytes, tensorValues } from '../inference/tensor-contents.js';

/** `InferTensorContents`: one repeated field per datatype family. */
export interface ProtoContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: Array<string | number>;
  uint_contents?: number[];
  uint64_contents?: Array<string | number>;
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
}
type ContentsField = keyof ProtoContents;

/** `ModelInferRequest` as decoded. */
export interface ProtoInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  inputs: Array<{ name: string; datatype: string; shape: Array<string | number>; contents?: ProtoContents | null }>;
  outputs: Array<{ name: string }>;
  raw_input_contents: Uint8Array[];
}

/** `ModelInferResponse` as encoded. */
export interface ProtoInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: Array<{ name: string; datatype: string; shape: string[]; contents?: ProtoContents }>;
  raw_output_contents: Uint8Array[];
}

/** `ModelMetadataResponse` as encoded. */
export interface ProtoModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: Array<{ name: string; datatype: string; shape: string[] }>;
  outputs: Array<{ name: string; datatype: string; shape: string[] }>;
}

/** The typed-contents field of each datatype (FP16 has none: raw only). */
const FIELD_OF: Readonly<Record<string, ContentsField>> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};
const utf8 = new TextEncoder();
const FIELDS: readonly ContentsField[] = [
  'bool_contents',
  'int_contents',
  'int64_contents',
  'uint_contents',
  'uint64_contents',
  'fp32_contents',
  'fp64_contents',
  'bytes_contents',
];

/**
 * A decoded ModelInferRequest as an {@link InferCall}.
 * @param deadlineMs - what is left of the call's gRPC deadline, if it has one
 * @returns the call, and whether it used raw contents (the reply then does too)
 * @throws PlaymindError `malformed_message` / `invalid_tensor` naming what was wrong
 */
export function inferCallOf(req: ProtoInferRequest, deadlineMs?: number): { call: InferCall; raw: boolean } {
  const model = req.model_name;
  if (model === '') throw new PlaymindError(ErrorCode.MALFORMED_MESSAGE, "ModelInferRequest needs a 'model_name'");
  const malformed = (why: string) =>
    new PlaymindError(ErrorCode.MALFORMED_MESSAGE, `${model}: ${why}`, { details: { model } });
  const raw = req.raw_input_contents.length > 0;
  if (raw && req.raw_input_contents.length !== req.inputs.length)
    throw malformed(
      `'raw_input_contents' has ${req.raw_input_contents.length} entries for ${req.inputs.length} inputs (one per input, in order)`,
    );
  const inputs = req.inputs.map((input, i): InferInput => {
    const invalid = (why: string) =>
      new PlaymindError(ErrorCode.INVALID_TENSOR, `${model}: input "${input.name.slice(0, 128)}" ${why}`, {
        details: { model, input: input.name.slice(0, 128) },
      });
    const shape = input.shape.map(Number);
    const given = FIELDS.filter((f) => (input.contents?.[f]?.length ?? 0) > 0);
    if (raw) {
      if (given.length > 0) throw invalid(`has '${given[0]}' although the request uses 'raw_input_contents'`);
      return { name: input.name, datatype: input.datatype, shape, contents: { raw: req.raw_input_contents[i]! } };
    }
    // An unknown datatype is reported by the core, which names the datatypes it knows.
    const field = dtypeOf(input.datatype) === undefined ? undefined : FIELD_OF[input.datatype];
    if (dtypeOf(input.datatype) !== undefined && field === undefined)
      throw invalid(`is ${input.datatype}, which travels in 'raw_input_contents' only`);
    const other = given.find((f) => f !== field);
    if (other !== undefined)
      throw invalid(`is ${input.datatype} but has '${other}'${field ? ` (use '${field}')` : ''}`);
    return {
      name: input.name,
      datatype: input.datatype,
      shape,
      contents: { values: field ? (input.contents?.[field] ?? []) : [] },
    };
  });
  return {
    call: {
      model,
      ...(req.model_version !== '' ? { version: req.model_version } : {}),
      ...(req.id !== '' ? { id: req.id } : {}),
      inputs,
      outputs: req.outputs.map((o) => o.name),
      ...(deadlineMs !== undefined ? { deadlineMs } : {}),
    },
    raw,
  };
}

/**
 * An {@link InferReply} as a ModelInferResponse.
 * @param raw - put the outputs in `raw_output_contents` (else typed `contents`)
 */
export function inferResponseOf(reply: InferReply, raw: boolean): ProtoInferResponse {
  const outputs = reply.outputs.map((o) => {
    const meta = { name: o.name, datatype: o.datatype, shape: o.shape.map(String) };
    const field = FIELD_OF[o.datatype];
    if (raw || field === undefined) return meta;
    const values =
      field === 'bytes_contents'
        ? (o.tensor.data as string[]).map((v) => utf8.encode(v))
        : tensorValues(o.tensor, 'string');
    return { ...meta, contents: { [field]: values } };
  });
  // A datatype without typed contents (FP16) forces the raw representation for the whole reply.
  const anyRaw = raw || reply.outputs.some((o) => FIELD_OF[o.datatype] === undefined);
  return {
    model_name: reply.model_name,
    model_version: reply.model_version,
    id: reply.id ?? '',
    outputs: anyRaw ? outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })) : outputs,
    raw_output_contents: anyRaw ? reply.outputs.map((o) => rawBytes(o.tensor)) : [],
  };
}

/** Model metadata as a ModelMetadataResponse (shapes as int64 strings). */
export function modelMetadataOf(m: ModelMetadata): ProtoModelMetadata {
  const tensor = (t: { name: string; datatype: string; shape: number[] }) => ({
    name: t.name,
    datatype: t.datatype,
    shape: t.shape.map(String),
  });
  return { ...m, inputs: m.inputs.map(tensor), outputs: m.outputs.map(tensor) };
}
