/**
 * A byte budget per client of a room: every WebSocket message a client sends is
 * weighed (its bytes) by a token bucket (bytes/s with a burst) before Colyseus
 * decodes it. A message past the budget is dropped unread; a client that keeps
 * exceeding it (more than its burst dropped within a second) is told and closed.
 *
 * @module
 */
import type { Client } from '@colyseus/core';
import { ErrorCode, type WireError } from '../../sdk/index.js';
import { RateLimiter, type RateVerdict } from './rate-limiter.js';

/** A room's byte budget per client. */
export interface ByteBudgetOptions {
  /** Bytes a client may send per second (refill). */
  bytesPerSec: number;
  /** Bytes a client may send in a burst (at least its largest accepted message). */
  burstBytes: number;
}

/** What the room is told when a client's message is over budget. */
export type ByteVerdict = Exclude<RateVerdict, 'ok'>;

/** The size of a `ws` message event's payload. */
function sizeOf(data: unknown): number {
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (Array.isArray(data)) return data.reduce((n: number, d: unknown) => n + sizeOf(d), 0);
  if (typeof data === 'string') return Buffer.byteLength(data);
  return 0;
}

/** The byte buckets of one room's clients. */
export class ByteBudget {
  private readonly limiter: RateLimiter;

  /**
   * @param options - the budget
   * @throws RangeError naming a limit that is not > 0
   */
  constructor(readonly options: Readonly<ByteBudgetOptions>) {
    this.limiter = new RateLimiter({
      ratePerSec: options.bytesPerSec,
      burst: options.burstBytes,
      floodDropsPerSec: options.burstBytes,
    });
  }

  /** The typed notice a client gets for a verdict (`dropped` gets none: it was told this second). */
  notice(verdict: ByteVerdict, bytes: number): WireError | null {
    const { bytesPerSec, burstBytes } = this.options;
    if (verdict === 'flood')
      return {
        code: ErrorCode.RATE_LIMITED,
        message: `disconnected: sustained traffic over ${bytesPerSec} bytes/s`,
        details: { disconnect: true, bytesPerSec, burstBytes },
      };
    if (verdict === 'dropped') return null;
    return {
      code: ErrorCode.RATE_LIMITED,
      message: `byte rate limit: at most ${bytesPerSec} bytes/s (burst ${burstBytes}); a message of ${bytes} bytes was dropped unread`,
      details: { bytesPerSec, burstBytes, bytes },
    };
  }

  /**
   * Weighs every message `client` sends before the room decodes it: within budget it
   * passes; otherwise it is dropped and `onOver` is called (`limited`: first drop this
   * second; `dropped`; `flood`: the client keeps exceeding the budget, close it).
   * Call from `onJoin` (Colyseus attaches its own message listener after it).
   */
  watch(client: Client, onOver: (verdict: ByteVerdict, notice: WireError | null) => void): void {
    const ws = client.ref as unknown as { emit?: (event: string | symbol, ...args: unknown[]) => boolean } | undefined;
    if (!ws || typeof ws.emit !== 'function') return;
    const emit = ws.emit.bind(ws);
    const id = client.sessionId;
    let cut = false;
    ws.emit = (event: string | symbol, ...args: unknown[]): boolean => {
      if (event !== 'message') return emit(event, ...args);
      if (cut) return true; // closing: nothing more is read
      const bytes = sizeOf(args[0]);
      const verdict = this.limiter.take(id, performance.now(), bytes);
      if (verdict === 'ok') return emit(event, ...args);
      if (verdict === 'flood') cut = true;
      onOver(verdict, this.notice(verdict, bytes));
      return true;
    };
  }

  /** Forgets a client (on leave). */
  forget(client: Client): void {
    this.limiter.forget(client.sessionId);
  }
}
