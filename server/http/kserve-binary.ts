/**
 * KServe's binary tensor data extension for REST (as Triton defines it): a request whose
 * `Inference-Header-Content-Length` header is set carries that many bytes of JSON (the
 * usual infer body) followed by the raw bytes of the inputs whose
 * `parameters.binary_data_size` is set, in the order of `inputs`. The reply carries the
 * outputs asked for as binary (`outputs[i].parameters.binary_data: true`, or
 * `parameters.binary_data_output: true` for all of them) the same way: its JSON header
 * names each one's `binary_data_size`, and their bytes follow it in order. Raw bytes are
 * the flattened row-major elements, little-endian (BYTES: 4-byte length, then the bytes).
 */
import { ErrorCode, PlaymindError } from '../../sdk/index.js';
import type { InferReply } from '../inference/open-inference.js';
import { rawBytes, tensorValues } from '../inference/tensor-contents.js';

/** The header that marks a binary request or reply: the byte length of its JSON part. */
export const HEADER_CONTENT_LENGTH = 'inference-header-content-length';
/** The content type of a reply with binary outputs. */
export const BINARY_CONTENT_TYPE = 'application/octet-stream';

/**
 * Splits a binary-extension body into its JSON header and the bytes after it.
 * @param body - the whole request body
 * @param headerLength - the `Inference-Header-Content-Length` value
 * @throws PlaymindError `malformed_message` when the length is not a byte count within the body, or the header is not JSON
 */
export function splitBinaryBody(body: Uint8Array, headerLength: string): { header: unknown; binary: Uint8Array } {
  const n = /^\d{1,10}$/.test(headerLength.trim()) ? Number(headerLength.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n > body.byteLength)
    throw new PlaymindError(
      ErrorCode.MALFORMED_MESSAGE,
      `Inference-Header-Content-Length must be the byte length of the JSON header, at most the body's ${body.byteLength} bytes; got "${headerLength.slice(0, 20)}"`,
    );
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(0, n)));
  } catch (err) {
    throw new PlaymindError(
      ErrorCode.MALFORMED_MESSAGE,
      `the first ${n} bytes (Inference-Header-Content-Length) are not a JSON infer header: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return { header, binary: body.subarray(n) };
}

/** The byte count an input's or output's `parameters.binary_data_size` gives, if any. */
export function binaryDataSize(parameters: Record<string, unknown> | undefined, what: string): number | undefined {
  const v = parameters?.binary_data_size;
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new PlaymindError(
      ErrorCode.MALFORMED_MESSAGE,
      `${what}: 'parameters.binary_data_size' must be a non-negative integer`,
    );
  return v;
}

/**
 * Cuts the binary part of a request into one slice per input that has a `binary_data_size`.
 * @returns a function giving input `i`'s bytes (undefined for a JSON input)
 * @throws PlaymindError `malformed_message` when the sizes do not add up to the bytes sent
 */
export function binaryInputSlices(
  model: string,
  inputs: ReadonlyArray<{ name: string; parameters?: Record<string, unknown> }>,
  binary: Uint8Array,
): (i: number) => Uint8Array | undefined {
  const slices: Array<Uint8Array | undefined> = [];
  let at = 0;
  for (const input of inputs) {
    const size = binaryDataSize(input.parameters, `${model}: input "${input.name.slice(0, 128)}"`);
    if (size === undefined) {
      slices.push(undefined);
      continue;
    }
    if (at + size > binary.byteLength)
      throw new PlaymindError(
        ErrorCode.MALFORMED_MESSAGE,
        `${model}: the inputs' binary_data_size add up to more than the ${binary.byteLength} bytes after the JSON header`,
        { details: { model } },
      );
    slices.push(binary.subarray(at, at + size));
    at += size;
  }
  if (at !== binary.byteLength)
    throw new PlaymindError(
      ErrorCode.MALFORMED_MESSAGE,
      `${model}: ${binary.byteLength - at} bytes after the JSON header belong to no input (binary_data_size adds up to ${at})`,
      { details: { model } },
    );
  return (i) => slices[i];
}

/**
 * Which outputs a request wants as binary: all with `parameters.binary_data_output: true`
 * (unless an output says `binary_data: false`), else those with `binary_data: true`.
 */
export function binaryOutputs(body: {
  parameters?: Record<string, unknown>;
  outputs?: ReadonlyArray<{ name: string; parameters?: Record<string, unknown> }>;
}): (name: string) => boolean {
  const all = body.parameters?.binary_data_output === true;
  const per = new Map((body.outputs ?? []).map((o) => [o.name, o.parameters?.binary_data]));
  return (name) => {
    const v = per.get(name);
    return v === true || (all && v !== false);
  };
}

/** A KServe JSON output: `data` for JSON outputs, `parameters.binary_data_size` for binary ones. */
interface JsonOutput {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size: number };
}

/**
 * The reply to an infer request: plain JSON, or (when any output is wanted as binary) the
 * JSON header followed by the binary outputs, with the header's length to send as
 * `Inference-Header-Content-Length`.
 */
export function encodeInferReply(
  reply: InferReply,
  binary: (name: string) => boolean,
): { json: object } | { headerLength: number; body: Buffer } {
  const blobs: Uint8Array[] = [];
  const outputs: JsonOutput[] = reply.outputs.map((o) => {
    const meta = { name: o.name, datatype: o.datatype, shape: o.shape };
    // FP16 has no JSON form: it always travels as binary.
    if (!binary(o.name) && o.tensor.type !== 'float16') return { ...meta, data: tensorValues(o.tensor) };
    const bytes = rawBytes(o.tensor);
    blobs.push(bytes);
    return { ...meta, parameters: { binary_data_size: bytes.byteLength } };
  });
  const json = {
    model_name: reply.model_name,
    model_version: reply.model_version,
    ...(reply.id !== undefined ? { id: reply.id } : {}),
    outputs,
  };
  if (blobs.length === 0) return { json };
  const header = Buffer.from(JSON.stringify(json), 'utf8');
  return { headerLength: header.byteLength, body: Buffer.concat([header, ...blobs]) };
}
