/**
 * KServe v2 REST (the Open Inference Protocol of KServe and Triton), over the
 * server's one repository and engine:
 *
 * - `GET  /v2`, `/v2/health/live`, `/v2/health/ready`
 * - `GET  /v2/models/:name[/versions/:version]` (metadata, plus the repository's state)
 * - `GET  /v2/models/:name[/versions/:version]/ready`
 * - `POST /v2/models/:name[/versions/:version]/infer` (JSON tensors)
 * - `POST /v2/repository/index`, `POST /v2/repository/models/:name/load|unload` (admin token)
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import {
  ErrorCode,
  PlaymindError,
  type DType,
  type Manifest,
  type Tensor,
  type TensorData,
  type TensorSpec,
} from '../../sdk/index.js';
import { UNKNOWN_MODEL_LABEL } from '../metrics.js';
import type { ServerServices } from '../services.js';
import { requireAdmin } from './admin-auth.js';
import { sendError } from './errors.js';

/** KServe datatype names of each dtype. */
export const KSERVE_DATATYPE: Record<DType, string> = {
  float32: 'FP32',
  float64: 'FP64',
  float16: 'FP16',
  int8: 'INT8',
  uint8: 'UINT8',
  int16: 'INT16',
  uint16: 'UINT16',
  int32: 'INT32',
  uint32: 'UINT32',
  int64: 'INT64',
  uint64: 'UINT64',
  bool: 'BOOL',
  string: 'BYTES',
};
const DTYPE_OF: Record<string, DType> = Object.fromEntries(
  Object.entries(KSERVE_DATATYPE).map(([d, k]) => [k, d as DType]),
);

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};
const NUMERIC_CTOR: Partial<
  Record<DType, new (n: number) => Exclude<TensorData, string[] | BigInt64Array | BigUint64Array>>
> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
};
const MODEL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;
const MAX_ELEMENTS = 16 * 1024 * 1024;

/** Options of {@link kserveRouter}. */
export interface KserveOptions {
  /** Whether the server is draining (ready turns false). */
  isDraining(): boolean;
}

/** One input of an infer request. */
interface InferInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown;
}

/**
 * The KServe v2 routes.
 * @param services - the server's services
 * @param options - server state the health endpoints report
 */
