/**
 * The HTTP front door: what every request goes through before Colyseus's router and the
 * express app see it, and before its body is read.
 *
 * - CORS: only for the server's own origin and the configured `--cors-origin`s, never on
 *   the admin routes (`/v2/repository/...`) or `/metrics`; preflights are answered here.
 *   (Colyseus's own handler would reflect any origin with credentials; it is turned off.)
 * - Body sizes by route, from `Content-Length`, before the body is read: an infer body
 *   over its limit (`--max-json-body` for JSON, `--max-body` with the binary tensor
 *   extension), any other body over 64 KiB, gets `413` and the connection closes; a
 *   chunked body is cut off the moment it passes its limit.
 * - Admission of inference requests (`POST .../infer`): bounded in flight per process
 *   and per client address ({@link Admission}); a request past either gets `503`/`429`
 *   with `Retry-After` before its body is read.
 * - Deadlines: an admitted inference request is answered within `--max-deadline-ms`
 *   of its arrival (or the `timeout` it asks for), by its answer or by `504`.
 *
 * Health, metadata and `/metrics` go through no admission: they stay prompt under any
 * inference load because admitted work is bounded.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode, PlaymindError } from '../../sdk/index.js';
import type { ServerConfig } from '../config.js';
import { RETRY_AFTER_SECONDS, type Admission, type Refusal } from '../inference/admission.js';
import type { Metrics } from '../metrics.js';
import { publicText, tooLarge } from './errors.js';
import { HEADER_CONTENT_LENGTH } from './kserve-binary.js';
import { originRule } from './origins.js';

/** Largest body of a route that is not an infer route (matchmaking, model control, rollouts). */
export const SMALL_BODY_BYTES = 64 * 1024;
/** Bodies up to this size are read off and dropped after a refusal (keeping the connection); larger ones close it. */
const DRAIN_BYTES = 64 * 1024;

const INFER_PATH = /^\/v2\/models\/[^/]+(?:\/versions\/[^/]+)?\/infer$/;
const NO_CORS_PATH = /^\/(?:v2\/repository(?:\/|$)|metrics$)/;

/** Each admitted inference request's deadline (ms since the epoch) and how to move its 504 backstop. */
const deadlines = new WeakMap<IncomingMessage, { at: number; arm(at: number): void }>();

/**
 * The time an inference request must be answered by, when the front door admitted it.
 * @returns ms since the epoch, or undefined for a request that did not come through it
 */
export function deadlineOf(req: IncomingMessage): number | undefined {
  return deadlines.get(req)?.at;
}

/**
 * Narrows an admitted request's deadline (a request may ask for less than the server's).
 * @param req - the request
 * @param deadlineAt - ms since the epoch
 */
export function narrowDeadline(req: IncomingMessage, deadlineAt: number): void {
  const d = deadlines.get(req);
  if (d !== undefined && deadlineAt < d.at) d.arm(deadlineAt);
}

/** What {@link installFrontDoor} needs. */
export interface FrontDoorOptions {
  config: ServerConfig;
  admission: Admission;
  metrics: Metrics;
}

/**
 * Puts the front door before the server's `request` listeners (install it once they are
 * all registered: after Colyseus's `listen`).
 * @param server - the HTTP server
 * @param options - the config, the admission control and the metrics
 */
export function installFrontDoor(server: Server, options: FrontDoorOptions): void {
  const inner = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  const handle = frontDoor(options);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (handle(req, res)) return;
    for (const l of inner) l.call(server, req, res);
  });
}

