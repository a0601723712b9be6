/**
 * The `inference` room: answers the SDK's remote requests (decide, recommend, run,
 * describe) through the server's brain (the SDK's decision layer on the one
 * repository and engine). Every message is validated; a bad one gets a typed
 * `error` reply, never a throw that would take the room down. Each client has a
 * token bucket, a cap on requests in flight, and its own recurrent memory (agent
 * ids are per client).
 *
 * The server never answers a remote call with a fallback: an `overloaded` or
 * `model_unavailable` goes back to the client, whose own brain applies the one
 * fallback rule (or, in auto mode, answers locally).
 *
 * The wire format is documented in `sdk/routes/remote-wire.ts`.
 */
import { Room, type Client } from '@colyseus/core';
import {
  ErrorCode,
  InferenceMessage,
  PlaymindError,
  RoomName,
  type ErrorCodeValue,
  type RecommendRequest,
  type Tensor,
} from '../../sdk/index.js';
import {
  RemoteMessage,
  decodeTensor,
  encodeDecision,
  encodeTensor,
  float32FromBytes,
  toBytes,
  toPlaymindError,
  type WireErrorReply,
  type WireResult,
} from '../../sdk/runtime.js';
import type { InferenceRoomLimits } from '../config.js';
import { UNKNOWN_MODEL_LABEL } from '../metrics.js';
import { servicesFrom, type RoomServicesOptions, type ServerServices } from '../services.js';

/** Close code sent to a client dropped for flooding. */
export const FLOOD_CLOSE_CODE = 4029;

const MAX_NAME = 128;
const MAX_LIST = 10_000;
const MAX_ROWS = 65_536;

interface ClientSlot {
  /** Prefix of this client's agent ids in the brain's recurrent memory (agent ids are per client). */
  agentPrefix: string;
  tokens: number;
  refilledAt: number;
  rejectedInWindow: number;
  windowStart: number;
  pending: number;
  agents: Set<string>;
  dropped: boolean;
}

type Handler = (client: Client, slot: ClientSlot, msg: Record<string, unknown>, id: number) => Promise<WireResult>;

/** Thrown inside handlers: a typed reply, not a bug. */
function bad(code: ErrorCodeValue, message: string, details?: Record<string, unknown>): PlaymindError {
  return new PlaymindError(code, message, details ? { details } : {});
}

/**
 * The `inference` room. Define it with the server's services:
 * `gameServer.define('inference', InferenceRoom, { services })`.
 */
export class InferenceRoom extends Room {
  private services!: ServerServices;
  private limits!: InferenceRoomLimits;
  private readonly slots = new Map<string, ClientSlot>();
  private readonly handlers: Record<string, Handler> = {
    [InferenceMessage.DECIDE]: (c, s, m, id) => this.decide(s, m, id),
    [InferenceMessage.RECOMMEND]: (c, s, m, id) => this.recommend(s, m, id),
    [InferenceMessage.RUN]: (c, s, m, id) => this.run(s, m, id),
    [InferenceMessage.DESCRIBE]: (c, s, m, id) => this.describe(s, m, id),
  };

  override onCreate(options: RoomServicesOptions): void {
    this.services = servicesFrom(options);
    this.limits = this.services.config.inference;
    this.maxClients = this.limits.maxClients;
    // Colyseus' own hard limit, far above ours: a client past it is dropped before decoding.
    this.maxMessagesPerSecond = Math.max(10 * this.limits.floodRejectsPerSec, 10 * this.limits.burst);
    this.autoDispose = true;
    for (const type of Object.keys(this.handlers)) {
      this.onMessage(type, (client: Client, message: unknown) => this.receive(client, type, message));
    }
    this.onMessage(RemoteMessage.RESET, (client: Client, message: unknown) => this.reset(client, message));
    this.onMessage('*', (client: Client, type: string | number, message: unknown) => {
      this.services.metrics.malformedMessage(RoomName.INFERENCE, ErrorCode.MALFORMED_MESSAGE);
      this.reply(client, {
        id: readId(message),
        code: ErrorCode.MALFORMED_MESSAGE,
        message: `unknown message type ${JSON.stringify(String(type).slice(0, 64))} (types: ${[...Object.keys(this.handlers), RemoteMessage.RESET].join(', ')})`,
      });
    });
    this.services.metrics.roomCreated(RoomName.INFERENCE);
  }

  override onJoin(client: Client): void {
    const now = performance.now();
    this.slots.set(client.sessionId, {
      agentPrefix: `${client.sessionId}\u0000`,
      tokens: this.limits.burst,
      refilledAt: now,
      rejectedInWindow: 0,
      windowStart: now,
      pending: 0,
      agents: new Set(),
      dropped: false,
    });
    this.services.metrics.clientJoined(RoomName.INFERENCE);
  }

