/**
 * The remote route: answers the SDK's calls through the Playmind server's
 * `inference` room (Colyseus over WebSocket). Each call is a Colyseus request
 * (`room.request`, which correlates the reply); a refusal comes back as a rejection
 * carrying the shared error code. Observation rows and tensors travel as raw bytes;
 * every reply is checked against its schema (`sdk/protocol/schemas.ts`).
 *
 * A lost connection rejects every pending call with `unavailable` (so `auto` mode
 * can fall back); the next call joins again.
 */
import { Client, type Room } from '@colyseus/sdk';
import type { z } from 'zod';
import type { Manifest } from '../contract/manifest.js';
import type { Tensor } from '../engine/backend.js';
import type { Decision, PolicyBatch } from '../engine/policy.js';
import type { Recommendation, RecommendRequest } from '../engine/recommender.js';
import { decodeDecision, decodeTensor, encodeTensor, toBytes } from '../protocol/codecs.js';
import { ErrorCode, PlaymindError } from '../protocol/errors.js';
import { InferenceMessage, RoomName, type InferenceRequestType } from '../protocol/messages.js';
import {
  DecideReplySchema,
  DescribeReplySchema,
  RecommendReplySchema,
  RunReplySchema,
  parseMessage,
} from '../protocol/schemas.js';
import type { Route, RunOutput, TensorRunOptions } from './route.js';

/** Options of {@link RemoteRoute}. */
export interface RemoteRouteOptions {
  /** The server, e.g. `ws://localhost:2567` or `http://localhost:2567`. */
  url: string;
  /** How long a call waits for its reply when it names no deadline, in ms. @default 10000 */
  timeoutMs?: number;
  /** How long a fetched manifest is trusted before it is fetched again, in ms. @default 5000 */
  manifestTtlMs?: number;
}

/**
 * Checks a server URL and returns its WebSocket form (`http://` → `ws://`, `https://` → `wss://`).
 * @param option - the option's name, for the message
 * @throws TypeError when `url` is not a non-empty string
 * @throws PlaymindError `invalid_server_url` when it is not a ws://, wss://, http:// or https:// URL
 * @example serverWsUrl('http://localhost:2567') // 'ws://localhost:2567'
 */
export function serverWsUrl(url: unknown, option = 'url'): string {
  if (typeof url !== 'string' || url.length === 0)
    throw new TypeError(`'${option}' must be the server's URL, e.g. 'ws://localhost:2567'`);
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !['ws:', 'wss:', 'http:', 'https:'].includes(parsed.protocol) || !parsed.host)
    throw new PlaymindError(
      ErrorCode.INVALID_SERVER_URL,
      `'${option}' must be a ws:// or wss:// URL with a host, e.g. 'ws://localhost:2567' (http:// and https:// are taken as ws:// and wss://), got ${JSON.stringify(url)}`,
      { details: { url } },
    );
  return url.replace(/^http/, 'ws');
}

/**
 * A route to the server's `inference` room.
 *
 * @example
 * const route = new RemoteRoute({ url: 'ws://localhost:2567' });
 * const [d] = await route.decide('npc-guard', { rows, n: 1 });
 * await route.close();
 */
export class RemoteRoute implements Route {
  readonly name = 'remote' as const;
  /** The server's WebSocket URL (named in connection errors). */
  readonly url: string;
  private readonly client: Client;
  private readonly timeoutMs: number;
  private readonly manifestTtlMs: number;
  private room?: Room;
  private joining?: Promise<Room>;
  private readonly manifests = new Map<string, { manifest: Manifest; served: number | null; at: number }>();
  private closed = false;

  /**
   * @param options - the server URL and timeouts
   * @throws TypeError when `url` is not a string; PlaymindError `invalid_server_url` when it is not a server URL
   */
  constructor(options: RemoteRouteOptions) {
    this.url = serverWsUrl(options?.url);
    if (options.timeoutMs !== undefined && (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0))
      throw new RangeError(`'timeoutMs' must be a positive number, got ${options.timeoutMs}`);
    this.client = new Client(this.url);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.manifestTtlMs = options.manifestTtlMs ?? 5000;
  }