/** The front door as a function: true when it answered the request itself. */
export function frontDoor(options: FrontDoorOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { config, admission, metrics } = options;
  const originOf = originRule(config.corsOrigins);
  const jsonLimit = Math.min(config.maxJsonBodyBytes, config.maxBodyBytes);
  const refusals = new Map<Refusal, PlaymindError>();

  const cors = (req: IncomingMessage, path: string): Record<string, string> | null => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || NO_CORS_PATH.test(path)) return null;
    const verdict = originOf(origin, req.headers.host);
    if (verdict === 'refused' || verdict === 'none') return null;
    const listed = verdict !== 'any';
    return {
      'Access-Control-Allow-Origin': listed ? origin : '*',
      ...(listed ? { 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' } : {}),
      'Access-Control-Allow-Methods': 'GET, HEAD, POST',
      'Access-Control-Allow-Headers': 'Content-Type, Inference-Header-Content-Length',
      'Access-Control-Expose-Headers': 'Inference-Header-Content-Length, Retry-After',
      'Access-Control-Max-Age': '600',
    };
  };

  const refuse = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    err: PlaymindError,
    headers: Record<string, string>,
  ) => {
    const length = Number(req.headers['content-length'] ?? 0);
    const pending = req.headers['transfer-encoding'] !== undefined || !(length <= DRAIN_BYTES);
    const body = JSON.stringify({ error: publicText(err.message), code: err.code, details: err.details });
    res.writeHead(status, {
      ...headers,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      ...(status === 429 || status === 503 ? { 'Retry-After': String(RETRY_AFTER_SECONDS) } : {}),
      // An unread body that is not small is not read: the connection closes after the answer.
      ...(pending ? { Connection: 'close' } : {}),
    });
    if (pending) lingeringClose(req.socket);
    res.end(body);
    metrics.http('front_door', status);
  };

  return (req, res) => {
    const arrival = Date.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const corsHeaders = cors(req, path);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, corsHeaders ?? {});
      res.end();
      return true;
    }
    if (corsHeaders) for (const [k, v] of Object.entries(corsHeaders)) res.setHeader(k, v);

    const infer = req.method === 'POST' && INFER_PATH.test(path);
    const limit = infer
      ? req.headers[HEADER_CONTENT_LENGTH] !== undefined
        ? config.maxBodyBytes
        : jsonLimit
      : SMALL_BODY_BYTES;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      refuse(req, res, 413, tooLarge(limit, path), corsHeaders ?? {});
      return true;
    }
    if (declared === undefined && req.headers['transfer-encoding'] !== undefined)
      cutOffAt(req, res, limit, () => {
        refuse(req, res, 413, tooLarge(limit, path), corsHeaders ?? {});
      });

    if (!infer) return false;
    const ticket = admission.admit(req.socket.remoteAddress ?? '');
    if ('refused' in ticket) {
      // One error per kind of refusal: under overload most requests are refused, and an Error captures a stack.
      let err = refusals.get(ticket.refused);
      if (err === undefined) refusals.set(ticket.refused, (err = admission.error(ticket.refused)));
      refuse(req, res, ticket.refused === 'client' ? 429 : 503, err, corsHeaders ?? {});
      return true;
    }
    // The answer's backstop: a request still unanswered at its deadline gets 504.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const d = {
      at: arrival + config.maxDeadlineMs,
      arm(at: number) {
        d.at = at;
        clearTimeout(timer);
        timer = setTimeout(
          () => {
            if (res.headersSent) return;
            const err = new PlaymindError(
              ErrorCode.DEADLINE_EXCEEDED,
              `the request was not answered within its deadline (${d.at - arrival} ms after it arrived)`,
            );
            refuse(req, res, 504, err, corsHeaders ?? {});
          },
          Math.max(0, at - Date.now()) + 20,
        );
      },
    };
    d.arm(d.at);
    deadlines.set(req, d);
    res.once('close', () => {
      clearTimeout(timer);
      ticket.release();
    });
    return false;
  };
}

/**
 * Closes a connection whose client may still be sending a body the server will not read,
 * without losing the answer: a plain close with unread bytes makes the kernel reset the
 * connection, and a reset can discard the answer before the client reads it. The server
 * half-closes instead (FIN after the answer), drops what still arrives, and destroys the
 * socket when the client closes or after a second.
 * @param socket - the request's socket
 * @param now - half-close now (the answer, if any, is already written) instead of when Node would close it
 */
function lingeringClose(socket: Socket, now = false): void {
  const s = socket as Socket & { destroySoon?: () => void; playmindLingering?: boolean };
  if (s.playmindLingering) return;
  s.playmindLingering = true;
  const linger = () => {
    if (s.destroyed) return;
    if (s.writable) s.end();
    setTimeout(() => s.destroy(), 1000).unref();
  };
  if (now) linger();
  else s.destroySoon = linger;
}

/** Calls `over` (once) when a body without `Content-Length` passes `limit` bytes, and reads no more of it. */
function cutOffAt(req: IncomingMessage, res: ServerResponse, limit: number, over: () => void): void {
  const stream = req as unknown as { push(chunk: unknown, encoding?: BufferEncoding): boolean };
  const push = stream.push.bind(req);
  let bytes = 0;
  let cut = false;
  stream.push = (chunk, encoding) => {
    if (cut) return false;
    if (chunk !== null && chunk !== undefined) {
      bytes += (chunk as { length: number }).length;
      if (bytes > limit) {
        cut = true;
        if (!res.headersSent) over();
        else lingeringClose(req.socket, true);
        return false;
      }
    }
    return push(chunk, encoding);
  };
}
