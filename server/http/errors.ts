/**
 * HTTP errors: every error response is `{ error: message, code }` with one of the
 * shared {@link ErrorCode} values, and a status that fits the code.
 */
import type { ErrorRequestHandler, Response } from 'express';
import type pino from 'pino';
import { ErrorCode, PlaymindError, type ErrorCodeValue } from '../../sdk/index.js';
import { toPlaymindError } from '../../sdk/runtime.js';

/** The HTTP status of each error code. */
export const STATUS_OF: Record<ErrorCodeValue, number> = {
  [ErrorCode.INVALID_ARGUMENT]: 400,
  [ErrorCode.INVALID_OBSERVATION]: 400,
  [ErrorCode.INVALID_TENSOR]: 400,
  [ErrorCode.UNKNOWN_ACTION]: 400,
  [ErrorCode.WRONG_KIND]: 400,
  [ErrorCode.MALFORMED_MESSAGE]: 400,
  [ErrorCode.MANIFEST_INVALID]: 422,
  [ErrorCode.CONTRACT_MISMATCH]: 422,
  [ErrorCode.NON_FINITE_OUTPUT]: 500,
  [ErrorCode.MODEL_LOAD_FAILED]: 422,
  [ErrorCode.UNKNOWN_MODEL]: 404,
  [ErrorCode.MODEL_UNAVAILABLE]: 503,
  [ErrorCode.CLOSED]: 503,
  [ErrorCode.UNAVAILABLE]: 503,
  [ErrorCode.OVERLOADED]: 429,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.DEADLINE_EXCEEDED]: 504,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.UNAUTHORIZED]: 401,
  [ErrorCode.INVALID_SERVER_URL]: 400,
  [ErrorCode.UNKNOWN_HEURISTIC]: 422,
  [ErrorCode.MODELS_NOT_FOUND]: 500,
  [ErrorCode.RUNTIME_LOAD_FAILED]: 500,
  [ErrorCode.DEPENDENCY_MISSING]: 500,
  [ErrorCode.INTERNAL]: 500,
};

/** Folders whose absolute paths error messages never show (longest first), with what stands for them. */
let hidden: Array<readonly [string, string]> = [];

/**
 * Sets the folders whose absolute paths messages sent to callers hide: a path inside one
 * becomes relative to it (`/srv/models/npc-guard/manifest.json` → `npc-guard/manifest.json`),
 * the folder itself becomes its label. One server per process (Colyseus), so process-wide.
 * @param folders - absolute folder paths and their labels
 */
export function hidePaths(folders: ReadonlyArray<readonly [string, string]>): void {
  hidden = [...folders].filter(([p]) => p.length > 1).sort((a, b) => b[0].length - a[0].length);
}

/** A message (or any text sent to a caller) without the absolute paths of {@link hidePaths}. */
export function publicText(text: string): string {
  let out = text;
  for (const [path, label] of hidden) {
    if (!out.includes(path)) continue;
    out = out.split(`${path}/`).join('').split(path).join(label);
  }
  return out;
}

/** The JSON body of an error response. */
export interface HttpErrorBody {
  error: string;
  code: ErrorCodeValue;
  details?: Record<string, unknown>;
}

/**
 * Sends a typed error.
 * @param res - the response
 * @param err - a PlaymindError (anything else becomes `internal`)
 * @param status - overrides the status the code maps to
 */
export function sendError(res: Response, err: unknown, status?: number): void {
  if (res.headersSent) return;
  const e = toPlaymindError(err);
  const body: HttpErrorBody = { error: publicText(e.message), code: e.code };
  const details = plainDetails(e.details);
  if (details) body.details = details;
  const s = status ?? STATUS_OF[e.code] ?? 500;
  if ((s === 429 || s === 503) && !res.hasHeader('Retry-After')) res.setHeader('Retry-After', '1');
  res.status(s).json(body);
}

/**
 * The `payload_too_large` error of a body over `limit` bytes; for an infer route it names
 * the binary tensor extension, which carries large batches as raw bytes.
 */
export function tooLarge(limit: number | null, path: string): PlaymindError {
  const infer = /\/infer$/.test(path);
  return new PlaymindError(
    ErrorCode.PAYLOAD_TOO_LARGE,
    `request body is larger than ${limit ?? 'the limit'} bytes` +
      (infer
        ? '; send large batches as binary tensors (KServe binary tensor data extension: Inference-Header-Content-Length, parameters.binary_data_size), or split them'
        : ''),
    { details: { limit } },
  );
}

/** Details safe to send: plain values only. */
function plainDetails(details: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) {
    if (typeof v === 'string') out[k] = publicText(v);
    else if (v === null || ['number', 'boolean'].includes(typeof v)) out[k] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The last middleware: body-parser errors (413, bad JSON) and anything thrown become
 * typed JSON errors; unexpected ones are logged.
 */
export function errorHandler(logger: pino.Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const e = err as { type?: string; status?: number; message?: string; limit?: number };
    if (e && e.type === 'entity.too.large') {
      // The rest of the body is not read: the connection closes after the answer.
      res.setHeader('Connection', 'close');
      sendError(res, tooLarge(e.limit ?? null, req.path), 413);
      return;
    }
    if (
      (e && typeof e.type === 'string' && e.type.startsWith('entity.')) ||
      (e && e.type === 'encoding.unsupported') ||
      (e && e.type === 'charset.unsupported')
    ) {
      sendError(
        res,
        new PlaymindError(ErrorCode.MALFORMED_MESSAGE, `request body cannot be read: ${e.message ?? 'bad body'}`),
        e.status ?? 400,
      );
      return;
    }
    if (err instanceof SyntaxError || (e && e.type === 'entity.parse.failed')) {
      sendError(
        res,
        new PlaymindError(ErrorCode.MALFORMED_MESSAGE, `request body is not valid JSON: ${e.message ?? ''}`),
        400,
      );
      return;
    }
    if (err instanceof PlaymindError) {
      sendError(res, err);
      return;
    }
    if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      sendError(res, new PlaymindError(ErrorCode.MALFORMED_MESSAGE, e.message ?? 'bad request'), e.status);
      return;
    }
    logger.error({ err, method: req.method, url: req.originalUrl.slice(0, 200) }, 'http: unexpected error');
    sendError(res, new PlaymindError(ErrorCode.INTERNAL, 'internal error'), 500);
  };
}
