/**
 * Behaviour-cloning data: (observation, action mask, expert action) of living
 * guards, collected from seeded episodes of a policy against the scripted
 * player bots. The labels always come from the scripted expert (the
 * observation-only version the SDK's fallback runs); the states can come from
 * the expert itself or from another policy (DAgger-style relabelling).
 *
 * @module
 */
import {
  GUARD_ACTION_COUNT,
  GUARD_FEATURE_COUNT,
  expertGuardFromObservation,
  expertPolicy,
  runEpisode,
  type GuardPolicy,
} from '../../../server/sim/index.js';
import type { ProgressFactory } from '../progress.js';

/** A behaviour-cloning data set (rows concatenated). */
export interface BcDataset {
  /** `size × GUARD_FEATURE_COUNT` observations. */
  readonly obs: Float32Array;
  /** `size × GUARD_ACTION_COUNT` masks (1 = allowed). */
  readonly masks: Float32Array;
  /** `size` expert actions. */
  readonly actions: Int32Array;
  readonly size: number;
  /** Episodes played to collect it. */
  readonly episodes: number;
}

/** Options of {@link collectDataset}. */
export interface CollectOptions {
  /** Episode seeds. */
  readonly seeds: readonly number[];
  /** Who plays (whose states are recorded). @default the expert */
  readonly policy?: GuardPolicy;
  /** Keep one tick in `stride`. @default 1 */
  readonly stride?: number;
  readonly progress?: ProgressFactory;
}

/**
 * Plays the episodes and records every living guard's state with the expert's
 * label. States where only one action is allowed carry no choice and are skipped.
 *
 * @param options - see {@link CollectOptions}
 * @returns the data set
 */
export async function collectDataset(options: CollectOptions): Promise<BcDataset> {
  const { seeds, policy = expertPolicy, stride = 1 } = options;
  const obs: number[] = [];
  const masks: number[] = [];
  const actions: number[] = [];
  const task = options.progress?.('collect expert data', seeds.length);
  let done = 0;
  for (const seed of seeds) {
    await runEpisode({
      seed,
      guardPolicy: policy,
      onStep: (step) => {
        if ((step.tick - 1) % stride !== 0) return;
        const n = step.masks.length / GUARD_ACTION_COUNT;
        for (let i = 0; i < n; i++) {
          const m = step.masks.subarray(i * GUARD_ACTION_COUNT, (i + 1) * GUARD_ACTION_COUNT);
          let allowed = 0;
          for (let a = 0; a < GUARD_ACTION_COUNT; a++) if ((m[a] as number) > 0) allowed++;
          if (allowed < 2) continue;
          const row = step.obs.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT);
          for (let f = 0; f < GUARD_FEATURE_COUNT; f++) obs.push(row[f] as number);
          for (let a = 0; a < GUARD_ACTION_COUNT; a++) masks.push(m[a] as number);
          actions.push(expertGuardFromObservation(row));
        }
      },
    });
    task?.update(++done);
  }
  task?.stop();
  return {
    obs: Float32Array.from(obs),
    masks: Float32Array.from(masks),
    actions: Int32Array.from(actions),
    size: actions.length,
    episodes: seeds.length,
  };
}

/**
 * Concatenates data sets.
 *
 * @returns one data set with every row of `parts`, in order
 */
export function concatDatasets(...parts: readonly BcDataset[]): BcDataset {
  const size = parts.reduce((s, p) => s + p.size, 0);
  const obs = new Float32Array(size * GUARD_FEATURE_COUNT);
  const masks = new Float32Array(size * GUARD_ACTION_COUNT);
  const actions = new Int32Array(size);
  let at = 0;
  for (const p of parts) {
    obs.set(p.obs, at * GUARD_FEATURE_COUNT);
    masks.set(p.masks, at * GUARD_ACTION_COUNT);
    actions.set(p.actions, at);
    at += p.size;
  }
  return { obs, masks, actions, size, episodes: parts.reduce((s, p) => s + p.episodes, 0) };
}

/**
 * How often each action is the expert's label.
 *
 * @returns counts per action index
 */
export function actionHistogram(data: BcDataset): number[] {
  const h = new Array<number>(GUARD_ACTION_COUNT).fill(0);
  for (let i = 0; i < data.size; i++) h[data.actions[i] as number]! += 1;
  return h;
}