  override onLeave(client: Client): void {
    const slot = this.slots.get(client.sessionId);
    if (slot) this.forgetAgents(slot);
    this.slots.delete(client.sessionId);
    this.services.metrics.clientLeft(RoomName.INFERENCE);
  }

  override onDispose(): void {
    this.services.metrics.roomDisposed(RoomName.INFERENCE);
  }

  /** A handler's unexpected throw: logged and counted; the room keeps running. */
  override onUncaughtException(error: Error, method: string): void {
    this.services.logger.error({ err: error, method, room: this.roomId }, 'inference room: uncaught exception');
  }

  private receive(client: Client, type: string, message: unknown): void {
    const slot = this.slots.get(client.sessionId);
    if (!slot || slot.dropped) return;
    const id = readId(message);
    if (!this.admit(client, slot, id)) return;
    const size = approxSize(message, this.limits.maxMessageBytes);
    if (size > this.limits.maxMessageBytes) {
      this.refuse(
        client,
        id,
        ErrorCode.PAYLOAD_TOO_LARGE,
        `${type}: message is larger than ${this.limits.maxMessageBytes} bytes`,
        { limit: this.limits.maxMessageBytes },
      );
      return;
    }
    if (!message || typeof message !== 'object' || Array.isArray(message) || ArrayBuffer.isView(message)) {
      this.refuse(
        client,
        id,
        ErrorCode.MALFORMED_MESSAGE,
        `${type}: the payload must be an object with 'id' and 'model'`,
      );
      return;
    }
    if (id === null) {
      this.refuse(client, null, ErrorCode.MALFORMED_MESSAGE, `${type}: 'id' must be a non-negative integer`);
      return;
    }
    const msg = message as Record<string, unknown>;
    const model = msg.model;
    if (typeof model !== 'string' || model.length === 0 || model.length > MAX_NAME) {
      this.refuse(
        client,
        id,
        ErrorCode.MALFORMED_MESSAGE,
        `${type}: 'model' must be a model name (1-${MAX_NAME} characters)`,
      );
      return;
    }
    if (slot.pending >= this.limits.maxPending) {
      this.services.metrics.rateLimit(RoomName.INFERENCE, 'rejected');
      this.reply(client, {
        id,
        code: ErrorCode.RATE_LIMITED,
        message: `too many requests in flight (limit ${this.limits.maxPending}); wait for answers`,
        details: { limit: this.limits.maxPending },
      });
      return;
    }
    slot.pending++;
    const label = this.services.repository.has(model) ? model : UNKNOWN_MODEL_LABEL;
    let answer: Promise<WireResult>;
    try {
      answer = this.handlers[type]!(client, slot, msg, id);
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer
      .then(
        (result) => {
          this.services.metrics.request('remote', label, 'ok');
          this.sendTo(client, InferenceMessage.RESULT, result);
        },
        (err: unknown) => {
          const e = toPlaymindError(err);
          if (e.code === ErrorCode.INTERNAL)
            this.services.logger.error({ err, model, type }, 'inference room: request failed');
          this.services.metrics.request('remote', label, e.code);
          this.reply(client, { id, code: e.code, message: e.message, details: publicDetails(e.details) });
        },
      )
      .finally(() => {
        slot.pending--;
      });
  }

  /** Token bucket; a client rejected too often within a second is disconnected. */
  private admit(client: Client, slot: ClientSlot, id: number | null): boolean {
    const now = performance.now();
    slot.tokens = Math.min(this.limits.burst, slot.tokens + ((now - slot.refilledAt) / 1000) * this.limits.ratePerSec);
    slot.refilledAt = now;
    if (slot.tokens >= 1) {
      slot.tokens -= 1;
      return true;
    }
    if (now - slot.windowStart >= 1000) {
      slot.windowStart = now;
      slot.rejectedInWindow = 0;
    }
    slot.rejectedInWindow++;
    if (slot.rejectedInWindow > this.limits.floodRejectsPerSec) {
      slot.dropped = true;
      this.services.metrics.rateLimit(RoomName.INFERENCE, 'disconnected');
      this.services.logger.warn(
        { client: client.sessionId, room: this.roomId },
        'inference room: client flooded; disconnecting',
      );
      this.reply(client, {
        id,
        code: ErrorCode.RATE_LIMITED,
        message: 'disconnected: sustained request flood',
        details: { disconnect: true },
      });
      client.leave(FLOOD_CLOSE_CODE, 'rate_limited');
      return false;
    }
    this.services.metrics.rateLimit(RoomName.INFERENCE, 'rejected');
    this.reply(client, {
      id,
      code: ErrorCode.RATE_LIMITED,
      message: `rate limit: at most ${this.limits.ratePerSec} requests/s (burst ${this.limits.burst})`,
      details: { ratePerSec: this.limits.ratePerSec },
    });
    return false;
  }

  private refuse(
    client: Client,
    id: number | null,
    code: ErrorCodeValue,
    message: string,
    details?: Record<string, unknown>,
  ): void {
    this.services.metrics.malformedMessage(RoomName.INFERENCE, code);
    this.reply(client, { id, code, message, ...(details ? { details } : {}) });
  }

  private reply(client: Client, error: WireErrorReply): void {
    this.sendTo(client, InferenceMessage.ERROR, error);
  }

  private sendTo(client: Client, type: string, payload: unknown): void {
    if (!this.slots.has(client.sessionId)) return; // left meanwhile
    try {
      client.send(type, payload);
    } catch (err) {
      this.services.logger.warn({ err, client: client.sessionId }, 'inference room: could not send a reply');
    }
  }

  private deadline(msg: Record<string, unknown>): number {
    const d = msg.deadlineMs;
    if (d === undefined || d === null) return this.services.config.maxDeadlineMs;
    if (typeof d !== 'number' || !Number.isFinite(d) || d <= 0)
      throw bad(ErrorCode.INVALID_ARGUMENT, "'deadlineMs' must be a positive number");
    return Math.min(d, this.services.config.maxDeadlineMs);
  }

  private async decide(slot: ClientSlot, msg: Record<string, unknown>, id: number): Promise<WireResult> {
    const model = msg.model as string;
    const deadlineMs = this.deadline(msg);
    const policy = this.services.brain.policy(model);
    const m = await policy.manifest();
    const n = msg.n;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_ROWS)
      throw bad(ErrorCode.INVALID_ARGUMENT, `${model}: 'n' must be an integer from 1 to ${MAX_ROWS}`);
    const width = m.policy.observation.features.length;
    if (!ArrayBuffer.isView(msg.rows)) throw bad(ErrorCode.MALFORMED_MESSAGE, `${model}: 'rows' must be float32 bytes`);
    const rows = float32FromBytes(toBytes(msg.rows));
    if (!rows || rows.length !== n * width) {
      throw bad(
        ErrorCode.INVALID_OBSERVATION,
        `${model}: 'rows' has ${msg.rows.byteLength} bytes; ${n} rows of ${width} features need ${n * width * 4}`,
        { model },
      );
    }
    let masks: Float32Array | undefined;
    if (msg.masks !== undefined && msg.masks !== null) {
      if (!ArrayBuffer.isView(msg.masks))
        throw bad(ErrorCode.MALFORMED_MESSAGE, `${model}: 'masks' must be float32 bytes`);
      masks = float32FromBytes(toBytes(msg.masks)) ?? undefined;
      if (!masks) throw bad(ErrorCode.INVALID_ARGUMENT, `${model}: 'masks' must be float32 bytes`);
    }
    let agentIds: string[] | undefined;
    if (msg.agentIds !== undefined && msg.agentIds !== null) {
      const ids = msg.agentIds;
      if (
        !Array.isArray(ids) ||
        ids.length !== n ||
        !ids.every((a) => typeof a === 'string' && a.length > 0 && a.length <= MAX_NAME)
      ) {
        throw bad(
          ErrorCode.INVALID_ARGUMENT,
          `${model}: 'agentIds' must be ${n} non-empty strings of at most ${MAX_NAME} characters`,
        );
      }
      if (m.policy.recurrent) {
        const fresh = ids.filter((a) => !slot.agents.has(a as string)).length;
        if (slot.agents.size + fresh > this.limits.maxAgentsPerClient) {
          throw bad(
            ErrorCode.INVALID_ARGUMENT,
            `${model}: at most ${this.limits.maxAgentsPerClient} agents with memory per client; reset agents you no longer use`,
            { limit: this.limits.maxAgentsPerClient },
          );
        }
        for (const a of ids) slot.agents.add(a as string);
      }
      agentIds = (ids as string[]).map((a) => slot.agentPrefix + a);
    }
    const decisions = await policy.decide(rows, { masks, agentIds, deadlineMs, fallback: false });
    return { id, kind: 'decide', decisions: decisions.map(encodeDecision) };
  }