  /** Whether the route holds an open connection to the server. */
  get connected(): boolean {
    return this.room !== undefined;
  }

  /** Joins the inference room now (calls join on demand otherwise). */
  async connect(): Promise<void> {
    await this.ensureRoom();
  }

  async manifest(model: string): Promise<Manifest> {
    const cached = this.manifests.get(model);
    if (cached && performance.now() - cached.at < this.manifestTtlMs) return cached.manifest;
    return this.ping(model);
  }

  /** Asks the server for a model's manifest, bypassing the cache: proves the server answers. */
  async ping(model: string, timeoutMs?: number): Promise<Manifest> {
    const r = await this.request(InferenceMessage.DESCRIBE, { model }, timeoutMs, DescribeReplySchema);
    this.manifests.set(model, { manifest: r.manifest, served: r.served, at: performance.now() });
    return r.manifest;
  }

  async decide(model: string, batch: PolicyBatch): Promise<Decision[]> {
    const payload: Record<string, unknown> = { model, n: batch.n, rows: toBytes(batch.rows) };
    if (batch.masks) payload.masks = toBytes(batch.masks);
    if (batch.agentIds) payload.agentIds = [...batch.agentIds];
    if (batch.deadlineMs !== undefined) payload.deadlineMs = batch.deadlineMs;
    const r = await this.request(InferenceMessage.DECIDE, payload, batch.deadlineMs, DecideReplySchema);
    const decisions = r.decisions.map(decodeDecision);
    if (decisions[0]) this.noteServed(model, decisions[0].model);
    return decisions;
  }

  async recommend(model: string, request: RecommendRequest): Promise<Recommendation> {
    const payload: Record<string, unknown> = { model, history: [...request.history] };
    if (request.weights) payload.weights = [...request.weights];
    if (request.k !== undefined) payload.k = request.k;
    if (request.exclude) payload.exclude = [...request.exclude];
    if (request.deadlineMs !== undefined) payload.deadlineMs = request.deadlineMs;
    const r = await this.request(InferenceMessage.RECOMMEND, payload, request.deadlineMs, RecommendReplySchema);
    this.noteServed(model, r.recommendation.model);
    return { ...r.recommendation, servedBy: 'remote' };
  }

  async run(model: string, feeds: Record<string, Tensor>, options: TensorRunOptions = {}): Promise<RunOutput> {
    const wire: Record<string, unknown> = {};
    for (const [name, t] of Object.entries(feeds)) wire[name] = encodeTensor(t);
    const payload: Record<string, unknown> = { model, feeds: wire };
    if (options.fetches) payload.fetches = [...options.fetches];
    if (options.deadlineMs !== undefined) payload.deadlineMs = options.deadlineMs;
    const r = await this.request(InferenceMessage.RUN, payload, options.deadlineMs, RunReplySchema);
    const outputs: Record<string, Tensor> = {};
    for (const [name, w] of Object.entries(r.outputs)) {
      const t = decodeTensor(w);
      if (typeof t === 'string')
        throw new PlaymindError(ErrorCode.MALFORMED_MESSAGE, `server sent a malformed output "${name}": ${t}`);
      outputs[name] = t;
    }
    this.noteServed(model, r.model);
    return { outputs, model: r.model, servedBy: 'remote' };
  }

  /** Asks the server to forget an agent's recurrent state (all agents when omitted). Fire and forget. */
  resetAgent(model: string, agent?: string): void {
    if (!this.room) return;
    try {
      this.room.send(InferenceMessage.RESET, agent === undefined ? { model } : { model, agent });
    } catch {
      // not connected: the server forgets the client's agents when it leaves anyway
    }
  }

  /** Leaves the room; pending calls reject with `closed`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const room = this.room ?? (await this.joining?.catch(() => undefined));
    this.room = undefined;
    if (room) await room.leave(true).catch(() => undefined);
  }

  /** Forgets a cached manifest when the server serves another version than the one described. */
  private noteServed(model: string, servedBy: string): void {
    const cached = this.manifests.get(model);
    if (!cached) return;
    const at = servedBy.lastIndexOf('@');
    const version = at >= 0 ? Number(servedBy.slice(at + 1)) : NaN;
    if (Number.isInteger(version) && version !== cached.served) this.manifests.delete(model);
  }

