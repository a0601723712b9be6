/**
 * The admin token check of model-control endpoints: `Authorization: Bearer <ADMIN_TOKEN>`.
 * No token configured means the admin endpoints are off (403).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ErrorCode, PlaymindError } from '../../sdk/index.js';
import { sendError } from './errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Middleware requiring the admin bearer token.
 * @param token - the configured ADMIN_TOKEN, or undefined (admin endpoints off)
 * @returns 403 when no token is configured, 401 when the request's token is missing or wrong
 */
export function requireAdmin(token: string | undefined): RequestHandler {
  const expected = token === undefined ? undefined : digest(token);
  return (req, res, next) => {
    if (!expected) {
      sendError(
        res,
        new PlaymindError(
          ErrorCode.UNAUTHORIZED,
          'admin endpoints are off: start the server with ADMIN_TOKEN set to enable model control',
        ),
        403,
      );
      return;
    }
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="playmind-admin"');
      sendError(
        res,
        new PlaymindError(
          ErrorCode.UNAUTHORIZED,
          m ? 'the admin token is wrong' : "model control needs 'Authorization: Bearer <ADMIN_TOKEN>'",
        ),
        401,
      );
      return;
    }
    next();
  };
}
