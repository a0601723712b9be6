/**
 * The Open Inference Protocol (KServe v2) without its transport: health, server and
 * model metadata, model readiness and inference over the server's one repository and
 * engine. The REST routes and the gRPC service are thin adapters over it: they decode
 * their wire format into an {@link InferCall}, and encode the {@link InferReply}.
 * Validation, version checks, deadlines and the per-frontend request metric live here
 * once, so both transports answer the same request with the same outputs and the same
 * error code.
 */
import {
  ErrorCode,
  PlaymindError,
  type Manifest,
  type RunOutput,
  type Tensor,
  type TensorSpec,
} from '../../sdk/index.js';
import { checkFeeds, toPlaymindError } from '../../sdk/runtime.js';
import { UNKNOWN_MODEL_LABEL, type Frontend } from '../metrics.js';
import type { ServerServices } from '../services.js';
import { KSERVE_DATATYPE, decodeContents, dtypeOf, invalidInput, type TensorContents } from './tensor-contents.js';

/** What the core needs to run a model: a manifest by name, and a run with fetches and a deadline. */
export interface TensorRunner {
  manifest(model: string): Promise<Manifest>;
  run(
    model: string,
    feeds: Record<string, Tensor>,
    options: { fetches?: readonly string[]; deadlineMs?: number },
  ): Promise<RunOutput>;
}

/** One input tensor of an {@link InferCall}, as the transport received it. */
export interface InferInput {
  readonly name: string;
  /** The KServe datatype name (`FP32`, `INT64`, ...). */
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly contents: TensorContents;
}

/** An inference request, transport-neutral. */
export interface InferCall {
  readonly model: string;
  /** A version the caller asks for; it must be the served one. */
  readonly version?: string;
  readonly id?: string;
  readonly inputs: readonly InferInput[];
  /** Outputs to return; all of the model's when omitted or empty. */
  readonly outputs?: readonly string[];
  /** The caller's own deadline in ms (capped at the server's `maxDeadlineMs`, its default). */
  readonly deadlineMs?: number;
}

/** One output of an {@link InferReply}. */
export interface InferOutput {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
  readonly tensor: Tensor;
}

/** An inference answer, transport-neutral. */
export interface InferReply {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  readonly outputs: InferOutput[];
}

/** KServe tensor metadata. */
export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/** KServe model metadata. */
export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** The limits every transport applies the same way. */
export const INFER_LIMITS = Object.freeze({
  /** Most input tensors in one request. */
  maxInputs: 64,
  /** Most requested outputs in one request. */
  maxOutputs: 64,
  /** Highest tensor rank. */
  maxRank: 8,
  /** Most elements in one tensor. */
  maxElements: 16 * 1024 * 1024,
});

/** Server identity, as `GET /v2` and gRPC ServerMetadata report it. */
export const SERVER_NAME = 'playmind';
export const SERVER_VERSION = '0.1.0';

/**
 * The protocol's operations on one server's services.
 * @example
 * const core = new OpenInference(services, { manifest: (m) => brain.model(m).manifest(), run: (m, f, o) => brain.model(m).run(f, o) }, { isDraining });
 * const reply = await core.infer({ model: 'npc-guard', inputs: [...] }, 'grpc');
 */
export class OpenInference {
  constructor(
    private readonly services: ServerServices,
    private readonly runner: TensorRunner,
    private readonly options: { isDraining(): boolean },
  ) {}

  /** Whether the server is ready for inference (false while draining). */
  serverReady(): boolean {
    return !this.options.isDraining();
  }

  /**
   * Whether a model (and, when given, that version) is being served.
   * @throws PlaymindError `unknown_model`
   */
  modelReady(name: string, version?: string): boolean {
    const state = this.services.repository.state(name);
    if (!state) throw unknownModel(name);
    return state.state === 'READY' && (version === undefined || String(state.served) === version);
  }

  /**
   * The model's metadata: versions on disk, platform, inputs and outputs with KServe datatypes.
   * @throws PlaymindError `unknown_model` for an unknown model or version
   */
  modelMetadata(name: string, version?: string): ModelMetadata {
    const { repository } = this.services;
    const state = repository.state(name);
    if (!state) throw unknownModel(name);
    if (version !== undefined && !state.versions.includes(Number(version)))
      throw new PlaymindError(
        ErrorCode.UNKNOWN_MODEL,
        `model "${name}" has no version ${version.slice(0, 20)} (versions: ${state.versions.join(', ')})`,
        { details: { model: name } },
      );
    const m = repository.get(name)?.manifest ?? repository.manifest(name);
    return {
      name,
      versions: state.versions.map(String),
      platform: 'onnxruntime_onnx',
      inputs: (m?.inputs ?? []).map(tensorMetadata),
      outputs: (m?.outputs ?? []).map(tensorMetadata),
    };
  }

