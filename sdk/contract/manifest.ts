/**
 * The model contract: the `manifest.json` schema every model folder carries.
 *
 * The schema is written once with zod; the TypeScript types are derived from it,
 * so the validator and the types cannot drift apart.
 */
import { z } from 'zod';
import { ErrorCode, PlaymindError } from '../protocol.js';

/** Tensor element types a manifest may declare (onnxruntime's names). */
export const DTypeSchema = z.enum([
  'float32',
  'float64',
  'float16',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
  'string',
]);
export type DType = z.infer<typeof DTypeSchema>;

/** One declared input or output: name, dtype, and shape (-1 for a dynamic dimension). */
export const TensorSpecSchema = z.object({
  name: z.string().min(1),
  dtype: DTypeSchema,
  shape: z.array(z.number().int().min(-1)),
});
export type TensorSpec = z.infer<typeof TensorSpecSchema>;

/** An observation feature: its name and optional normalisation `(x - mean) / std`. */
export const FeatureSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { name: v } : v),
  z.object({
    name: z.string().min(1),
    mean: z.number().optional(),
    std: z.number().positive().optional(),
  }),
);
export type Feature = z.infer<typeof FeatureSchema>;

/** Discrete actions: one or more branches of named actions, decoded from one output. */
export const DiscreteActionsSchema = z.object({
  /** Action names per branch (ML-Agents models can have several branches). */
  branches: z.array(z.array(z.string().min(1)).min(1)).min(1),
  /** The output that holds the decision. */
  output: z.string().min(1),
  /**
   * How the output encodes the decision: `index` (the chosen action's index per branch,
   * int64 or float, as ML-Agents' action outputs), `logits` or `probabilities` (one score per
   * action, branches concatenated; the highest allowed one wins), `round` (one value per
   * branch, rounded half away from zero to the action index, as Godot RL Agents plugins of
   * 2023-04 to 2024-04 decoded discrete actions).
   */
  encoding: z.enum(['index', 'logits', 'probabilities', 'round']),
  /**
   * Where each branch starts in a row of the output (its first score, or its value for
   * `index` and `round`). @default branches back to back from column 0
   */
  offsets: z.array(z.number().int().min(0)).optional(),
  /**
   * `logits` / `probabilities`: the score the argmax starts from; an action wins only with a
   * score above it, else the branch's first action does (Godot RL plugins of 2024-04 to
   * 2025-05 started at 0). @default -Infinity
   */
  minScore: z.number().optional(),
  /**
   * The output is sampled from the policy's distribution (no deterministic output exists):
   * the same observation can get different actions. Decisions from it carry `sampled: true`.
   */
  sampled: z.boolean().optional(),
  /** An output with probabilities (or logits) to report alongside an index decision. */
  probabilitiesOutput: z.string().min(1).optional(),
});

/** Continuous actions: named values with optional ranges, read from one output. */
export const ContinuousActionsSchema = z.object({
  names: z.array(z.string().min(1)).min(1),
  output: z.string().min(1),
  /** The column of each name in a row of the output. @default 0, 1, 2, ... */
  columns: z.array(z.number().int().min(0)).optional(),
  /** Values are clamped to [low, high] (per name). */
  low: z.array(z.number()).optional(),
  high: z.array(z.number()).optional(),
  /** The output is sampled (see the discrete `sampled`). */
  sampled: z.boolean().optional(),
});

/** The recurrent state a policy carries per agent between decisions. */
export const RecurrentSchema = z.object({
  input: z.string().min(1),
  output: z.string().min(1),
  /** Number of floats of state per agent. */
  size: z.number().int().positive(),
});

/** Per-kind contract of a policy. */
export const PolicySchema = z.object({
  observation: z.object({
    /** The observation inputs, in order; a row is their concatenation. */
    inputs: z.array(z.string().min(1)).min(1),
    /** Ordered feature names over the concatenated inputs (the row's columns). */
    features: z.array(FeatureSchema).min(1),
  }),
  actions: z
    .object({
      discrete: DiscreteActionsSchema.optional(),
      continuous: ContinuousActionsSchema.optional(),
    })
    .refine((a) => a.discrete || a.continuous, 'actions needs discrete or continuous'),
  /** An input that takes an action mask (1 = allowed, 0 = masked), branches concatenated. */
  mask: z.object({ input: z.string().min(1) }).optional(),
  recurrent: RecurrentSchema.optional(),
  /**
   * Inputs the engine fills with constants on every call (e.g. Godot RL's `state_ins`
   * without recurrent use): name → value.
   */
  constants: z.record(z.string(), z.number()).optional(),
  /** A named heuristic that answers when no model can (see the fallback route). */
  fallback: z.object({ heuristic: z.string().min(1) }).optional(),
});
export type PolicyContract = z.infer<typeof PolicySchema>;

