/**
 * A zod schema for every message of the `inference` and `arena` rooms and for every
 * HTTP body, in both directions, and {@link parseMessage}: one `safeParse` at the
 * edge, a typed `malformed_message` error naming the field when it fails. Handlers
 * behind it trust their input's structure; what depends on a model (row widths,
 * action names, input names) is checked by the contract layer.
 *
 * | room / route | message | direction | schema |
 * |---|---|---|---|
 * | inference | `decide` | request → reply | {@link DecideRequestSchema} → {@link DecideReplySchema} |
 * | inference | `recommend` | request → reply | {@link RecommendRequestMessageSchema} → {@link RecommendReplySchema} |
 * | inference | `run` | request → reply | {@link RunRequestSchema} → {@link RunReplySchema} |
 * | inference | `describe` | request → reply | {@link DescribeRequestSchema} → {@link DescribeReplySchema} |
 * | inference | `reset` | client → server | {@link ResetMessageSchema} |
 * | inference, arena | `error` | server → client (and request rejections) | {@link WireErrorSchema} |
 * | arena | `input` | client → server | {@link InputMessageSchema} |
 * | arena | `take-quest` | client → server | {@link TakeQuestMessageSchema} |
 * | arena | `finish-quest`, `abandon-quest`, `recommendations` | client → server | {@link EmptyMessageSchema} |
 * | arena | `guard-mode` | client → server | {@link GuardModeMessageSchema} |
 * | arena | `recommendations` | server → client | {@link RecommendationsMessageSchema} |
 * | `POST /v2/models/:name/infer` | body | HTTP | {@link KserveInferBodySchema} |
 *
 * @module
 */
import { z } from 'zod';
import { DTypeSchema, ManifestSchema } from '../contract/manifest.js';
import { ErrorCode, PlaymindError, type ErrorCodeValue } from './errors.js';

/** Size limits of the wire protocol. */
export const WIRE_LIMITS = Object.freeze({
  /** Longest model, agent, input or item name. */
  maxName: 128,
  /** Most ids in a history or exclude list, and the highest `k`. */
  maxList: 10_000,
  /** Most observation rows in one decide call. */
  maxRows: 65_536,
  /** Most named tensors in one run call. */
  maxTensors: 64,
  /** Highest tensor rank, and the largest dimension. */
  maxRank: 8,
  maxDim: 1 << 24,
  /** Longest quest id in the arena. */
  maxQuestId: 64,
});

const L = WIRE_LIMITS;

/** Raw bytes (msgpack `bin`: a Uint8Array, or Node's Buffer). */
export const BytesSchema = z.custom<Uint8Array>(
  (v) => ArrayBuffer.isView(v) && !(v instanceof DataView),
  'must be raw bytes (a Uint8Array)',
);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}
/** Any plain object (not an array, not bytes). */
const PlainObjectSchema = z.custom<Record<string, unknown>>(isPlainObject, 'must be an object');

const name = (what: string) =>
  z
    .string({ error: `must be ${what} (a string)` })
    .min(1, { error: `must be a non-empty ${what}` })
    .max(L.maxName, { error: `must be at most ${L.maxName} characters` });
const ModelNameSchema = name('model name');
const DeadlineSchema = z
  .number({ error: 'must be a positive number of milliseconds' })
  .positive({ error: 'must be a positive number of milliseconds' })
  .finite({ error: 'must be a positive number of milliseconds' })
  .nullish();
const ItemIdsSchema = z
  .array(
    z
      .string({ error: 'must be an item id (a string)' })
      .max(L.maxName, { error: `must be at most ${L.maxName} characters` }),
    {
      error: 'must be an array of item ids',
    },
  )
  .max(L.maxList, { error: `must have at most ${L.maxList} ids` });

// --- inference room: requests ---------------------------------------------------

/** `decide`: n observation rows (float32 bytes, the manifest's feature order), optional masks and agent ids. */
export const DecideRequestSchema = z.object({
  model: ModelNameSchema,
  n: z
    .number({ error: `must be an integer from 1 to ${L.maxRows}` })
    .int({ error: `must be an integer from 1 to ${L.maxRows}` })
    .min(1, { error: `must be an integer from 1 to ${L.maxRows}` })
    .max(L.maxRows, { error: `must be an integer from 1 to ${L.maxRows}` }),
  rows: BytesSchema,
  masks: BytesSchema.nullish(),
  agentIds: z
    .array(name('agent id'), { error: 'must be an array of agent ids' })
    .max(L.maxRows, { error: `must have at most ${L.maxRows} ids` })
    .nullish(),
  deadlineMs: DeadlineSchema,
});
export type DecideRequest = z.output<typeof DecideRequestSchema>;

