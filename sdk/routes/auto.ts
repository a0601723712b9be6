/**
 * The auto route: prefers the server, answers locally when the server is
 * unreachable, slower than the deadline or overloaded, and goes back to the server
 * once it answers again (probed in the background, so no call waits on a probe).
 */
import type { Manifest } from '../contract/manifest.js';
import type { Tensor } from '../engine/backend.js';
import type { Decision, PolicyBatch } from '../engine/policy.js';
import type { Recommendation, RecommendRequest } from '../engine/recommender.js';
import { ErrorCode, PlaymindError } from '../protocol.js';
import type { Route, RouteName, RunOutput, TensorRunOptions } from './route.js';

/** Errors after which the local route answers instead of the server. */
const SERVER_UNAVAILABLE: ReadonlySet<string> = new Set([
  ErrorCode.UNAVAILABLE,
  ErrorCode.DEADLINE_EXCEEDED,
  ErrorCode.OVERLOADED,
  ErrorCode.RATE_LIMITED,
]);

/** A switch between the remote and local routes. */
export interface RouteSwitch {
  from: RouteName;
  to: RouteName;
  reason: string;
  message: string;
}

/** Options of {@link AutoRoute}. */
export interface AutoRouteOptions {
  remote: Route;
  local: Route;
  /** Budget of a remote call before the local route answers it instead, in ms. @default 30 */
  deadlineMs?: number;
  /** How often the server is probed while calls go local, in ms. @default 1000 */
  retryMs?: number;
  /** Called on every switch (the brain turns it into a `route` event). */
  onSwitch?: (e: RouteSwitch) => void;
}

/**
 * Routes each call to the server while it answers in time, else to the local engine.
 * Recurrent memory lives with the route that served the agent: an agent whose calls
 * move between routes starts from zero memory on the other side.
 */
export class AutoRoute implements Route {
  private current: 'remote' | 'local' = 'remote';
  private readonly deadlineMs: number;
  private readonly retryMs: number;
  private probing = false;
  private nextProbe = 0;
  private closed = false;

  constructor(private readonly options: AutoRouteOptions) {
    this.deadlineMs = options.deadlineMs ?? 30;
    this.retryMs = options.retryMs ?? 1000;
    if (!(this.deadlineMs > 0)) throw new RangeError(`'deadlineMs' must be positive, got ${this.deadlineMs}`);
  }

  /**
   * Picks the starting route from the first connection to the server (made while the brain
   * loaded its local models): the server when `connecting` succeeds within `timeoutMs`, else
   * the local route, which the background probe leaves once the server answers. Calls never
   * spend their own deadline on this first connection.
   * @returns null when connected; else why not (the error naming the server)
   */
  async start(connecting: Promise<unknown>, timeoutMs: number): Promise<PlaymindError | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new PlaymindError(ErrorCode.UNAVAILABLE, `the server did not accept a connection within ${timeoutMs} ms`, {
              details: { connectTimeoutMs: timeoutMs },
            }),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([connecting, late]);
      this.current = 'remote';
      return null;
    } catch (err) {
      this.current = 'local';
      this.nextProbe = Date.now() + this.retryMs;
      return err instanceof PlaymindError ? err : new PlaymindError(ErrorCode.UNAVAILABLE, String(err), { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The route calls go to now. */
  get name(): 'remote' | 'local' {
    return this.current;
  }

  async manifest(model: string): Promise<Manifest> {
    // The local copy needs no network; the server's is used for models only it has.
    try {
      return await this.options.local.manifest(model);
    } catch (err) {
      if (!(err instanceof PlaymindError) || err.code !== ErrorCode.UNKNOWN_MODEL) throw err;
      return this.options.remote.manifest(model);
    }
  }

  cachedManifest(model: string): Manifest | undefined {
    return this.options.local.cachedManifest?.(model);
  }

  decide(model: string, batch: PolicyBatch): Promise<Decision[]> {
    return this.route(model, batch.deadlineMs, (r, deadlineMs) => r.decide(model, { ...batch, deadlineMs }));
  }

  recommend(model: string, request: RecommendRequest): Promise<Recommendation> {
    return this.route(model, request.deadlineMs, (r, deadlineMs) => r.recommend(model, { ...request, deadlineMs }));
  }

  run(model: string, feeds: Record<string, Tensor>, options: TensorRunOptions = {}): Promise<RunOutput> {
    return this.route(model, options.deadlineMs, (r, deadlineMs) => r.run(model, feeds, { ...options, deadlineMs }));
  }

  resetAgent(model: string, agent?: string): void {
    this.options.remote.resetAgent?.(model, agent);
    this.options.local.resetAgent?.(model, agent);
  }

  agentMemory(model: string, agent: string): Float32Array | undefined {
    return this.current === 'local' ? this.options.local.agentMemory?.(model, agent) : undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.options.remote.close(), this.options.local.close()]);
  }

  private async route<T>(
    model: string,
    deadlineMs: number | undefined,
    call: (r: Route, deadlineMs: number | undefined) => Promise<T>,
  ): Promise<T> {
    if (this.current === 'local') {
      this.maybeProbe(model);
      return call(this.options.local, deadlineMs);
    }
    const budget = Math.min(deadlineMs ?? this.deadlineMs, this.deadlineMs);
    try {
      return await withDeadline(call(this.options.remote, budget), budget, model);
    } catch (err) {
      if (!(err instanceof PlaymindError) || !SERVER_UNAVAILABLE.has(err.code)) throw err;
      this.switchTo('local', err);
      return call(this.options.local, deadlineMs);
    }
  }

  /** While local, asks the server (in the background) whether it answers again. */
  private maybeProbe(model: string): void {
    const now = Date.now();
    if (this.probing || this.closed || now < this.nextProbe) return;
    this.probing = true;
    this.nextProbe = now + this.retryMs;
    const budget = Math.max(this.deadlineMs, 1000);
    const remote = this.options.remote;
    withDeadline(remote.ping ? remote.ping(model, budget) : remote.manifest(model), budget, model).then(
      () => {
        this.probing = false;
        if (!this.closed && this.current === 'local') {
          this.current = 'remote';
          this.options.onSwitch?.({
            from: 'local',
            to: 'remote',
            reason: 'recovered',
            message: 'the server answers again',
          });
        }
      },
      () => {
        this.probing = false;
        this.nextProbe = Date.now() + this.retryMs;
      },
    );
  }

  private switchTo(to: 'local', err: PlaymindError): void {
    if (this.current === to) return;
    this.current = to;
    this.nextProbe = Date.now() + this.retryMs;
    this.options.onSwitch?.({ from: 'remote', to, reason: err.code, message: err.message });
  }
}

/** Rejects with `deadline_exceeded` when `p` has not settled within `ms` (the call itself carries on). */
function withDeadline<T>(p: Promise<T>, ms: number, model: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new PlaymindError(ErrorCode.DEADLINE_EXCEEDED, `${model}: the server did not answer within ${ms} ms`, {
            details: { model, deadlineMs: ms },
          }),
        ),
      ms,
    );
  });
  p.catch(() => undefined); // a late failure of the abandoned call is not unhandled
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