/** One item of a recommender's catalogue. */
export const CatalogueItemSchema = z.object({
  id: z.string().min(1),
  title: z.string().optional(),
  tags: z.array(z.string()).optional(),
  /** Popularity used for cold start (higher = more popular). */
  popularity: z.number().optional(),
});

/** Per-kind contract of a recommender. */
export const RecommenderSchema = z.object({
  catalogue: z.array(CatalogueItemSchema).min(1),
  /** The input that takes the player's history. */
  input: z.string().min(1),
  /** The output with one score per catalogue item (catalogue order). */
  output: z.string().min(1),
  /** How history is fed: a multi-hot (or weighted) row over the catalogue. */
  history: z.enum(['multi-hot', 'weighted']).default('multi-hot'),
  coldStart: z.enum(['popularity']).default('popularity'),
});
export type RecommenderContract = z.infer<typeof RecommenderSchema>;

const common = {
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only'),
  format: z.enum(['playmind', 'ml-agents', 'godot-rl']).default('playmind'),
  description: z.string().optional(),
  inputs: z.array(TensorSpecSchema).min(1),
  outputs: z.array(TensorSpecSchema).min(1),
  /** Pin a version; otherwise the highest version folder is served. */
  version: z.number().int().positive().optional(),
  /** sha256 of each version's model.onnx, keyed by version number. */
  sha256: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)).optional(),
  /** Engine settings for this model. */
  batching: z
    .object({
      maxBatchSize: z.number().int().positive().optional(),
      maxQueueDelayMs: z.number().min(0).optional(),
      maxQueueSize: z.number().int().positive().optional(),
    })
    .optional(),
  /** Training report: data, metrics, links. Free-form. */
  report: z.record(z.string(), z.unknown()).optional(),
};

/** The manifest of a model folder. */
export const ManifestSchema = z.discriminatedUnion('kind', [
  z.object({ ...common, kind: z.literal('policy'), policy: PolicySchema }),
  z.object({ ...common, kind: z.literal('recommender'), recommender: RecommenderSchema }),
  z.object({ ...common, kind: z.literal('tensor') }),
]);
export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestInput = z.input<typeof ManifestSchema>;
export type PolicyManifest = Extract<Manifest, { kind: 'policy' }>;
export type RecommenderManifest = Extract<Manifest, { kind: 'recommender' }>;
export type ModelKind = Manifest['kind'];

/**
 * Parses and validates a manifest. Every problem is listed in the error's message
 * and in `details.problems`.
 *
 * @param raw - the parsed JSON (or a JSON string)
 * @param source - where it came from, for the message (a path or URL)
 * @returns the manifest with defaults applied
 * @throws PlaymindError `manifest_invalid`
 */
export function parseManifest(raw: unknown, source = 'manifest.json'): Manifest {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (err) {
      // The parser's message quotes the text: keep only where it failed, never the file's contents.
      const at = /position (\d+)/.exec((err as Error).message)?.[1];
      throw new PlaymindError(
        ErrorCode.MANIFEST_INVALID,
        `${source}: not valid JSON${at !== undefined ? ` (at position ${at})` : ''}`,
        { cause: err, details: { file: source } },
      );
    }
  }
  const result = ManifestSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new PlaymindError(ErrorCode.MANIFEST_INVALID, `${source}: ${problems.join('; ')}`, {
      details: { file: source, problems },
    });
  }
  const m = result.data;
  const problems = crossCheck(m);
  if (problems.length > 0) {
    throw new PlaymindError(ErrorCode.MANIFEST_INVALID, `${source}: ${problems.join('; ')}`, {
      details: { file: source, problems },
    });
  }
  return m;
}

