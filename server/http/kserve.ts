/**
 * KServe v2 REST (the Open Inference Protocol of KServe and Triton), a thin JSON
 * adapter over the transport-neutral core (`server/inference/open-inference.ts`,
 * shared with gRPC), which runs models through the server's brain:
 *
 * - `GET  /v2`, `/v2/health/live`, `/v2/health/ready`
 * - `GET  /v2/models/:name[/versions/:version]` (metadata, plus the repository's state)
 * - `GET  /v2/models/:name[/versions/:version]/ready`
 * - `POST /v2/models/:name[/versions/:version]/infer` (JSON tensors; the body's schema: `KserveInferBodySchema`;
 *   with `Inference-Header-Content-Length`, the binary tensor data extension: `kserve-binary.ts`)
 * - `POST /v2/repository/index`, `POST /v2/repository/models/:name/load|unload` (admin token)
 */
import { stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { ErrorCode, PlaymindError, type LoadFailure } from '../../sdk/index.js';
import { KserveInferBodySchema, confinedPath, parseMessage, type KserveInferBody } from '../../sdk/runtime.js';
import {
  INFER_LIMITS,
  SERVER_NAME,
  SERVER_VERSION,
  unknownModel,
  type InferCall,
  type OpenInference,
} from '../inference/open-inference.js';
import type { ServerServices } from '../services.js';
import { requireAdmin } from './admin-auth.js';
import {
  BINARY_CONTENT_TYPE,
  HEADER_CONTENT_LENGTH,
  binaryInputSlices,
  binaryOutputs,
  encodeInferReply,
  splitBinaryBody,
} from './kserve-binary.js';
import { publicText, sendError } from './errors.js';
import { deadlineOf, narrowDeadline } from './front-door.js';

const MODEL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;

/** Options of {@link kserveRouter}. */
export interface KserveOptions {
  /** The Open Inference core (health, metadata, inference) the routes adapt. */
  core: OpenInference;
}

/**
 * The KServe v2 routes.
 * @param services - the server's services
 * @param options - server state the health endpoints report
 */
export function kserveRouter(services: ServerServices, options: KserveOptions): Router {
  const { repository, config } = services;
  const { core } = options;
  const router = express.Router();
  const json = express.json({
    limit: Math.min(config.maxJsonBodyBytes, config.maxBodyBytes),
    strict: true,
    type: isJsonRequest,
  });
  const raw = express.raw({ limit: config.maxBodyBytes, type: () => true });
  // A binary-extension request is read as bytes (JSON header + tensors), any other as JSON
  // (only with a JSON content type, or none).
  const inferBody: express.RequestHandler = (req, res, next) => {
    if (req.headers[HEADER_CONTENT_LENGTH] !== undefined) return raw(req, res, next);
    if (!isJsonRequest(req))
      return sendError(res, notJson(req, '; binary tensors go with Inference-Header-Content-Length'), 415);
    return json(req, res, next);
  };
  const admin = requireAdmin(services);

  router.get('/v2', (_req, res) => {
    res.json({ name: SERVER_NAME, version: SERVER_VERSION, extensions: ['model_repository', 'binary_tensor_data'] });
  });
  router.get('/v2/health/live', (_req, res) => {
    res.json({ live: true });
  });
  router.get('/v2/health/ready', (_req, res) => {
    const ready = core.serverReady();
    res.status(ready ? 200 : 503).json({ ready });
  });

  const version = (req: Request) => (req.params.version === undefined ? undefined : String(req.params.version));
  const metadata = (req: Request, res: Response) => {
    const name = String(req.params.name);
    try {
      const meta = core.modelMetadata(name, version(req));
      const state = repository.state(name)!;
      res.json({
        ...meta,
        kind: state.kind,
        format: state.format,
        state: state.state,
        served: state.served,
        lastError: state.lastError && publicFailure(state.lastError),
        failures: state.failures.map(publicFailure),
        // Set when the served version answered NaN or Infinity at run time (those requests failed).
        nonFinite: state.nonFinite,
      });
    } catch (err) {
      sendError(res, err);
    }
  };
  router.get('/v2/models/:name', metadata);
  router.get('/v2/models/:name/versions/:version', metadata);

  const ready = (req: Request, res: Response) => {
    const name = String(req.params.name);
    try {
      const isReady = core.modelReady(name, version(req));
      const state = repository.state(name)!;
      res.status(isReady ? 200 : 503).json({ name, ready: isReady, state: state.state, served: state.served });
    } catch (err) {
      sendError(res, err);
    }
  };
  router.get('/v2/models/:name/ready', ready);
  router.get('/v2/models/:name/versions/:version/ready', ready);

  const infer = async (req: Request, res: Response) => {
    try {
      const name = String(req.params.name);
      const headerLength = req.headers[HEADER_CONTENT_LENGTH];
      const { body, binary } =
        headerLength === undefined
          ? { body: req.body as unknown, binary: undefined }
          : (() => {
              const split = splitBinaryBody(req.body as Buffer, String(headerLength));
              return { body: split.header, binary: split.binary };
            })();
      const parsed = parseMessage(KserveInferBodySchema, `${name}: infer body`, body);
      const timeout = requestTimeoutMs(parsed.parameters);
      if (timeout !== undefined) narrowDeadline(req, Date.now() + timeout);
      const deadlineAt = deadlineOf(req);
      const deadlineMs = deadlineAt === undefined ? timeout : deadlineAt - Date.now();
      if (deadlineMs !== undefined && deadlineMs <= 0)
        throw new PlaymindError(ErrorCode.DEADLINE_EXCEEDED, `${name}: the deadline passed before the body was read`);
      const reply = await core.infer(
        { ...inferCall(name, version(req), parsed, binary), ...(deadlineMs !== undefined ? { deadlineMs } : {}) },
        'kserve',
      );
      // The front door may have answered 504 meanwhile.
      if (res.headersSent) return;
      const out = encodeInferReply(reply, binaryOutputs(parsed));
      if ('json' in out) {
        res.json(out.json);
        return;
      }
      res.setHeader('Inference-Header-Content-Length', String(out.headerLength));
      res.type(BINARY_CONTENT_TYPE).send(out.body);
    } catch (err) {
      sendError(res, err);
    }
  };
  router.post('/v2/models/:name/infer', inferBody, infer);
  router.post('/v2/models/:name/versions/:version/infer', inferBody, infer);

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
        throw new PlaymindError(ErrorCode.UNKNOWN_MODEL, `no model folder "${name}" in the model repository`, {
          details: { model: name },
        });
      // A folder that is a symlink leading out of the repository is not followed.
      await confinedPath(repository.location, join(repository.location, name));
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

/** Whether a request's body is JSON by its content type: `application/json`, `application/*+json`, or none. */
export function isJsonRequest(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  if (type === undefined || type.trim() === '') return true;
  const mime = type.split(';')[0]!.trim().toLowerCase();
  return mime === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mime);
}

/** The `415` error of a body that is not JSON. */
export function notJson(req: IncomingMessage, hint = ''): PlaymindError {
  return new PlaymindError(
    ErrorCode.MALFORMED_MESSAGE,
    `the body must be JSON (Content-Type: application/json), got "${String(req.headers['content-type']).slice(0, 60)}"${hint}`,
  );
}

/** A load failure as unauthenticated callers see it: paths relative to the repository. */
function publicFailure(f: LoadFailure): LoadFailure {
  return { ...f, file: publicText(f.file), reason: publicText(f.reason) };
}

/**
 * The `timeout` a KServe request asks for in its `parameters` (microseconds, as Triton's
 * clients send it), in ms.
 * @throws PlaymindError `malformed_message` when it is not a positive number
 */
function requestTimeoutMs(parameters: Record<string, unknown> | undefined): number | undefined {
  const v = parameters?.timeout;
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new PlaymindError(
      ErrorCode.MALFORMED_MESSAGE,
      "'parameters.timeout' must be a positive number of microseconds",
    );
  return Math.max(1, Math.ceil(v / 1000));
}

/**
 * Turns a KServe v2 infer body into the core's call: JSON `data` (nested arrays flattened
 * row-major), or, for an input with `parameters.binary_data_size`, its slice of `binary`
 * (the bytes after the JSON header of a binary-extension request).
 * @throws PlaymindError `malformed_message` naming the field, `invalid_tensor` naming the input
 */
export function inferCall(
  model: string,
  version: string | undefined,
  body: KserveInferBody,
  binary?: Uint8Array,
): InferCall {
  const b = body;
  const slice = binaryInputSlices(model, b.inputs, binary ?? new Uint8Array(0));
  return {
    model,
    ...(version !== undefined ? { version } : {}),
    ...(b.id !== undefined ? { id: b.id } : {}),
    inputs: b.inputs.map((i, k) => {
      const bytes = slice(k);
      if (bytes !== undefined) {
        if (i.data !== undefined)
          throw new PlaymindError(
            ErrorCode.MALFORMED_MESSAGE,
            `${model}: input "${i.name.slice(0, 128)}" has both 'data' and 'parameters.binary_data_size'`,
            { details: { model, input: i.name.slice(0, 128) } },
          );
        return { name: i.name, datatype: i.datatype, shape: i.shape, contents: { raw: bytes } };
      }
      let size = 1;
      for (const d of i.shape) size *= d;
      const values = flatten(i.data, i.shape.length, Math.min(size, INFER_LIMITS.maxElements));
      if (!values)
        throw new PlaymindError(
          ErrorCode.INVALID_TENSOR,
          `${model}: input "${i.name.slice(0, 128)}" 'data' must be an array of ${size} values (flat or nested as shape [${i.shape.join(', ')}])`,
          { details: { model, input: i.name.slice(0, 128) } },
        );
      return { name: i.name, datatype: i.datatype, shape: i.shape, contents: { values } };
    }),
    ...(b.outputs !== undefined ? { outputs: b.outputs.map((o) => o.name) } : {}),
  };
}

/** Flattens row-major nested arrays (at most `rank` deep); null when not arrays of scalars or past `max` values. */
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
