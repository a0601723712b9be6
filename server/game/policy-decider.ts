/**
 * "Decide the guards" on an SDK policy handle (`brain.policy('npc-guard')`, in
 * any mode: the demo's browser brain, a local brain in Node): the guard
 * encoding between the arena's rows and masks and the model's contract, and the
 * decoding of the SDK's decisions back into arena actions and probabilities.
 *
 * A model whose features are exactly `GUARD_FEATURES` and whose actions are
 * exactly `GUARD_ACTIONS` gets the rows and masks as they are; any other
 * contract gets features and mask flags by name (the SDK orders and normalises
 * them). Actions the arena does not know keep the guard's last action.
 *
 * @module
 */
import type {
  ActionMask,
  Decision,
  DecideOptions,
  ErrorCodeValue,
  Observation,
  PolicyManifest,
} from '../../sdk/public.js';
import { ACTION, GUARD_ACTIONS, GUARD_ACTION_COUNT, GUARD_FEATURES, GUARD_FEATURE_COUNT } from '../sim/index.js';
import type { DecideGuards, DecisionOutcome, GuardDecision } from './guard-decision.js';

/** What the decider needs of an SDK policy handle. */
export interface GuardPolicyHandle {
  readonly name: string;
  decide(observations: readonly Observation[], options?: DecideOptions): Promise<Decision[]>;
  manifest(): Promise<PolicyManifest>;
}

/** How a policy's contract maps onto the arena's features and actions. */
export interface GuardContract {
  /** Features are `GUARD_FEATURES` and actions `GUARD_ACTIONS`, in order: rows and masks pass as they are. */
  readonly identity: boolean;
  /** The model's action names (first branch). */
  readonly actions: readonly string[];
}

/** The arena's own contract (what a fallback heuristic reads). */
export const ARENA_CONTRACT: GuardContract = Object.freeze({ identity: true, actions: GUARD_ACTIONS });

const ARENA_ACTIONS: readonly string[] = GUARD_ACTIONS;

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** The contract of a policy manifest, as the arena feeds it. */
export function guardContract(m: PolicyManifest): GuardContract {
  const features = m.policy.observation.features.map((f) => (typeof f === 'string' ? f : f.name));
  const actions = m.policy.actions.discrete?.branches[0] ?? [];
  return { identity: sameList(features, GUARD_FEATURES) && sameList(actions, GUARD_ACTIONS), actions };
}

/**
 * One tick's rows and masks as SDK observations and masks for a contract.
 *
 * @returns one observation and one mask per guard
 */
export function encodeGuardObservations(
  contract: GuardContract,
  rows: Float32Array,
  masks: Float32Array,
  n: number,
): { observations: Observation[]; masks: ActionMask[] } {
  const observations: Observation[] = [];
  const maskRows: ActionMask[] = [];
  const known = contract.identity ? [] : contract.actions.filter((a) => ARENA_ACTIONS.includes(a));
  for (let i = 0; i < n; i++) {
    const row = rows.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT);
    const mask = masks.subarray(i * GUARD_ACTION_COUNT, (i + 1) * GUARD_ACTION_COUNT);
    if (contract.identity) {
      observations.push(row);
      maskRows.push(mask);
    } else {
      observations.push(Object.fromEntries(GUARD_FEATURES.map((f, j) => [f, row[j]!])));
      maskRows.push(Object.fromEntries(known.map((a) => [a, mask[ARENA_ACTIONS.indexOf(a)]! > 0])));
    }
  }
  return { observations, masks: maskRows };
}

/**
 * The SDK's decisions as arena actions (`GUARD_ACTIONS` indices; a name the arena
 * does not know keeps `last[i]`) and, per guard, probabilities in `GUARD_ACTIONS`
 * order (undefined unless every decision has them).
 */