/** The fields of a recommendation request (the SDK's `recommend()` argument and the wire message share them). */
export const RecommendFieldsSchema = z.object(
  {
    history: ItemIdsSchema,
    weights: z
      .array(z.number({ error: 'must be a finite number' }).finite({ error: 'must be a finite number' }), {
        error: 'must be an array of finite numbers',
      })
      .max(L.maxList)
      .nullish(),
    k: z
      .number({ error: 'must be a positive integer' })
      .int({ error: 'must be a positive integer' })
      .min(1, { error: 'must be a positive integer' })
      .max(L.maxList, { error: `must be at most ${L.maxList}` })
      .nullish(),
    exclude: ItemIdsSchema.nullish(),
    deadlineMs: DeadlineSchema,
  },
  { error: 'must be an object { history, k?, exclude? }' },
);

/** `recommend`: a player's history (item ids), k, ids to exclude. */
export const RecommendRequestMessageSchema = RecommendFieldsSchema.extend({ model: ModelNameSchema });
export type RecommendRequestMessage = z.output<typeof RecommendRequestMessageSchema>;

/** A tensor on the wire: numeric data as raw little-endian bytes, strings as an array. */
export const WireTensorSchema = z.object(
  {
    type: DTypeSchema,
    dims: z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(L.maxDim, { error: `dimensions are at most ${L.maxDim}` }),
        { error: `must be at most ${L.maxRank} non-negative integers` },
      )
      .max(L.maxRank, { error: `must be at most ${L.maxRank} non-negative integers` }),
    data: z.union([BytesSchema, z.array(z.string())], {
      error: 'must be raw bytes (numbers) or an array of strings (string tensors)',
    }),
  },
  { error: 'must be an object { type, dims, data }' },
);
export type WireTensor = z.output<typeof WireTensorSchema>;

/** `run`: named tensors, optional fetches. */
export const RunRequestSchema = z.object({
  model: ModelNameSchema,
  feeds: z
    .record(z.string().max(L.maxName), WireTensorSchema, { error: 'must be an object of named tensors' })
    .refine((f) => Object.keys(f).length <= L.maxTensors, { error: `must have at most ${L.maxTensors} tensors` }),
  fetches: z
    .array(name('output name'), { error: 'must be a non-empty array of output names' })
    .min(1, { error: 'must be a non-empty array of output names' })
    .max(L.maxTensors)
    .nullish(),
  deadlineMs: DeadlineSchema,
});
export type RunRequest = z.output<typeof RunRequestSchema>;

/** `describe`: a model's manifest and served version. */
export const DescribeRequestSchema = z.object({ model: ModelNameSchema });

/** `reset` (no reply): forget one agent's recurrent state, or all of this client's. */
export const ResetMessageSchema = z.object({
  model: z.string().max(L.maxName).nullish(),
  agent: name('agent id').nullish(),
});

// --- inference room: replies ----------------------------------------------------

/** A decision on the wire (float arrays as bytes). */
export const WireDecisionSchema = z.object({
  action: z.string().optional(),
  index: z.number().int().optional(),
  indices: z.array(z.number().int()).optional(),
  values: BytesSchema.optional(),
  probabilities: BytesSchema.optional(),
  /** The action was sampled (the export has no deterministic output). */
  sampled: z.literal(true).optional(),
  model: z.string(),
});
export type WireDecision = z.output<typeof WireDecisionSchema>;

export const DecideReplySchema = z.object({ decisions: z.array(WireDecisionSchema) });
export type DecideReply = z.output<typeof DecideReplySchema>;

export const RecommendReplySchema = z.object({
  recommendation: z.object({
    items: z.array(
      z.object({
        id: z.string(),
        score: z.number(),
        title: z.string().optional(),
        tags: z.array(z.string()).optional(),
      }),
    ),
    model: z.string(),
    coldStart: z.boolean(),
    unknownItems: z.array(z.string()),
  }),
});
export type RecommendReply = z.output<typeof RecommendReplySchema>;

export const RunReplySchema = z.object({ model: z.string(), outputs: z.record(z.string(), WireTensorSchema) });
export type RunReply = z.output<typeof RunReplySchema>;

export const DescribeReplySchema = z.object({ manifest: ManifestSchema, served: z.number().int().nullable() });
export type DescribeReply = z.output<typeof DescribeReplySchema>;

/** An error as it travels: a request's rejection, or an `error` message. */
export const WireErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

// --- arena room -------------------------------------------------------------------

const clamp1 = (v: number): number => (v < -1 ? -1 : v > 1 ? 1 : v);