  /** One request/reply through Colyseus (`room.request`), its reply checked against `reply`. */
  private async request<S extends z.ZodType>(
    type: InferenceRequestType,
    payload: Record<string, unknown>,
    deadlineMs: number | undefined,
    reply: S,
  ): Promise<z.output<S>> {
    if (this.closed) throw new PlaymindError(ErrorCode.CLOSED, 'the remote route is closed');
    const room = await this.ensureRoom();
    const timeout = deadlineMs ?? this.timeoutMs;
    let raw: unknown;
    try {
      raw = await room.request(type, payload, { timeout });
    } catch (err) {
      throw this.requestError(err, type, payload.model, timeout);
    }
    return parseMessage(reply, `the server's ${type} reply`, raw);
  }

  /** A failed Colyseus request as a typed error. */
  private requestError(err: unknown, type: string, model: unknown, timeout: number): PlaymindError {
    const e = err as { name?: string; message?: string; reason?: unknown };
    if (e?.name === 'rejected') return PlaymindError.fromWire(e.reason);
    const message = e?.message ?? String(err);
    if (this.closed) return new PlaymindError(ErrorCode.CLOSED, 'the remote route was closed', { cause: err });
    if (/timed out/.test(message))
      return new PlaymindError(
        ErrorCode.DEADLINE_EXCEEDED,
        `${type} ${String(model)}: no reply from the server within ${timeout} ms`,
        { details: { model, timeoutMs: timeout }, cause: err },
      );
    if (/connection/.test(message))
      return new PlaymindError(ErrorCode.UNAVAILABLE, `lost the connection to the server at ${this.url}: ${message}`, {
        cause: err,
        details: { url: this.url },
      });
    return new PlaymindError(ErrorCode.INTERNAL, `the server failed the ${type} request: ${message}`, { cause: err });
  }

  private ensureRoom(): Promise<Room> {
    if (this.room) return Promise.resolve(this.room);
    this.joining ??= this.join().finally(() => {
      this.joining = undefined;
    });
    return this.joining;
  }

  private async join(): Promise<Room> {
    let room: Room;
    try {
      room = await this.client.joinOrCreate(RoomName.INFERENCE);
    } catch (err) {
      throw new PlaymindError(
        ErrorCode.UNAVAILABLE,
        `cannot join the inference room of the server at ${this.url}: ${describeJoinError(err)}. ` +
          `To play on without the server, call with the contract you are written against ` +
          `(policy(name, { contract: policyContract(...) }) or recommender(name, { contract: recommenderContract(...) })): ` +
          `such calls fall back to the heuristic or popularity instead of failing`,
        { cause: err, details: { url: this.url } },
      );
    }
    if (this.closed) {
      await room.leave(true).catch(() => undefined);
      throw new PlaymindError(ErrorCode.CLOSED, 'the remote route was closed');
    }
    // A dropped connection fails pending calls at once; the next call joins again.
    room.reconnection.enabled = false;
    // Notices the server sends unasked (a flood disconnect): the closing connection fails pending calls.
    room.onMessage(InferenceMessage.ERROR, () => undefined);
    // A lost room is forgotten (the next call joins again); Colyseus rejects its pending requests.
    const lost = () => {
      if (this.room === room) this.room = undefined;
    };
    room.onLeave(lost);
    room.onDrop(lost);
    room.onError(lost);
    this.room = room;
    return room;
  }
}

/** Why a join failed, in words: the Colyseus client's message, or the network error under it. */
function describeJoinError(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown; cause?: { code?: unknown; message?: unknown } } | null;
  const parts = [e?.message, e?.cause?.message, e?.cause?.code ?? e?.code].filter(
    (p): p is string => typeof p === 'string' && p.length > 0,
  );
  const why = [...new Set(parts)].join(': ') || String(err);
  // The Colyseus client drops the network error under "fetch failed" (refused, no route, DNS...).
  return /fetch failed/i.test(why)
    ? `${why} (no HTTP answer there: is the Playmind server running at this address?)`
    : why;
}
