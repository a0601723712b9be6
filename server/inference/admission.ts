/**
 * Admission control of the inference frontends (KServe REST and gRPC share it): a bound
 * on the requests in flight in this process and on those of each client address. A
 * request past either bound is refused at once, before its body is read (REST) or before
 * it reaches the engine (gRPC), so the requests that are admitted keep the latency they
 * have at capacity instead of queueing behind an unbounded backlog: under overload the
 * server answers the requests it can within their deadline and sheds the rest fast
 * (`429` for a client over its share, `503` when the process is full, both with
 * `Retry-After`).
 */
import { ErrorCode, PlaymindError } from '../../sdk/index.js';

/** The bounds. */
export interface AdmissionLimits {
  /** Requests in flight in this process (all clients, REST and gRPC). */
  maxInflight: number;
  /** Requests in flight per client address. */
  maxInflightPerClient: number;
}

/**
 * Why a request was refused: `client` over its share (429), `server` full (503), `draining`
 * (503: the server is shutting down and takes no new requests; those in flight are answered).
 */
export type Refusal = 'client' | 'server' | 'draining';

/** An admitted request: release it once it is answered (releasing twice does nothing). */
export interface Ticket {
  release(): void;
}

/** Hooks of an {@link Admission} (the server's metrics). */
export interface AdmissionObserver {
  decision?(outcome: 'admitted' | 'client_limit' | 'server_limit' | 'draining'): void;
  inflight?(count: number): void;
}

/** Seconds a refused client is told to wait (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 1;

/**
 * Counts in-flight requests, per process and per client.
 * @example
 * const t = admission.admit(req.socket.remoteAddress ?? '');
 * if ('refused' in t) return reply(admission.error(t.refused));
 * res.once('close', () => t.release());
 */
export class Admission {
  private inflightCount = 0;
  private readonly perClient = new Map<string, number>();
  private idleWaiters: Array<() => void> = [];
  private draining = false;

  /**
   * @param limits - the bounds
   * @param observer - told of each decision and of the count in flight after each change (metrics)
   */
  constructor(
    readonly limits: AdmissionLimits,
    private readonly observer: AdmissionObserver = {},
  ) {}

  /** Requests in flight now. */
  get inflight(): number {
    return this.inflightCount;
  }

  /** Clients with a request in flight now. */
  get clients(): number {
    return this.perClient.size;
  }

  /**
   * Admits a request of a client, or says why not.
   * @param address - the client's address
   */
  admit(address: string): Ticket | { refused: Refusal } {
    // IPv4 clients of a dual-stack listener come as ::ffff:a.b.c.d
    const client = address.startsWith('::ffff:') ? address.slice(7) : address;
    if (this.draining) {
      this.observer.decision?.('draining');
      return { refused: 'draining' };
    }
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.limits.maxInflightPerClient) {
      this.observer.decision?.('client_limit');
      return { refused: 'client' };
    }
    if (this.inflightCount >= this.limits.maxInflight) {
      this.observer.decision?.('server_limit');
      return { refused: 'server' };
    }
    this.inflightCount++;
    this.perClient.set(client, mine + 1);
    this.observer.decision?.('admitted');
    this.observer.inflight?.(this.inflightCount);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.inflightCount--;
        const n = (this.perClient.get(client) ?? 1) - 1;
        if (n <= 0) this.perClient.delete(client);
        else this.perClient.set(client, n);
        this.observer.inflight?.(this.inflightCount);
        if (this.inflightCount === 0) for (const w of this.idleWaiters.splice(0)) w();
      },
    };
  }

  /** Refuses every new request from now on (`draining`); those admitted are still answered. */
  drain(): void {
    this.draining = true;
  }

  /** Resolves once no request is in flight. */
  idle(): Promise<void> {
    if (this.inflightCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The typed error of a refusal: `rate_limited` (HTTP 429), `overloaded` or `unavailable` (draining), sent as 503. */
  error(refused: Refusal): PlaymindError {
    if (refused === 'draining')
      return new PlaymindError(
        ErrorCode.UNAVAILABLE,
        'the server is draining (shutting down): it takes no new requests; retry on another server',
        { details: { draining: true, retryAfterSeconds: RETRY_AFTER_SECONDS } },
      );
    return refused === 'client'
      ? new PlaymindError(
          ErrorCode.RATE_LIMITED,
          `too many requests in flight from this client (at most ${this.limits.maxInflightPerClient}); retry after ${RETRY_AFTER_SECONDS} s`,
          { details: { limit: this.limits.maxInflightPerClient, retryAfterSeconds: RETRY_AFTER_SECONDS } },
        )
      : new PlaymindError(
          ErrorCode.OVERLOADED,
          `the server is at capacity (${this.limits.maxInflight} requests in flight); retry after ${RETRY_AFTER_SECONDS} s`,
          { details: { limit: this.limits.maxInflight, retryAfterSeconds: RETRY_AFTER_SECONDS } },
        );
  }
}
