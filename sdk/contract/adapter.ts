/**
 * Caller contracts: a game written against its own feature and action order (the
 * arena's `GUARD_FEATURES` / `GUARD_ACTIONS`, say) declares it once, and the brain
 * adapts its rows and masks to whichever version serves (features matched by name
 * with their normalisation, actions by name), maps decisions back into the caller's
 * action order, and answers with the contract's heuristic when the model is missing.
 *
 * @module
 */
import { parseManifest, type PolicyManifest, type RecommenderManifest } from './manifest.js';

/** What {@link policyContract} takes. */
export interface PolicyContractInput {
  /** The model the contract is for, e.g. `npc-guard`. */
  name: string;
  /** The caller's feature order; rows carry raw (unnormalised) values. */
  features: readonly string[];
  /** The caller's action order (one discrete branch). */
  actions: readonly string[];
  /** The heuristic that answers when the model cannot and its manifest names none (or one not registered). */
  heuristic: string;
}

/**
 * Builds the policy contract a caller is written against (a manifest without a
 * model file), for `brain.policy(name, { contract })`.
 *
 * @example
 * const contract = policyContract({ name: 'npc-guard', features: GUARD_FEATURES, actions: GUARD_ACTIONS, heuristic: 'expert-guard' });
 * const guard = brain.policy('npc-guard', { contract });
 */
export function policyContract(input: PolicyContractInput): PolicyManifest {
  const { name, features, actions, heuristic } = input;
  return parseManifest(
    {
      name,
      kind: 'policy',
      inputs: [{ name: 'observation', dtype: 'float32', shape: [-1, features.length] }],
      outputs: [{ name: 'actions', dtype: 'float32', shape: [-1, actions.length] }],
      policy: {
        observation: { inputs: ['observation'], features: [...features] },
        actions: { discrete: { branches: [[...actions]], output: 'actions', encoding: 'logits' } },
        fallback: { heuristic },
      },
    },
    `the contract of ${name}`,
  ) as PolicyManifest;
}

/** What {@link recommenderContract} takes. */
export interface RecommenderContractInput {
  name: string;
  /** The items the caller can use, most popular first unless `popularity` says otherwise. */
  catalogue: readonly { id: string; title?: string; tags?: readonly string[]; popularity?: number }[];
}

/** Builds the recommender contract a caller is written against, for `brain.recommender(name, { contract })`. */
export function recommenderContract(input: RecommenderContractInput): RecommenderManifest {
  const n = input.catalogue.length;
  return parseManifest(
    {
      name: input.name,
      kind: 'recommender',
      inputs: [{ name: 'history', dtype: 'float32', shape: [-1, n] }],
      outputs: [{ name: 'scores', dtype: 'float32', shape: [-1, n] }],
      recommender: {
        catalogue: input.catalogue.map((c, i) => ({
          id: c.id,
          ...(c.title !== undefined ? { title: c.title } : {}),
          ...(c.tags !== undefined ? { tags: [...c.tags] } : {}),
          popularity: c.popularity ?? n - i,
        })),
        input: 'history',
        output: 'scores',
      },
    },
    `the contract of ${input.name}`,
  ) as RecommenderManifest;
}

/** How rows and masks in a contract's order feed one served version. */
export interface PolicyAdapter {
  /** Features and actions are exactly the contract's, unnormalised: rows, masks and decisions pass as they are. */
  readonly identity: boolean;
  /** For each model feature: its column in a contract row. */
  readonly columns: Int32Array;
  readonly mean: Float32Array;
  readonly std: Float32Array;
  /** For each model action (first branch): its index in the contract's actions. */
  readonly actions: Int32Array;
  /** Width of the model's mask row (all branches). */
  readonly maskWidth: number;
  /** Width of a contract row and of a contract mask. */
  readonly features: number;
  readonly contractActions: number;
}

/** An adapter, or why the version cannot serve the contract. */
export type AdapterOrProblem = PolicyAdapter | { problem: string };

const adapters = new WeakMap<PolicyManifest, WeakMap<PolicyManifest, AdapterOrProblem>>();

