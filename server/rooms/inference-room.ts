/**
 * The `inference` room: answers the SDK's remote requests (decide, recommend, run,
 * describe) through the server's brain (the SDK's decision layer on the one
 * repository and engine). Each request is a Colyseus request (`room.request` on the
 * client): the handler's value is the reply, a refusal is a rejection carrying a
 * typed {@link WireError}. Every message is parsed once at the edge with its schema
 * (`sdk/protocol/schemas.ts`); a bad one is refused with a typed error and never
 * disconnects the client. Each client has a token bucket, a cap on requests in
 * flight, and its own recurrent memory (agent ids are per client).
 *
 * On shutdown (after the drain grace) the room takes no new request (`unavailable`,
 * `details.draining`), answers every request in flight, then disconnects its clients.
 *
 * The server never answers a remote call with a fallback: an `overloaded` or
 * `model_unavailable` goes back to the client, whose own brain applies the one
 * fallback rule (or, in auto mode, answers locally).
 */
import { Room, ServerError, type Client } from '@colyseus/core';
import {
  ErrorCode,
  InferenceMessage,
  PlaymindError,
  RoomName,
  type ErrorCodeValue,
  type Tensor,
  type WireError,
} from '../../sdk/index.js';
import {
  DecideRequestSchema,
  DescribeRequestSchema,
  RecommendRequestMessageSchema,
  ResetMessageSchema,
  RunRequestSchema,
  decodeTensor,
  encodeDecision,
  encodeTensor,
  float32FromBytes,
  parseMessage,
  toPlaymindError,
  type DecideReply,
  type DescribeReply,
  type InferenceRequestType,
  type RecommendReply,
  type RunReply,
} from '../../sdk/runtime.js';
import type { InferenceRoomLimits } from '../config.js';
import { UNKNOWN_MODEL_LABEL } from '../metrics.js';
import { servicesFrom, type RoomServicesOptions, type ServerServices } from '../services.js';
import { RateLimiter } from './rate-limiter.js';
import { ByteBudget, type ByteVerdict } from './byte-budget.js';

/** Close code sent to a client dropped for flooding. */
export const FLOOD_CLOSE_CODE = 4029;

/** What a request handler gets of Colyseus' dispatch: `id` is undefined for a plain `send`. */
interface RequestContext {
  readonly id: number | undefined;
  reject(reason?: unknown): unknown;
}

interface ClientSlot {
  /** Prefix of this client's agent ids in the brain's recurrent memory (agent ids are per client). */
  agentPrefix: string;
  pending: number;
  agents: Set<string>;
  dropped: boolean;
}

type Reply = DecideReply | RecommendReply | RunReply | DescribeReply;
type Handler = (slot: ClientSlot, message: unknown) => Promise<Reply>;

/**
 * The `inference` room. Define it with the server's services:
 * `gameServer.define('inference', InferenceRoom, { services })`.
 */
export class InferenceRoom extends Room {
  private services!: ServerServices;
  private limits!: InferenceRoomLimits;
  private limiter!: RateLimiter;
  private bytes!: ByteBudget;
  private readonly slots = new Map<string, ClientSlot>();
  /** Requests of every client being answered now. */
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  private draining = false;
  /** Gives the room's place back to the server's room admission (on dispose). */
  private releaseAdmission: () => void = () => {};
  private readonly handlers: Record<InferenceRequestType, Handler> = {
    [InferenceMessage.DECIDE]: (s, m) => this.decide(s, m),
    [InferenceMessage.RECOMMEND]: (_s, m) => this.recommend(m),
    [InferenceMessage.RUN]: (_s, m) => this.run(m),
    [InferenceMessage.DESCRIBE]: (_s, m) => this.describe(m),
  };