export function decodeGuardDecisions(
  contract: GuardContract,
  decisions: readonly Decision[],
  last: Uint8Array,
): { actions: Uint8Array; probabilities: Float32Array[] | undefined } {
  const n = decisions.length;
  const actions = new Uint8Array(last);
  for (let i = 0; i < n; i++) {
    const name = decisions[i]!.action;
    const a = name === undefined ? -1 : ARENA_ACTIONS.indexOf(name);
    if (a >= 0) actions[i] = a;
  }
  if (n === 0 || !decisions.every((d) => d.probabilities?.length === contract.actions.length))
    return { actions, probabilities: undefined };
  if (contract.identity) return { actions, probabilities: decisions.map((d) => d.probabilities!) };
  const columns = contract.actions.map((a) => ARENA_ACTIONS.indexOf(a));
  const probabilities = decisions.map((d) => {
    const out = new Float32Array(GUARD_ACTION_COUNT);
    columns.forEach((c, j) => {
      if (c >= 0) out[c] = d.probabilities![j]!;
    });
    return out;
  });
  return { actions, probabilities };
}

/** The outcome a failed decide() means. */
function failureOutcome(code: ErrorCodeValue | undefined): DecisionOutcome {
  if (code === 'deadline_exceeded') return 'deadline';
  if (code === 'overloaded') return 'overloaded';
  return 'error';
}

/** Options of {@link policyDecider}. */
export interface PolicyDeciderOptions {
  /** The budget of one decision, ms (passed to `decide`). @default none */
  readonly deadlineMs?: number;
  /** Called once when the policy's manifest cannot be read (the arena's own contract is used). */
  readonly onNoManifest?: (err: unknown) => void;
}

/**
 * Builds "decide the guards" on an SDK policy handle. The manifest is read once
 * (to know the contract); without one, the arena's own contract is used and the
 * SDK's fallback heuristic answers.
 *
 * @param policy - e.g. `brain.policy('npc-guard')`
 * @param options - deadline
 * @returns the decider (never rejects)
 * @example const decide = await policyDecider(brain.policy('npc-guard'));
 */
export async function policyDecider(
  policy: GuardPolicyHandle,
  options: PolicyDeciderOptions = {},
): Promise<DecideGuards> {
  let contract = ARENA_CONTRACT;
  try {
    contract = guardContract(await policy.manifest());
  } catch (err) {
    options.onNoManifest?.(err);
  }
  const now = (): number => performance.now();
  const decideOptions = (masks: DecideOptions['masks']): DecideOptions =>
    options.deadlineMs === undefined ? { masks } : { masks, deadlineMs: options.deadlineMs };
  let last: Uint8Array = new Uint8Array(0);
  return async (tick, rows, masks, n): Promise<GuardDecision> => {
    const t0 = now();
    if (last.length !== n) last = new Uint8Array(n).fill(ACTION.patrol);
    try {
      const batch = encodeGuardObservations(contract, rows, masks, n);
      const decisions = await policy.decide(batch.observations, decideOptions(batch.masks));
      if (decisions.length !== n)
        throw new Error(`'${policy.name}' answered ${decisions.length} decisions for ${n} guards`);
      const { actions, probabilities } = decodeGuardDecisions(contract, decisions, last);
      last = actions;
      const servedBy = decisions[0]?.servedBy ?? 'local';
      return {
        tick,
        actions: new Uint8Array(actions),
        model: decisions[0]?.model ?? '',
        outcome: servedBy === 'fallback' ? 'fallback' : 'model',
        servedBy,
        ...(probabilities ? { probabilities } : {}),
        ...(servedBy === 'fallback' && decisions[0]?.reason ? { reason: decisions[0].reason } : {}),
        latencyMs: now() - t0,
      };
    } catch (err) {
      const code = (err as { code?: ErrorCodeValue } | null)?.code;
      return {
        tick,
        actions: null,
        model: '',
        outcome: failureOutcome(code),
        latencyMs: now() - t0,
        error: err instanceof Error ? err : new Error(String(err)),
      };
    }
  };
}