export function kserveRouter(services: ServerServices, options: KserveOptions): Router {
  const { repository, metrics, config, brain } = services;
  const router = express.Router();
  const json = express.json({ limit: config.maxBodyBytes, strict: true, type: () => true });
  const admin = requireAdmin(config.adminToken);

  router.get('/v2', (_req, res) => {
    res.json({ name: 'playmind', version: '0.1.0', extensions: ['model_repository'] });
  });
  router.get('/v2/health/live', (_req, res) => {
    res.json({ live: true });
  });
  router.get('/v2/health/ready', (_req, res) => {
    const ready = !options.isDraining();
    res.status(ready ? 200 : 503).json({ ready });
  });

  const metadata = (req: Request, res: Response) => {
    const name = String(req.params.name);
    const state = repository.state(name);
    if (!state) {
      sendError(res, unknownModel(name));
      return;
    }
    if (req.params.version !== undefined && !state.versions.includes(Number(req.params.version))) {
      sendError(
        res,
        new PlaymindError(
          ErrorCode.UNKNOWN_MODEL,
          `model "${name}" has no version ${String(req.params.version).slice(0, 20)} (versions: ${state.versions.join(', ')})`,
        ),
      );
      return;
    }
    const m = repository.get(name)?.manifest ?? repository.manifest(name);
    res.json({
      name,
      versions: state.versions.map(String),
      platform: 'onnxruntime_onnx',
      inputs: (m?.inputs ?? []).map(tensorMeta),
      outputs: (m?.outputs ?? []).map(tensorMeta),
      kind: state.kind,
      format: state.format,
      state: state.state,
      served: state.served,
      lastError: state.lastError,
      failures: state.failures,
    });
  };
  router.get('/v2/models/:name', metadata);
  router.get('/v2/models/:name/versions/:version', metadata);

  const ready = (req: Request, res: Response) => {
    const name = String(req.params.name);
    const state = repository.state(name);
    if (!state) {
      sendError(res, unknownModel(name));
      return;
    }
    const isReady =
      state.state === 'READY' && (req.params.version === undefined || String(state.served) === req.params.version);
    res.status(isReady ? 200 : 503).json({ name, ready: isReady, state: state.state, served: state.served });
  };
  router.get('/v2/models/:name/ready', ready);
  router.get('/v2/models/:name/versions/:version/ready', ready);

  const infer = async (req: Request, res: Response) => {
    const name = String(req.params.name);
    const label = repository.has(name) ? name : UNKNOWN_MODEL_LABEL;
    try {
      const body: unknown = req.body;
      const model = brain.model(name);
      const manifest = await model.manifest();
      if (req.params.version !== undefined) {
        const served = repository.state(name)?.served;
        if (String(served) !== req.params.version) {
          throw new PlaymindError(
            ErrorCode.MODEL_UNAVAILABLE,
            `model "${name}" version ${String(req.params.version).slice(0, 20)} is not served (serving ${served ?? 'none'})`,
            { details: { model: name } },
          );
        }
      }
      const { feeds, fetches, id } = parseInferRequest(name, manifest, body);
      const r = await model.run(feeds, { fetches, deadlineMs: config.maxDeadlineMs });
      const [, version] = r.model.split('@');
      metrics.request('kserve', label, 'ok');
      res.json({
        model_name: name,
        model_version: version,
        ...(id !== undefined ? { id } : {}),
        outputs: Object.entries(r.outputs).map(([n, t]) => ({
          name: n,
          datatype: KSERVE_DATATYPE[t.type],
          shape: [...t.dims],
          data: jsonData(t),
        })),
      });
    } catch (err) {
      metrics.request('kserve', label, err instanceof PlaymindError ? err.code : ErrorCode.INTERNAL);
      if (!(err instanceof PlaymindError)) services.logger.error({ err, model: name }, 'kserve: infer failed');
      sendError(res, err);
    }
  };
  router.post('/v2/models/:name/infer', json, infer);
  router.post('/v2/models/:name/versions/:version/infer', json, infer);

  // Model control (the model_repository extension), behind the admin token.
  router.post('/v2/repository/index', admin, (_req, res) => {
    res.json(
      repository.list().map((s) => ({
        name: s.name,
        version: s.served === null ? undefined : String(s.served),
        state: s.state,
        reason: s.lastError?.reason ?? '',
      })),
    );
  });
  router.post('/v2/repository/models/:name/load', admin, async (req, res) => {
    const name = String(req.params.name);
    try {
      if (!MODEL_NAME.test(name) || name.length > 128)
        throw new PlaymindError(
          ErrorCode.INVALID_ARGUMENT,
          `invalid model name "${name.slice(0, 128)}": use letters, digits, ".", "_" and "-"`,
        );
      const dir = await stat(join(repository.location, name)).catch(() => null);
      if (!dir?.isDirectory())
        throw new PlaymindError(ErrorCode.UNKNOWN_MODEL, `no model folder "${name}" in ${repository.location}`, {
          details: { model: name },
        });
      const v = await repository.load(name);
      services.logger.info({ model: name, version: v.version }, 'model loaded by model control');
      res.json({ name, version: String(v.version), state: 'READY' });
    } catch (err) {
      sendError(res, err);
    }
  });
  router.post('/v2/repository/models/:name/unload', admin, async (req, res) => {
    const name = String(req.params.name);
    try {
      if (!repository.has(name)) throw unknownModel(name);
      await repository.unload(name);
      services.logger.info({ model: name }, 'model unloaded by model control');
      res.json({ name, state: 'UNLOADED' });
    } catch (err) {
      sendError(res, err);
    }
  });
  return router;
}

function unknownModel(name: string): PlaymindError {
  return new PlaymindError(ErrorCode.UNKNOWN_MODEL, `no model named "${name.slice(0, 128)}"`, {
    details: { model: name.slice(0, 128) },
  });
}

function tensorMeta(t: TensorSpec): { name: string; datatype: string; shape: number[] } {
  return { name: t.name, datatype: KSERVE_DATATYPE[t.dtype], shape: [...t.shape] };
}

/**
 * Turns a KServe v2 JSON infer request into feeds (checked against the manifest by the
 * brain when they run) and the outputs it asks for.
 * @throws PlaymindError `malformed_message` or `invalid_tensor` naming the input
 */
export function parseInferRequest(
  model: string,
  manifest: Manifest,
  body: unknown,
): { feeds: Record<string, Tensor>; fetches?: string[]; id?: string } {
  const malformed = (why: string) =>
    new PlaymindError(ErrorCode.MALFORMED_MESSAGE, `${model}: ${why}`, { details: { model } });
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw malformed('the body must be a JSON object { inputs: [...] }');
  const b = body as { id?: unknown; inputs?: unknown; outputs?: unknown };
  if (b.id !== undefined && typeof b.id !== 'string') throw malformed("'id' must be a string");
  if (!Array.isArray(b.inputs) || b.inputs.length === 0) throw malformed("'inputs' must be a non-empty array");
  if (b.inputs.length > 64) throw malformed("'inputs' has too many entries");
  const feeds: Record<string, Tensor> = Object.create(null) as Record<string, Tensor>;
  for (const raw of b.inputs as unknown[]) {
    const t = parseInput(model, raw);
    if (t.name in feeds)
      throw new PlaymindError(ErrorCode.INVALID_TENSOR, `${model}: input "${t.name}" is given twice`);
    feeds[t.name] = t.tensor;
  }
  let fetches: string[] | undefined;
  if (b.outputs !== undefined) {
    if (!Array.isArray(b.outputs) || b.outputs.length > 64) throw malformed("'outputs' must be an array of { name }");
    fetches = (b.outputs as unknown[]).map((o) => {
      const n = o && typeof o === 'object' ? (o as { name?: unknown }).name : undefined;
      if (typeof n !== 'string') throw malformed("each of 'outputs' must be { name: string }");
      if (!manifest.outputs.some((x) => x.name === n))
        throw new PlaymindError(
          ErrorCode.INVALID_TENSOR,
          `${model}: unknown output "${n.slice(0, 128)}" (outputs: ${manifest.outputs.map((x) => x.name).join(', ')})`,
        );
      return n;
    });
    if (fetches.length === 0) fetches = undefined;
  }
  return { feeds: { ...feeds }, fetches, id: b.id as string | undefined };
}