  private async recommend(slot: ClientSlot, msg: Record<string, unknown>, id: number): Promise<WireResult> {
    const model = msg.model as string;
    const deadlineMs = this.deadline(msg);
    const req = {
      history: msg.history,
      weights: msg.weights ?? undefined,
      k: msg.k ?? undefined,
      exclude: msg.exclude ?? undefined,
    } as unknown as RecommendRequest;
    if (
      !Array.isArray(req.history) ||
      (req.exclude !== undefined && !Array.isArray(req.exclude)) ||
      req.history.length > MAX_LIST ||
      (req.exclude?.length ?? 0) > MAX_LIST ||
      [...req.history, ...(req.exclude ?? [])].some((h) => typeof h === 'string' && h.length > MAX_NAME)
    ) {
      throw bad(
        ErrorCode.INVALID_ARGUMENT,
        `${model}: 'history' and 'exclude' take at most ${MAX_LIST} ids of at most ${MAX_NAME} characters`,
      );
    }
    if (req.k !== undefined && req.k > MAX_LIST)
      throw bad(ErrorCode.INVALID_ARGUMENT, `${model}: 'k' must be at most ${MAX_LIST}`);
    const { servedBy: _servedBy, ...recommendation } = await this.services.brain
      .recommender(model)
      .recommend({ ...req, deadlineMs }, { fallback: false });
    return { id, kind: 'recommend', recommendation };
  }