  override onCreate(options: RoomServicesOptions): void {
    this.services = servicesFrom(options);
    // The process's room cap and the creator's creation rate (a refusal is a typed 503/429).
    this.releaseAdmission = this.services.rooms.admit(RoomName.INFERENCE);
    this.seatReservationTimeout = this.services.config.seatReservationSeconds;
    this.limits = this.services.config.inference;
    this.limiter = new RateLimiter({
      ratePerSec: this.limits.ratePerSec,
      burst: this.limits.burst,
      floodDropsPerSec: this.limits.floodRejectsPerSec,
    });
    this.bytes = new ByteBudget({
      bytesPerSec: this.limits.bytesPerSec,
      burstBytes: Math.max(2 * this.limits.bytesPerSec, this.limits.maxMessageBytes),
    });
    this.maxClients = this.limits.maxClients;
    // Colyseus' own hard limit, far above ours: a client past it is dropped before decoding.
    this.maxMessagesPerSecond = Math.max(10 * this.limits.floodRejectsPerSec, 10 * this.limits.burst);
    this.autoDispose = true;
    for (const type of Object.keys(this.handlers) as InferenceRequestType[]) {
      this.onMessage(type, (client: Client, message: unknown, ctx: RequestContext) =>
        this.receive(client, type, message, ctx),
      );
    }
    this.onMessage(InferenceMessage.RESET, (client: Client, message: unknown) => this.reset(client, message));
    this.onMessage('*', (client: Client, type: string | number) => {
      this.services.metrics.malformedMessage(RoomName.INFERENCE, ErrorCode.MALFORMED_MESSAGE);
      this.notify(client, {
        code: ErrorCode.MALFORMED_MESSAGE,
        message: `unknown message type ${JSON.stringify(String(type).slice(0, 64))} (types: ${[...Object.keys(this.handlers), InferenceMessage.RESET].join(', ')})`,
      });
    });
    this.services.metrics.roomCreated(RoomName.INFERENCE);
  }

  override onJoin(client: Client): void {
    this.slots.set(client.sessionId, {
      agentPrefix: `${client.sessionId}\u0000`,
      pending: 0,
      agents: new Set(),
      dropped: false,
    });
    this.bytes.watch(client, (verdict, notice) => this.overBytes(client, verdict, notice));
    this.services.metrics.clientJoined(RoomName.INFERENCE);
  }

  /** A message past the client's byte budget was dropped unread: tell it once a second; cut a client that keeps on. */
  private overBytes(client: Client, verdict: ByteVerdict, notice: WireError | null): void {
    if (verdict === 'flood') {
      const slot = this.slots.get(client.sessionId);
      if (slot) slot.dropped = true;
      this.services.metrics.rateLimit(RoomName.INFERENCE, 'disconnected');
      this.services.logger.warn(
        { client: client.sessionId, room: this.roomId, bytesPerSec: this.bytes.options.bytesPerSec },
        'inference room: client kept exceeding its byte budget; disconnecting',
      );
    } else this.services.metrics.rateLimit(RoomName.INFERENCE, 'rejected');
    if (notice) this.notify(client, notice);
    if (verdict === 'flood') client.leave(FLOOD_CLOSE_CODE, 'rate_limited');
  }

  override onLeave(client: Client): void {
    const slot = this.slots.get(client.sessionId);
    if (slot) this.forgetAgents(slot);
    this.slots.delete(client.sessionId);
    this.limiter.forget(client.sessionId);
    this.bytes.forget(client);
    this.services.metrics.clientLeft(RoomName.INFERENCE);
  }

