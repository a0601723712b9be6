/**
 * The admin token check of model-control endpoints: `Authorization: Bearer <ADMIN_TOKEN>`.
 * No token configured means the admin endpoints are off (403).
 *
 * Failures are throttled per client address: each address may fail
 * {@link ADMIN_FAILURE_BURST} times, then once per {@link ADMIN_FAILURE_REFILL_MS}; past
 * that every admin request from it (the right token too, so guessing learns nothing) gets
 * `429` with `Retry-After` until it may try again. The throttle is per server.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ErrorCode, PlaymindError } from '../../sdk/index.js';
import type { ServerServices } from '../services.js';
import { sendError } from './errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Failed admin attempts an address may make at once. */
export const ADMIN_FAILURE_BURST = 10;
/** One more failed attempt is allowed every this many ms. */
export const ADMIN_FAILURE_REFILL_MS = 1000;
/** Addresses remembered at most (the oldest are forgotten first). */
const MAX_ADDRESSES = 10_000;

/** Failure buckets per address (token bucket: `tokens` failures left at time `at`). */
class FailureThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  private bucket(address: string, now: number): { tokens: number; at: number } {
    const b = this.buckets.get(address) ?? { tokens: ADMIN_FAILURE_BURST, at: now };
    b.tokens = Math.min(ADMIN_FAILURE_BURST, b.tokens + (now - b.at) / ADMIN_FAILURE_REFILL_MS);
    b.at = now;
    return b;
  }

  /** Seconds until `address` may try again, or 0 when it may now. */
  blockedFor(address: string, now = Date.now()): number {
    if (!this.buckets.has(address)) return 0;
    const b = this.bucket(address, now);
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) * ADMIN_FAILURE_REFILL_MS) / 1000);
  }

  /** Counts a failure of `address`. */
  failed(address: string, now = Date.now()): void {
    const b = this.bucket(address, now);
    b.tokens = Math.max(0, b.tokens - 1);
    this.buckets.delete(address);
    this.buckets.set(address, b);
    if (this.buckets.size > MAX_ADDRESSES) this.buckets.delete(this.buckets.keys().next().value!);
  }
}

const throttles = new WeakMap<ServerServices, FailureThrottle>();

/**
 * Middleware requiring the admin bearer token.
 * @param services - the server's services (its `config.adminToken`; unset = admin endpoints off)
 * @returns 403 when no token is configured, 401 when the request's token is missing or
 *   wrong, 429 when its address failed too often
 */
export function requireAdmin(services: ServerServices): RequestHandler {
  const token = services.config.adminToken;
  const expected = token === undefined ? undefined : digest(token);
  let throttle = throttles.get(services);
  if (!throttle) throttles.set(services, (throttle = new FailureThrottle()));
  const t = throttle;
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
    const address = req.socket.remoteAddress ?? '';
    const wait = t.blockedFor(address);
    if (wait > 0) {
      services.metrics.adminRefused('throttled');
      res.setHeader('Retry-After', String(wait));
      sendError(
        res,
        new PlaymindError(
          ErrorCode.RATE_LIMITED,
          `too many failed admin attempts from this address; retry after ${wait} s`,
        ),
        429,
      );
      return;
    }
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
      t.failed(address);
      services.metrics.adminRefused('wrong');
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