/** Checks that every name the per-kind section uses is a declared input or output. */
function crossCheck(m: Manifest): string[] {
  const problems: string[] = [];
  const ins = new Map(m.inputs.map((t) => [t.name, t]));
  const outs = new Map(m.outputs.map((t) => [t.name, t]));
  const needIn = (name: string, where: string) => {
    if (!ins.has(name)) problems.push(`${where}: "${name}" is not a declared input`);
  };
  const needOut = (name: string, where: string) => {
    if (!outs.has(name)) problems.push(`${where}: "${name}" is not a declared output`);
  };
  if (m.kind === 'policy') {
    const p = m.policy;
    let width = 0;
    for (const name of p.observation.inputs) {
      needIn(name, 'policy.observation.inputs');
      const spec = ins.get(name);
      if (spec) width += rowWidth(spec);
    }
    if (problems.length === 0 && width !== p.observation.features.length) {
      problems.push(
        `policy.observation.features: ${p.observation.features.length} features but the observation inputs take ${width} values per row`,
      );
    }
    const d = p.actions.discrete;
    if (d) {
      needOut(d.output, 'policy.actions.discrete.output');
      if (d.probabilitiesOutput) needOut(d.probabilitiesOutput, 'policy.actions.discrete.probabilitiesOutput');
      if (d.offsets && d.offsets.length !== d.branches.length)
        problems.push(`policy.actions.discrete.offsets: ${d.offsets.length} offsets for ${d.branches.length} branches`);
      const names = d.branches.flat();
      const dup = names.find((n, i) => names.indexOf(n) !== i);
      if (dup !== undefined) problems.push(`policy.actions.discrete.branches: action "${dup}" is named twice`);
      const out = outs.get(d.output);
      const row = out && out.shape.length > 1 ? rowWidth(out) : undefined;
      if (row !== undefined && out!.shape.slice(1).every((x) => x >= 0)) {
        const need = columnsNeeded(d);
        if (need > row)
          problems.push(
            `policy.actions.discrete: reads ${need} values per row of "${d.output}", which has ${row} [${out!.shape.join(', ')}]`,
          );
      }
    }
    const c = p.actions.continuous;
    if (c) {
      needOut(c.output, 'policy.actions.continuous.output');
      for (const [key, arr] of [
        ['low', c.low],
        ['high', c.high],
        ['columns', c.columns],
      ] as const) {
        if (arr && arr.length !== c.names.length)
          problems.push(`policy.actions.continuous.${key}: ${arr.length} values for ${c.names.length} actions`);
      }
      const out = outs.get(c.output);
      if (out && out.shape.length > 1 && out.shape.slice(1).every((x) => x >= 0)) {
        const need = c.columns ? Math.max(...c.columns) + 1 : c.names.length;
        if (need > rowWidth(out))
          problems.push(
            `policy.actions.continuous: reads ${need} values per row of "${c.output}", which has ${rowWidth(out)} [${out.shape.join(', ')}]`,
          );
      }
    }
    if (p.mask) needIn(p.mask.input, 'policy.mask.input');
    if (p.recurrent) {
      needIn(p.recurrent.input, 'policy.recurrent.input');
      needOut(p.recurrent.output, 'policy.recurrent.output');
    }
    for (const name of Object.keys(p.constants ?? {})) needIn(name, 'policy.constants');
    const fed = new Set([
      ...p.observation.inputs,
      ...(p.mask ? [p.mask.input] : []),
      ...(p.recurrent ? [p.recurrent.input] : []),
      ...Object.keys(p.constants ?? {}),
    ]);
    for (const t of m.inputs)
      if (!fed.has(t.name))
        problems.push(`inputs: "${t.name}" is neither an observation, mask, recurrent nor constant input`);
  } else if (m.kind === 'recommender') {
    needIn(m.recommender.input, 'recommender.input');
    needOut(m.recommender.output, 'recommender.output');
    const ids = new Set<string>();
    for (const item of m.recommender.catalogue) {
      if (ids.has(item.id)) problems.push(`recommender.catalogue: duplicate id "${item.id}"`);
      ids.add(item.id);
    }
  }
  return problems;
}

/** How many values per output row a discrete decoding reads. */
function columnsNeeded(d: z.infer<typeof DiscreteActionsSchema>): number {
  const perBranch = (b: number) => (d.encoding === 'index' || d.encoding === 'round' ? 1 : d.branches[b]!.length);
  if (d.offsets) return Math.max(...d.offsets.map((o, b) => o + perBranch(b)));
  return d.branches.reduce((s, _, b) => s + perBranch(b), 0);
}

/** Number of values one batch row of a tensor holds (product of the dims after the first). */
export function rowWidth(spec: TensorSpec): number {
  let n = 1;
  for (const d of spec.shape.slice(1)) n *= d < 0 ? 1 : d;
  return n;
}