/**
 * Works out how a contract's rows and masks feed a version's manifest (cached per pair).
 * @returns the adapter, or the reason the version cannot serve the contract
 */
export function adapterFor(contract: PolicyManifest, m: PolicyManifest): AdapterOrProblem {
  let byModel = adapters.get(contract);
  if (!byModel) adapters.set(contract, (byModel = new WeakMap()));
  let a = byModel.get(m);
  if (!a) byModel.set(m, (a = computeAdapter(contract, m)));
  return a;
}

function computeAdapter(contract: PolicyManifest, m: PolicyManifest): AdapterOrProblem {
  const p = m.policy;
  const disc = p.actions.discrete;
  const cFeatures = contract.policy.observation.features;
  const cActions = contract.policy.actions.discrete!.branches[0]!;
  if (!disc) return { problem: `${m.name} has no discrete actions` };
  if (p.recurrent) return { problem: `${m.name} is recurrent; a contract caller does not carry its memory` };
  const featureIndex = new Map<string, number>(cFeatures.map((f, i) => [f.name, i]));
  const n = p.observation.features.length;
  const columns = new Int32Array(n);
  const mean = new Float32Array(n);
  const std = new Float32Array(n).fill(1);
  let identity = n === cFeatures.length;
  for (let j = 0; j < n; j++) {
    const f = p.observation.features[j]!;
    const col = featureIndex.get(f.name);
    if (col === undefined)
      return { problem: `${m.name} needs feature "${f.name}", which ${contract.name}'s caller does not observe` };
    columns[j] = col;
    mean[j] = f.mean ?? 0;
    std[j] = f.std ?? 1;
    if (col !== j || mean[j] !== 0 || std[j] !== 1) identity = false;
  }
  const branch = disc.branches[0]!;
  const actionIndex = new Map<string, number>(cActions.map((a, i) => [a, i]));
  const actions = new Int32Array(branch.length);
  for (let j = 0; j < branch.length; j++) {
    const a = actionIndex.get(branch[j]!);
    if (a === undefined)
      return { problem: `${m.name} has action "${branch[j]}", which the caller cannot do (${cActions.join(', ')})` };
    actions[j] = a;
    if (a !== j) identity = false;
  }
  const maskWidth = disc.branches.reduce((s, b) => s + b.length, 0);
  if (branch.length !== cActions.length || maskWidth !== cActions.length) identity = false;
  return {
    identity,
    columns,
    mean,
    std,
    actions,
    maskWidth,
    features: cFeatures.length,
    contractActions: cActions.length,
  };
}

/**
 * Turns rows and masks in the contract's order into the version's (the same arrays
 * when the adapter is the identity).
 */
export function adaptBatch(
  a: PolicyAdapter,
  rows: Float32Array,
  masks: Float32Array | undefined,
  n: number,
): { rows: Float32Array; masks: Float32Array | undefined } {
  if (a.identity) return { rows, masks };
  const w = a.columns.length;
  const out = new Float32Array(n * w);
  for (let r = 0; r < n; r++) {
    const src = r * a.features;
    const dst = r * w;
    for (let j = 0; j < w; j++) out[dst + j] = (rows[src + a.columns[j]!]! - a.mean[j]!) / a.std[j]!;
  }
  if (!masks) return { rows: out, masks: undefined };
  // The first branch follows the model's action order; other branches are all allowed.
  const mw = a.maskWidth;
  const m = new Float32Array(n * mw).fill(1);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < a.actions.length; j++) m[r * mw + j] = masks[r * a.contractActions + a.actions[j]!]!;
  }
  return { rows: out, masks: m };
}

/** Maps a version's first-branch action index into the contract's order. */
export function contractAction(a: PolicyAdapter, index: number): number {
  return a.identity ? index : a.actions[index]!;
}

/** Reorders a version's first-branch probabilities into the contract's action order (absent actions get 0). */
export function contractProbabilities(a: PolicyAdapter, p: Float32Array): Float32Array {
  if (a.identity) return p;
  const out = new Float32Array(a.contractActions);
  for (let j = 0; j < a.actions.length && j < p.length; j++) out[a.actions[j]!] = p[j]!;
  return out;
}