/** `input`: the player's movement (clamped to [-1, 1]) and attack. */
export const InputMessageSchema = z
  .object(
    {
      dx: z.number({ error: 'must be a finite number' }).finite({ error: 'must be a finite number' }),
      dy: z.number({ error: 'must be a finite number' }).finite({ error: 'must be a finite number' }),
      attack: z.boolean({ error: 'must be a boolean' }).optional(),
    },
    { error: 'must be an object { dx, dy, attack }' },
  )
  .transform((m) => ({ dx: clamp1(m.dx), dy: clamp1(m.dy), attack: m.attack === true }));

/** `take-quest`: a quest id (its existence is the game's to check). */
export const TakeQuestMessageSchema = z.object(
  {
    questId: z
      .string({ error: 'must be a non-empty string' })
      .min(1, { error: 'must be a non-empty string' })
      .max(L.maxQuestId, { error: `is longer than ${L.maxQuestId} characters` }),
  },
  { error: 'must be an object { questId }' },
);

/** `guard-mode`: who decides the room's guards, the model or the scripted expert guard. */
export const GuardModeMessageSchema = z.object(
  { mode: z.enum(['model', 'scripted'], { error: "must be 'model' or 'scripted'" }) },
  { error: 'must be an object { mode }' },
);

/** `finish-quest`, `abandon-quest`, `recommendations` (client → server): no payload, or an object. */
export const EmptyMessageSchema = z.union([z.undefined(), z.null(), PlainObjectSchema], {
  error: 'takes no payload (or an object)',
});

/** `recommendations` (server → client): one player's quests. */
export const RecommendationsMessageSchema = z.object({
  player: z.string(),
  items: z.array(
    z.object({ id: z.string(), title: z.string(), kind: z.enum(['defeat', 'collect', 'visit']), score: z.number() }),
  ),
  model: z.string(),
  coldStart: z.boolean(),
});
export type RecommendationsMessage = z.output<typeof RecommendationsMessageSchema>;

// --- HTTP -------------------------------------------------------------------------

/** One input of a KServe v2 JSON infer request (its values are checked against its datatype later). */
export const KserveInputSchema = z.object(
  {
    name: z.string({ error: 'needs a name' }),
    shape: z.array(z.number({ error: 'must be an array of integers' }), { error: 'must be an array of integers' }),
    datatype: z.string({ error: 'must be a datatype name (FP32, INT64, ...)' }),
    // Absent for an input whose bytes follow the JSON header (binary extension: parameters.binary_data_size).
    data: z.unknown().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  },
  { error: 'must be an object { name, shape, datatype, data }' },
);

/** The body of `POST /v2/models/:name[/versions/:v]/infer` (KServe v2, JSON). */
export const KserveInferBodySchema = z.object(
  {
    id: z.string({ error: 'must be a string' }).optional(),
    inputs: z.array(KserveInputSchema, { error: 'must be an array of inputs' }),
    outputs: z
      .array(
        z.object({
          name: z.string({ error: 'must be a string' }),
          parameters: z.record(z.string(), z.unknown()).optional(),
        }),
        { error: 'must be an array of { name }' },
      )
      .optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  },
  { error: 'the body must be a JSON object { inputs: [...] }' },
);
export type KserveInferBody = z.output<typeof KserveInferBodySchema>;

// --- parsing ----------------------------------------------------------------------

/** The first issue of a failed parse, as `'field.path' message`. */
function describeIssue(error: z.ZodError): { text: string; field?: string } {
  const issue = error.issues[0];
  if (!issue) return { text: 'is malformed' };
  const field = issue.path.map(String).join('.');
  return field ? { text: `'${field}' ${issue.message}`, field } : { text: issue.message, field: undefined };
}

/**
 * Parses a message at the edge: `safeParse`, and a typed error on failure.
 * @param schema - the message's schema
 * @param type - what the message is, for the error (`decide`, `input`, `infer body`...)
 * @param value - what arrived
 * @param code - the error code @default malformed_message
 * @returns the parsed message
 * @throws PlaymindError `code`, naming the field and what was wrong, with `details.type` and `details.field`
 */
export function parseMessage<S extends z.ZodType>(
  schema: S,
  type: string,
  value: unknown,
  code: ErrorCodeValue = ErrorCode.MALFORMED_MESSAGE,
): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const { text, field } = describeIssue(r.error);
  return failParse(code, type, text, field);
}

function failParse(code: ErrorCodeValue, type: string, text: string, field: string | undefined): never {
  throw new PlaymindError(code, `${type}: ${text}`, { details: field ? { type, field } : { type } });
}