  /**
   * Runs an inference request; counts it under `frontend` in `playmind_requests_total`.
   * @throws PlaymindError `unknown_model`, `model_unavailable`, `malformed_message` /
   *   `invalid_tensor` (naming the input), `overloaded`, `deadline_exceeded`, ...
   */
  async infer(call: InferCall, frontend: Frontend): Promise<InferReply> {
    const { repository, metrics, config, logger } = this.services;
    const name = call.model;
    const label = repository.has(name) ? name : UNKNOWN_MODEL_LABEL;
    try {
      const manifest = await this.runner.manifest(name);
      if (call.version !== undefined) {
        const served = repository.state(name)?.served;
        if (String(served) !== call.version)
          throw new PlaymindError(
            ErrorCode.MODEL_UNAVAILABLE,
            `model "${name}" version ${call.version.slice(0, 20)} is not served (serving ${served ?? 'none'})`,
            { details: { model: name } },
          );
      }
      const feeds = feedsOf(name, manifest, call.inputs);
      const fetches = fetchesOf(name, manifest, call.outputs);
      const deadlineMs = Math.min(config.maxDeadlineMs, Math.max(1, call.deadlineMs ?? config.maxDeadlineMs));
      const r = await this.runner.run(name, feeds, { fetches, deadlineMs });
      metrics.request(frontend, label, 'ok');
      return {
        model_name: name,
        model_version: r.model.slice(r.model.lastIndexOf('@') + 1),
        ...(call.id !== undefined && call.id !== '' ? { id: call.id } : {}),
        outputs: Object.entries(r.outputs).map(([n, t]) => ({
          name: n,
          datatype: KSERVE_DATATYPE[t.type],
          shape: [...t.dims],
          tensor: t,
        })),
      };
    } catch (err) {
      const e = toPlaymindError(err);
      metrics.request(frontend, label, e.code);
      if (!(err instanceof PlaymindError)) logger.error({ err, model: name, frontend }, 'infer failed');
      throw e;
    }
  }
}

function feedsOf(model: string, manifest: Manifest, inputs: readonly InferInput[]): Record<string, Tensor> {
  if (inputs.length === 0)
    throw new PlaymindError(ErrorCode.MALFORMED_MESSAGE, `${model}: a request needs at least one input`, {
      details: { model },
    });
  if (inputs.length > INFER_LIMITS.maxInputs)
    throw new PlaymindError(
      ErrorCode.MALFORMED_MESSAGE,
      `${model}: a request has at most ${INFER_LIMITS.maxInputs} inputs (got ${inputs.length})`,
      { details: { model } },
    );
  // No prototype: an input named "__proto__" is just an unknown input.
  const feeds = Object.create(null) as Record<string, Tensor>;
  const seen = new Set<string>();
  for (const input of inputs) {
    const invalid = invalidInput(model, input.name);
    if (input.name.length === 0)
      throw new PlaymindError(ErrorCode.INVALID_TENSOR, `${model}: each input needs a name`, { details: { model } });
    if (seen.has(input.name)) throw invalid('is given twice');
    seen.add(input.name);
    const { shape } = input;
    if (shape.length > INFER_LIMITS.maxRank || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw invalid(`'shape' must be at most ${INFER_LIMITS.maxRank} non-negative integers`);
    let size = 1;
    for (const d of shape) size *= d;
    if (size > INFER_LIMITS.maxElements || shape.some((d) => d > INFER_LIMITS.maxElements))
      throw invalid(`has too many elements (shape [${shape.join(', ')}], at most ${INFER_LIMITS.maxElements})`);
    const dtype = dtypeOf(input.datatype);
    if (dtype === undefined)
      throw invalid(
        `has an unknown datatype ${JSON.stringify(input.datatype.slice(0, 16))} (use ${Object.values(KSERVE_DATATYPE).join(', ')})`,
      );
    feeds[input.name] = { type: dtype, dims: [...shape], data: decodeContents(dtype, size, input.contents, invalid) };
  }
  checkFeeds(model, manifest.inputs, feeds);
  return { ...feeds };
}

function fetchesOf(model: string, manifest: Manifest, outputs: readonly string[] | undefined): string[] | undefined {
  if (outputs === undefined || outputs.length === 0) return undefined;
  if (outputs.length > INFER_LIMITS.maxOutputs)
    throw new PlaymindError(
      ErrorCode.MALFORMED_MESSAGE,
      `${model}: a request asks for at most ${INFER_LIMITS.maxOutputs} outputs (got ${outputs.length})`,
      { details: { model } },
    );
  for (const n of outputs)
    if (!manifest.outputs.some((x) => x.name === n))
      throw new PlaymindError(
        ErrorCode.INVALID_TENSOR,
        `${model}: unknown output "${n.slice(0, 128)}" (outputs: ${manifest.outputs.map((x) => x.name).join(', ')})`,
        { details: { model } },
      );
  return [...outputs];
}

function tensorMetadata(t: TensorSpec): TensorMetadata {
  return { name: t.name, datatype: KSERVE_DATATYPE[t.dtype], shape: [...t.shape] };
}

/** The `unknown_model` error (the name is cut to 128 characters). */
export function unknownModel(name: string): PlaymindError {
  return new PlaymindError(ErrorCode.UNKNOWN_MODEL, `no model named "${name.slice(0, 128)}"`, {
    details: { model: name.slice(0, 128) },
  });
}