  /**
   * The server is shutting down: refuse new requests, answer those in flight (bounded by
   * the drain timeout; each is bounded by its deadline anyway), then disconnect.
   */
  override onBeforeShutdown(): void {
    this.draining = true;
    const idle = new Promise<void>((resolve) => {
      if (this.inflight === 0) resolve();
      else this.idleWaiters.push(resolve);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.services.config.drainTimeoutMs)));
    void Promise.race([idle, bound]).then(() => {
      clearTimeout(timer);
      if (this.inflight > 0)
        this.services.logger.warn(
          { room: this.roomId, inflight: this.inflight },
          'inference room: requests still in flight at the drain timeout',
        );
      // The last replies are queued a few microtasks after their handlers settle: send them first.
      setTimeout(() => super.onBeforeShutdown(), 0);
    });
  }

  override onDispose(): void {
    this.releaseAdmission();
    // A creation refused (or failed) is discarded through a dispose: nothing was made.
    if (!this.limiter) return;
    this.services.metrics.roomDisposed(RoomName.INFERENCE);
  }

  /** A handler's unexpected throw: logged and counted; the room keeps running. */
  override onUncaughtException(error: Error, method: string): void {
    // Colyseus wraps the throw (with the method's arguments: never log those). A ServerError from
    // onCreate is a typed refusal (room admission), answered to the client and counted.
    const cause = error.cause instanceof Error ? error.cause : error;
    if (method === 'onCreate' && cause instanceof ServerError) return;
    this.services.logger.error({ err: cause, method, room: this.roomId }, 'inference room: uncaught exception');
  }

  /**
   * One request: admitted, size-checked, parsed, answered. Resolves with the reply (Colyseus
   * sends it), or rejects the request with a typed error; never throws.
   */
  private receive(client: Client, type: InferenceRequestType, message: unknown, ctx: RequestContext): unknown {
    const slot = this.slots.get(client.sessionId);
    if (!slot || slot.dropped) return undefined;
    if (this.draining && ctx?.id !== undefined) {
      this.services.metrics.request('remote', UNKNOWN_MODEL_LABEL, ErrorCode.UNAVAILABLE);
      return ctx.reject({
        code: ErrorCode.UNAVAILABLE,
        message: 'the server is draining (shutting down): it takes no new requests; reconnect to another server',
        details: { draining: true },
      } satisfies WireError);
    }
    if (ctx?.id === undefined) {
      // A plain `send`: there is no request to answer, so say how to ask.
      this.refuse(
        client,
        null,
        ErrorCode.MALFORMED_MESSAGE,
        `${type}: send requests with room.request('${type}', payload)`,
      );
      return undefined;
    }
    if (!this.admit(client, slot, ctx)) return undefined;
    const size = approxSize(message, this.limits.maxMessageBytes);
    if (size > this.limits.maxMessageBytes) {
      return this.refuse(
        client,
        ctx,
        ErrorCode.PAYLOAD_TOO_LARGE,
        `${type}: message is larger than ${this.limits.maxMessageBytes} bytes`,
        { limit: this.limits.maxMessageBytes },
      );
    }
    if (slot.pending >= this.limits.maxPending) {
      this.services.metrics.rateLimit(RoomName.INFERENCE, 'rejected');
      return ctx.reject(
        wire(
          new PlaymindError(
            ErrorCode.RATE_LIMITED,
            `too many requests in flight (limit ${this.limits.maxPending}); wait for answers`,
            { details: { limit: this.limits.maxPending } },
          ),
        ),
      );
    }
    const model =
      typeof (message as { model?: unknown } | null)?.model === 'string' ? (message as { model: string }).model : '';
    const label = this.services.repository.has(model) ? model : UNKNOWN_MODEL_LABEL;
    slot.pending++;
    this.inflight++;
    let answer: Promise<Reply>;
    try {
      answer = this.handlers[type](slot, message);
    } catch (err) {
      answer = Promise.reject(err);
    }
    return answer
      .then(
        (reply) => {
          this.services.metrics.request('remote', label, 'ok');
          return reply;
        },
        (err: unknown) => {
          const e = toPlaymindError(err);
          if (e.code === ErrorCode.INTERNAL)
            this.services.logger.error({ err, model: label, type }, 'inference room: request failed');
          if (e.code === ErrorCode.MALFORMED_MESSAGE)
            this.services.metrics.malformedMessage(RoomName.INFERENCE, e.code);
          this.services.metrics.request('remote', label, e.code);
          return ctx.reject(wire(e));
        },
      )
      .finally(() => {
        slot.pending--;
        if (--this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
  }

  /** The rate limit; a client rejected too often within a second is disconnected. */
  private admit(client: Client, slot: ClientSlot, ctx: RequestContext | null): boolean {
    const verdict = this.limiter.take(client.sessionId);
    if (verdict === 'ok') return true;
    if (verdict === 'flood') {
      slot.dropped = true;
      this.services.metrics.rateLimit(RoomName.INFERENCE, 'disconnected');
      this.services.logger.warn(
        { client: client.sessionId, room: this.roomId },
        'inference room: client flooded; disconnecting',
      );
      const notice: WireError = {
        code: ErrorCode.RATE_LIMITED,
        message: 'disconnected: sustained request flood',
        details: { disconnect: true },
      };
      ctx?.reject(notice);
      this.notify(client, notice);
      client.leave(FLOOD_CLOSE_CODE, 'rate_limited');
      return false;
    }
    this.services.metrics.rateLimit(RoomName.INFERENCE, 'rejected');
    ctx?.reject({
      code: ErrorCode.RATE_LIMITED,
      message: `rate limit: at most ${this.limits.ratePerSec} requests/s (burst ${this.limits.burst})`,
      details: { ratePerSec: this.limits.ratePerSec },
    } satisfies WireError);
    return false;
  }

  /** Refuses a message before it reaches a handler: the request's rejection, or a notice for a plain message. */
  private refuse(
    client: Client,
    ctx: RequestContext | null,
    code: ErrorCodeValue,
    message: string,
    details?: Record<string, unknown>,
  ): unknown {
    this.services.metrics.malformedMessage(RoomName.INFERENCE, code);
    const error: WireError = { code, message, ...(details ? { details } : {}) };
    if (ctx) return ctx.reject(error);
    this.notify(client, error);
    return undefined;
  }

  /** Sends an `error` notice (not the answer to a request). */
  private notify(client: Client, error: WireError): void {
    if (!this.slots.has(client.sessionId)) return; // left meanwhile
    try {
      client.send(InferenceMessage.ERROR, error);
    } catch (err) {
      this.services.logger.warn({ err, client: client.sessionId }, 'inference room: could not send a notice');
    }
  }

  private deadline(d: number | null | undefined): number {
    const max = this.services.config.maxDeadlineMs;
    return d === undefined || d === null ? max : Math.min(d, max);
  }

  private async decide(slot: ClientSlot, message: unknown): Promise<DecideReply> {
    const msg = parseMessage(DecideRequestSchema, InferenceMessage.DECIDE, message);
    const { model, n } = msg;
    const policy = this.services.brain.policy(model);
    const m = await policy.manifest();
    const width = m.policy.observation.features.length;
    const rows = float32FromBytes(msg.rows);
    if (!rows || rows.length !== n * width) {
      throw new PlaymindError(
        ErrorCode.INVALID_OBSERVATION,
        `${model}: 'rows' has ${msg.rows.byteLength} bytes; ${n} rows of ${width} features need ${n * width * 4}`,
        { details: { model } },
      );
    }
    let masks: Float32Array | undefined;
    if (msg.masks) {
      masks = float32FromBytes(msg.masks) ?? undefined;
      if (!masks) throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `${model}: 'masks' must be float32 bytes`);
    }
    let agentIds: string[] | undefined;
    if (msg.agentIds) {
      const ids = msg.agentIds;
      if (ids.length !== n)
        throw new PlaymindError(ErrorCode.INVALID_ARGUMENT, `${model}: 'agentIds' must have one id per row (${n})`);
      if (m.policy.recurrent) {
        const fresh = ids.filter((a) => !slot.agents.has(a)).length;
        if (slot.agents.size + fresh > this.limits.maxAgentsPerClient) {
          throw new PlaymindError(
            ErrorCode.INVALID_ARGUMENT,
            `${model}: at most ${this.limits.maxAgentsPerClient} agents with memory per client; reset agents you no longer use`,
            { details: { limit: this.limits.maxAgentsPerClient } },
          );
        }
        for (const a of ids) slot.agents.add(a);
      }
      agentIds = ids.map((a) => slot.agentPrefix + a);
    }
    const decisions = await policy.decide(rows, {
      masks,
      agentIds,
      deadlineMs: this.deadline(msg.deadlineMs),
      fallback: false,
    });
    return { decisions: decisions.map(encodeDecision) };
  }

  private async recommend(message: unknown): Promise<RecommendReply> {
    const msg = parseMessage(RecommendRequestMessageSchema, InferenceMessage.RECOMMEND, message);
    const { servedBy: _servedBy, ...recommendation } = await this.services.brain.recommender(msg.model).recommend(
      {
        history: msg.history,
        ...(msg.weights ? { weights: msg.weights } : {}),
        ...(msg.k ? { k: msg.k } : {}),
        ...(msg.exclude ? { exclude: msg.exclude } : {}),
        deadlineMs: this.deadline(msg.deadlineMs),
      },
      { fallback: false },
    );
    return { recommendation };
  }

  private async run(message: unknown): Promise<RunReply> {
    const msg = parseMessage(RunRequestSchema, InferenceMessage.RUN, message);
    const { model } = msg;
    const handle = this.services.brain.model(model);
    await handle.manifest(); // an unknown model is named before its feeds are read
    // No prototype: an input named "__proto__" is just an unknown input.
    const feeds = Object.create(null) as Record<string, Tensor>;
    for (const [name, w] of Object.entries(msg.feeds)) {
      const t = decodeTensor(w);
      if (typeof t === 'string')
        throw new PlaymindError(ErrorCode.INVALID_TENSOR, `${model}: input "${name}": ${t}`, {
          details: { model, input: name },
        });
      feeds[name] = t;
    }
    const r = await handle.run(
      { ...feeds },
      { deadlineMs: this.deadline(msg.deadlineMs), ...(msg.fetches ? { fetches: msg.fetches } : {}) },
    );
    const outputs: RunReply['outputs'] = {};
    for (const [name, t] of Object.entries(r.outputs)) outputs[name] = encodeTensor(t);
    return { model: r.model, outputs };
  }

  private async describe(message: unknown): Promise<DescribeReply> {
    const { model } = parseMessage(DescribeRequestSchema, InferenceMessage.DESCRIBE, message);
    const manifest = await this.services.brain.model(model).manifest();
    return { manifest, served: this.services.repository.state(model)?.served ?? null };
  }

  private reset(client: Client, message: unknown): void {
    const slot = this.slots.get(client.sessionId);
    if (!slot || slot.dropped || !this.admit(client, slot, null)) return;
    let msg;
    try {
      msg = parseMessage(ResetMessageSchema, InferenceMessage.RESET, message);
    } catch (err) {
      const e = toPlaymindError(err);
      this.refuse(client, null, e.code, e.message);
      return;
    }
    if (msg.agent === undefined || msg.agent === null) this.forgetAgents(slot);
    else if (slot.agents.delete(msg.agent))
      this.services.brain.policy(msg.model || '*').resetAgent(slot.agentPrefix + msg.agent);
  }

  /** Forgets every recurrent state of a client's agents. */
  private forgetAgents(slot: ClientSlot): void {
    const brain = this.services.brain;
    for (const a of slot.agents) brain.policy('*').resetAgent(slot.agentPrefix + a);
    slot.agents.clear();
  }
}

/** An error for the wire: plain detail values only (no causes, no nested failures with stacks). */
function wire(e: PlaymindError): WireError {
  const details: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.details)) {
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) details[k] = v;
  }
  return Object.keys(details).length > 0
    ? { code: e.code, message: e.message, details }
    : { code: e.code, message: e.message };
}

/**
 * Approximate encoded size of a decoded message, in bytes; stops counting (returning
 * more than `cap`) once past `cap` or after too many nodes.
 */
export function approxSize(value: unknown, cap: number): number {
  let total = 0;
  let nodes = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (++nodes > 200_000 || total > cap) return cap + 1;
    if (v === null || v === undefined || typeof v === 'boolean') total += 1;
    else if (typeof v === 'number' || typeof v === 'bigint') total += 9;
    else if (typeof v === 'string') total += v.length + 5;
    else if (ArrayBuffer.isView(v)) total += v.byteLength + 5;
    else if (Array.isArray(v)) {
      total += 5;
      nodes += v.length;
      if (nodes > 200_000) return cap + 1;
      for (const x of v) stack.push(x);
    } else if (typeof v === 'object') {
      total += 5;
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        total += k.length + 5;
        stack.push(x);
      }
    } else total += 1;
  }
  return total;
}
