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
  [ErrorCode.INTERNAL]: 500,
};

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
  const e = toPlaymindError(err);
  const body: HttpErrorBody = { error: e.message, code: e.code };
  const details = plainDetails(e.details);
  if (details) body.details = details;
  const s = status ?? STATUS_OF[e.code] ?? 500;
  if (s === 429) res.setHeader('Retry-After', '1');
  res.status(s).json(body);
}

/** Details safe to send: plain values only. */
function plainDetails(details: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) {
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[k] = v;
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
      sendError(
        res,
        new PlaymindError(ErrorCode.PAYLOAD_TOO_LARGE, `request body is larger than ${e.limit ?? 'the limit'} bytes`, {
          details: { limit: e.limit ?? null },
        }),
        413,
      );
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