  private async run(slot: ClientSlot, msg: Record<string, unknown>, id: number): Promise<WireResult> {
    const model = msg.model as string;
    const deadlineMs = this.deadline(msg);
    const handle = this.services.brain.model(model);
    await handle.manifest(); // an unknown model is named before its feeds are read
    const wire = msg.feeds;
    if (!wire || typeof wire !== 'object' || Array.isArray(wire) || ArrayBuffer.isView(wire))
      throw bad(ErrorCode.MALFORMED_MESSAGE, `${model}: 'feeds' must be an object of named tensors`);
    const entries = Object.entries(wire as Record<string, unknown>);
    if (entries.length > 64) throw bad(ErrorCode.INVALID_TENSOR, `${model}: too many feeds (${entries.length})`);
    const feeds: Record<string, Tensor> = Object.create(null) as Record<string, Tensor>;
    for (const [name, w] of entries) {
      const t = decodeTensor(w);
      if (typeof t === 'string')
        throw bad(ErrorCode.INVALID_TENSOR, `${model}: input "${name.slice(0, MAX_NAME)}": ${t}`, {
          model,
          input: name.slice(0, MAX_NAME),
        });
      feeds[name] = t;
    }
    let fetches: string[] | undefined;
    if (msg.fetches !== undefined && msg.fetches !== null) {
      const f = msg.fetches;
      if (!Array.isArray(f) || f.length === 0 || f.length > 64 || !f.every((x) => typeof x === 'string'))
        throw bad(ErrorCode.INVALID_ARGUMENT, `${model}: 'fetches' must be a non-empty array of output names`);
      fetches = f as string[];
    }
    const r = await handle.run({ ...feeds }, { deadlineMs, fetches });
    const outputs: Record<string, ReturnType<typeof encodeTensor>> = {};
    for (const [name, t] of Object.entries(r.outputs)) outputs[name] = encodeTensor(t);
    return { id, kind: 'run', model: r.model, outputs };
  }

  private async describe(_slot: ClientSlot, msg: Record<string, unknown>, id: number): Promise<WireResult> {
    const model = msg.model as string;
    const manifest = await this.services.brain.model(model).manifest();
    return { id, kind: 'describe', manifest, served: this.services.repository.state(model)?.served ?? null };
  }

  private reset(client: Client, message: unknown): void {
    const slot = this.slots.get(client.sessionId);
    if (!slot || slot.dropped) return;
    const id = readId(message);
    if (!this.admit(client, slot, id)) return;
    const msg = message as Record<string, unknown> | null;
    const agent = msg && typeof msg === 'object' ? msg.agent : undefined;
    if (
      !msg ||
      typeof msg !== 'object' ||
      (agent !== undefined && agent !== null && (typeof agent !== 'string' || agent.length > MAX_NAME))
    ) {
      this.refuse(
        client,
        id,
        ErrorCode.MALFORMED_MESSAGE,
        "reset: the payload must be { model, agent? } with 'agent' a string",
      );
      return;
    }
    const a = typeof agent === 'string' ? agent : undefined;
    if (a === undefined) this.forgetAgents(slot);
    else if (slot.agents.delete(a))
      this.services.brain.policy(String(msg.model || '*')).resetAgent(slot.agentPrefix + a);
  }

  /** Forgets every recurrent state of a client's agents. */
  private forgetAgents(slot: ClientSlot): void {
    const brain = this.services.brain;
    for (const a of slot.agents) brain.policy('*').resetAgent(slot.agentPrefix + a);
    slot.agents.clear();
  }
}

/** The request id of a message, or null when it has none that is valid. */
function readId(message: unknown): number | null {
  if (!message || typeof message !== 'object') return null;
  const id = (message as { id?: unknown }).id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null;
}

/** Error details safe to send: plain values only (no causes, no nested failures with stacks). */
function publicDetails(details: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) {
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[k] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
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