function parseInput(model: string, raw: unknown): { name: string; tensor: Tensor } {
  const invalid = (why: string, input?: string) =>
    new PlaymindError(
      ErrorCode.INVALID_TENSOR,
      `${model}: ${input !== undefined ? `input "${input.slice(0, 128)}" ` : ''}${why}`,
      { details: { model, ...(input !== undefined ? { input: input.slice(0, 128) } : {}) } },
    );
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw invalid('each input must be an object { name, shape, datatype, data }');
  const { name, shape, datatype, data } = raw as Partial<InferInput>;
  if (typeof name !== 'string' || name.length === 0) throw invalid("each input needs a 'name'");
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw invalid("'shape' must be an array of non-negative integers", name);
  const size = shape.reduce((a: number, d: number) => a * d, 1);
  if (size > MAX_ELEMENTS) throw invalid(`has too many elements (${size})`, name);
  if (typeof datatype !== 'string' || !(datatype in DTYPE_OF))
    throw invalid(
      `has an unknown datatype ${JSON.stringify(String(datatype).slice(0, 16))} (use ${Object.values(KSERVE_DATATYPE).join(', ')})`,
      name,
    );
  const dtype = DTYPE_OF[datatype]!;
  const flat = flatten(data, shape.length, size);
  if (!flat)
    throw invalid(`'data' must be an array of ${size} values (flat or nested as shape [${shape.join(', ')}])`, name);
  if (flat.length !== size)
    throw invalid(`has ${flat.length} values for shape [${shape.join(', ')}] (expected ${size})`, name);
  return { name, tensor: { type: dtype, dims: shape, data: convert(flat, dtype, (why) => invalid(why, name)) } };
}

/** Flattens row-major nested arrays (at most `rank` deep); null when not arrays of scalars or too large. */
function flatten(data: unknown, rank: number, max: number): unknown[] | null {
  if (!Array.isArray(data)) return null;
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (v: unknown[], depth: number): boolean => {
    for (const x of v) {
      if (Array.isArray(x)) {
        if (depth >= rank || !walk(x, depth + 1)) return false;
      } else {
        out.push(x);
        if (out.length > max) return false;
      }
    }
    return true;
  };
  return walk(data, 1) ? out : null;
}

function convert(values: unknown[], dtype: DType, invalid: (why: string) => PlaymindError): TensorData {
  if (dtype === 'string') {
    if (!values.every((v) => typeof v === 'string')) throw invalid('BYTES data must be strings');
    return values as string[];
  }
  if (dtype === 'bool') {
    const out = new Uint8Array(values.length);
    values.forEach((v, i) => {
      if (typeof v !== 'boolean' && v !== 0 && v !== 1) throw invalid(`BOOL value ${i} must be true or false`);
      out[i] = v ? 1 : 0;
    });
    return out;
  }
  if (dtype === 'int64' || dtype === 'uint64') {
    const out = dtype === 'int64' ? new BigInt64Array(values.length) : new BigUint64Array(values.length);
    values.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || (dtype === 'uint64' && v < 0))
        throw invalid(
          `${KSERVE_DATATYPE[dtype]} value ${i} must be a ${dtype === 'uint64' ? 'non-negative ' : ''}safe integer`,
        );
      out[i] = BigInt(v);
    });
    return out;
  }
  const C = NUMERIC_CTOR[dtype];
  if (!C) throw invalid(`datatype ${KSERVE_DATATYPE[dtype]} is not supported over JSON`);
  const out = new C(values.length);
  const range = INT_RANGE[dtype];
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`value ${i} must be a finite number`);
    if (range && (!Number.isInteger(v) || v < range[0] || v > range[1]))
      throw invalid(`${KSERVE_DATATYPE[dtype]} value ${i} must be an integer in [${range[0]}, ${range[1]}]`);
    out[i] = v;
  });
  return out;
}

/** Tensor data as JSON values (int64 as numbers). */
function jsonData(t: Tensor): unknown[] {
  if (Array.isArray(t.data)) return t.data;
  if (t.data instanceof BigInt64Array || t.data instanceof BigUint64Array) return Array.from(t.data, Number);
  if (t.type === 'bool') return Array.from(t.data as Uint8Array, (x) => x !== 0);
  return Array.from(t.data as ArrayLike<number>);
}
