/**
 * Replaying a match from its decision log (`playmind replay`, the replay page):
 *
 * - **re-simulation**: the arena game is rebuilt from the logged setup, the logged
 *   player inputs are applied at their ticks and the logged guard decisions are
 *   applied as they were (onnxruntime promises no bit-identical results across
 *   builds, so decisions are replayed, never recomputed); every tick's state hash
 *   is checked against the logged one (`ticks`, `identicalTicks`);
 * - **re-decision** (`modelsDir`): every observation a model decided on — recomputed
 *   by the re-simulation, which the hashes prove identical — is decided again by the
 *   logged version, loaded from the model folder, through the server's guard brain;
 *   `agreement` is the share of guards given the same action (1 for an unchanged
 *   model on the same machine), `maxProbabilityDifference` the largest difference of
 *   one action probability (what a different backend or build shows);
 * - **candidate** (`candidate`): the same for another version, with a confusion
 *   matrix (logged action × candidate action), and a **counterfactual** re-simulation
 *   with the candidate acting and the recorded player inputs applied as they were (the
 *   players do not react to the candidate: labelled as such), whose guard return and
 *   round win rate stand beside the logged run's.
 *
 * @module
 */
import type { Logger } from '../../sdk/index.js';
import {
  type AppliedDecision,
  type ArenaGame,
  type DecideGuards,
  type GameRecording,
  type GuardDecision,
  type RoundEnd,
  recordedDecisions,
  replayRecording,
} from '../game/index.js';
import { GuardBrain } from '../rooms/arena-brain.js';
import { loadCandidate, type Candidate } from '../rollout/candidate-source.js';
import { GUARD_ACTIONS, GUARD_ACTION_COUNT, episodeReturn } from '../sim/index.js';
import type { MatchDecision } from './decision-log-format.js';
import type { MatchRecord } from './decision-log-reader.js';

/** A model version named as in a decision (`npc-guard@2`). */
export interface VersionRef {
  readonly name: string;
  readonly version: number;
}

/**
 * Parses `name@version` (`npc-guard@2`); null for anything else (a fallback's
 * `npc-guard@fallback:expert-guard`, the scripted `expert-guard`).
 */
export function parseVersionRef(label: string): VersionRef | null {
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)@([1-9]\d{0,8})$/.exec(label);
  return m ? { name: m[1]!, version: Number(m[2]) } : null;
}

/** How the guards did in one run of a match. */
export interface RunOutcome {
  /** Mean over guards of their cumulative reward at the end (`episodeReturn`). */
  readonly guardReturn: number;
  /** Rounds that ended. */
  readonly rounds: number;
  /** Of those, the ones the guards won. */
  readonly guardWins: number;
  /** guardWins / rounds, or null when no round ended. */
  readonly winRate: number | null;
  readonly playerDowns: number;
  readonly guardDowns: number;
}

/** How one version's decisions compare with the logged ones. */
export interface Agreement {
  /** `npc-guard@2`. */
  readonly model: string;
  /** Guard decisions compared (those a model made in the log). */
  readonly compared: number;
  readonly agreed: number;
  /** agreed / compared, or null when nothing was compared. */
  readonly agreement: number | null;
  /** Largest difference of one action probability, where both gave probabilities. */
  readonly maxProbabilityDifference: number | null;
  /** Guard decisions it failed to make. */
  readonly errors: number;
}

/** A candidate's report. */
export interface CandidateReport extends Agreement {
  /** Rows: the logged action; columns: the candidate's (both in `actions` order). */
  readonly confusion: { readonly actions: readonly string[]; readonly counts: number[][] };
  /** The candidate acting, against the recorded player inputs. */
  readonly counterfactual: RunOutcome & {
    /** What the players did in this run. */
    readonly inputs: 'recorded';
    readonly note: string;
    readonly ticks: number;
    /** Recorded inputs the counterfactual game refused (e.g. finishing a quest it never gave). */
    readonly skippedInputs: number;
  };
}

/** What {@link replayMatch} reports (`playmind replay --json`). */
export interface ReplayReport {
  readonly matchId: string;
  readonly files: readonly string[];
  readonly bytes: number;
  /** The log ended early (a crash, or damage): `problem` says where. */
  readonly truncated: boolean;
  readonly problem: string | null;
  readonly end: MatchRecord['end'];
  readonly ticks: number;
  readonly identicalTicks: number;
  readonly firstDifference: number | null;
  /** Decisions logged (one per applied tick), and their guard rows. */
  readonly decisions: number;
  readonly guardDecisions: number;
  /** Guard rows per deciding model label (`npc-guard@1`, `npc-guard@fallback:expert-guard`, `expert-guard`). */
  readonly byModel: Readonly<Record<string, number>>;
  /** Shadow decisions logged (a shadow rollout ran). */
  readonly shadowDecisions: number;
  /** The logged run, re-simulated. */
  readonly logged: RunOutcome;
  /** With `modelsDir`: every logged observation re-decided by its logged version. */
  readonly redecided: (Agreement & { readonly versions: readonly Agreement[] }) | null;
  /** With `candidate`. */
  readonly candidate: CandidateReport | null;
  /** `agreement` of the re-decision (the CLI's headline), or null without `modelsDir`. */
  readonly agreement: number | null;
}

/** Options of {@link replayMatch}. */
export interface ReplayMatchOptions {
  /** The model folder to re-decide with (the logged versions, and the candidate). */
  modelsDir?: string;
  /** A version to compare and to play the counterfactual with. Needs `modelsDir`. */
  candidate?: VersionRef;
  logger?: Logger;
}

/** A match read from its log, as the arena game's in-memory recording. */
export function matchRecording(record: MatchRecord): GameRecording {
  if (!record.setup)
    throw new RangeError(
      `match ${record.matchId}: its first segment is missing (deleted by the size cap); it cannot be re-run`,
    );
  const s = record.setup;
  return {
    setup: {
      seed: s.seed,
      arena: s.arena,
      guardCount: s.guardCount,
      minPlayers: s.minPlayers,
      bots: s.bots,
      quests: s.quests,
      rounds: s.rounds ?? null,
      guardMode: s.guardMode ?? 'model',
      tick: s.tick,
      hash: s.hash,
    },
    inputs: record.inputs,
    decisions: record.decisions.map(appliedDecision),
    ticks: record.ticks,
  };
}

/** A logged decision as the game applies it. */
export function appliedDecision(d: MatchDecision): AppliedDecision {
  const n = d.actions.length;
  const p = d.probabilities;
  return {
    tick: d.tick,
    observedTick: d.observedTick,
    actions: d.actions,
    model: d.model,
    outcome: d.outcome,
    servedBy: d.servedBy,
    reason: d.reason ?? '',
    probabilities: p
      ? Array.from({ length: n }, (_, i) => p.subarray(i * GUARD_ACTION_COUNT, (i + 1) * GUARD_ACTION_COUNT))
      : null,
  };
}

/** Counts a run's rounds and downs. */
class OutcomeCounter {
  rounds = 0;
  guardWins = 0;
  playerDowns = 0;
  guardDowns = 0;
  guardReturn = 0;

  onRoundEnd = (end: RoundEnd): void => {
    this.rounds++;
    if (end.winner === 'guards') this.guardWins++;
  };

  onTick = (game: ArenaGame, events: readonly { type: string }[]): void => {
    for (const e of events) {
      if (e.type === 'player-down') this.playerDowns++;
      else if (e.type === 'guard-down') this.guardDowns++;
    }
    this.guardReturn = episodeReturn(game.arena);
  };

  outcome(): RunOutcome {
    return {
      guardReturn: this.guardReturn,
      rounds: this.rounds,
      guardWins: this.guardWins,
      winRate: this.rounds > 0 ? this.guardWins / this.rounds : null,
      playerDowns: this.playerDowns,
      guardDowns: this.guardDowns,
    };
  }
}

/** Compares one version's decisions with the logged ones. */
class Comparison {
  compared = 0;
  agreed = 0;
  errors = 0;
  maxDiff: number | null = null;
  readonly confusion = GUARD_ACTIONS.map(() => new Array<number>(GUARD_ACTIONS.length).fill(0));

  constructor(readonly model: string) {}

  add(logged: AppliedDecision, d: GuardDecision): void {
    const n = logged.actions.length;
    if (d.outcome !== 'model' || !d.actions || d.actions.length !== n) {
      this.errors += n;
      return;
    }
    for (let i = 0; i < n; i++) {
      const a = logged.actions[i]!;
      const b = d.actions[i]!;
      this.compared++;
      if (a === b) this.agreed++;
      const row = this.confusion[a];
      if (row && b < row.length) row[b]!++;
      const p = logged.probabilities?.[i];
      const q = d.probabilities?.[i];
      if (p && q && p.length === q.length) {
        let m = this.maxDiff ?? 0;
        for (let j = 0; j < p.length; j++) m = Math.max(m, Math.abs(p[j]! - q[j]!));
        this.maxDiff = m;
      }
    }
  }

  report(): Agreement {
    return {
      model: this.model,
      compared: this.compared,
      agreed: this.agreed,
      agreement: this.compared > 0 ? this.agreed / this.compared : null,
      maxProbabilityDifference: this.maxDiff,
      errors: this.errors,
    };
  }
}

/** A version loaded to re-decide with. */
interface Decider {
  readonly label: string;
  readonly guards: GuardBrain;
  readonly candidate: Candidate;
}

async function loadDecider(modelsDir: string, ref: VersionRef, logger?: Logger): Promise<Decider> {
  const candidate = await loadCandidate(modelsDir, ref.name, ref.version, logger);
  const guards = new GuardBrain({ brain: candidate.brain, model: ref.name, deadlineMs: 60_000, priority: 'normal' });
  return { label: `${ref.name}@${ref.version}`, guards, candidate };
}

/**
 * Replays a match from its decision log (see the module documentation).
 *
 * @param record - `readMatchLog(file)`
 * @param options - the model folder and a candidate
 * @returns the report
 * @throws RangeError when the match cannot be re-run (no first segment, not from tick 0);
 *   PlaymindError when a logged version or the candidate does not load from `modelsDir`
 */
export async function replayMatch(record: MatchRecord, options: ReplayMatchOptions = {}): Promise<ReplayReport> {
  if (options.candidate && !options.modelsDir) throw new TypeError(`'candidate' needs 'modelsDir'`);
  const recording = matchRecording(record);
  const byModel: Record<string, number> = {};
  for (const d of recording.decisions) byModel[d.model] = (byModel[d.model] ?? 0) + d.actions.length;
  const deciders = new Map<string, Decider>();
  const comparisons = new Map<string, Comparison>();
  let candidate: Decider | null = null;
  try {
    if (options.modelsDir) {
      for (const label of Object.keys(byModel)) {
        const ref = parseVersionRef(label);
        if (!ref || deciders.has(label)) continue;
        deciders.set(label, await loadDecider(options.modelsDir, ref, options.logger));
        comparisons.set(label, new Comparison(label));
      }
    }
    let candidateComparison: Comparison | null = null;
    if (options.candidate && options.modelsDir) {
      candidate = await loadDecider(options.modelsDir, options.candidate, options.logger);
      candidateComparison = new Comparison(candidate.label);
    }

    // The logged run: recorded decisions applied; each observation a model decided on is re-decided.
    const recorded = recordedDecisions(recording.decisions);
    const byObserved = new Map(recording.decisions.map((d) => [d.observedTick, d]));
    const redecide: DecideGuards = async (tick, rows, masks, n) => {
      const logged = byObserved.get(tick);
      if (logged && logged.outcome === 'model' && logged.actions.length === n) {
        const own = deciders.get(logged.model);
        if (own) comparisons.get(logged.model)!.add(logged, await own.guards.decide(tick, rows, masks, n));
        if (candidate) candidateComparison!.add(logged, await candidate.guards.decide(tick, rows, masks, n));
      }
      return recorded(tick, rows, masks, n);
    };
    const loggedRun = new OutcomeCounter();
    const result = await replayRecording(recording, {
      decideGuards: redecide,
      onTick: loggedRun.onTick,
      onRoundEnd: loggedRun.onRoundEnd,
    });

    let candidateReport: CandidateReport | null = null;
    if (candidate && candidateComparison) {
      const cf = new OutcomeCounter();
      const guards = candidate.guards;
      const acting: DecideGuards = async (tick, rows, masks, n) => ({
        ...(await guards.decide(tick, rows, masks, n)),
        servedBy: 'local',
      });
      const run = await replayRecording(recording, {
        decideGuards: acting,
        skipRefusedInputs: true,
        onTick: cf.onTick,
        onRoundEnd: cf.onRoundEnd,
      });
      candidateReport = {
        ...candidateComparison.report(),
        confusion: { actions: GUARD_ACTIONS, counts: candidateComparison.confusion },
        counterfactual: {
          inputs: 'recorded',
          note: 'the candidate acts; the players repeat their recorded inputs (they do not react to it) and bots play as scripted',
          ticks: run.ticks,
          skippedInputs: run.skippedInputs,
          ...cf.outcome(),
        },
      };
    }

    let redecided: ReplayReport['redecided'] = null;
    if (options.modelsDir) {
      const versions = [...comparisons.values()].map((c) => c.report());
      const compared = versions.reduce((s, v) => s + v.compared, 0);
      const agreed = versions.reduce((s, v) => s + v.agreed, 0);
      const diffs = versions.map((v) => v.maxProbabilityDifference).filter((d): d is number => d !== null);
      redecided = {
        model: versions.map((v) => v.model).join(', '),
        compared,
        agreed,
        agreement: compared > 0 ? agreed / compared : null,
        maxProbabilityDifference: diffs.length > 0 ? Math.max(...diffs) : null,
        errors: versions.reduce((s, v) => s + v.errors, 0),
        versions,
      };
    }
    return {
      matchId: record.matchId,
      files: record.files,
      bytes: record.bytes,
      truncated: record.truncated,
      problem: record.problem,
      end: record.end,
      ticks: result.ticks,
      identicalTicks: result.identicalTicks,
      firstDifference: result.firstDifference,
      decisions: recording.decisions.length,
      guardDecisions: Object.values(byModel).reduce((s, v) => s + v, 0),
      byModel,
      shadowDecisions: record.shadows.length,
      logged: loggedRun.outcome(),
      redecided,
      candidate: candidateReport,
      agreement: redecided?.agreement ?? null,
    };
  } finally {
    for (const d of deciders.values()) await d.candidate.close();
    await candidate?.candidate.close();
  }
}

/** One guard at one tick, as the replay page draws and inspects it. */
export interface FrameGuard {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly alive: boolean;
  readonly health: number;
  /** The action applied at this tick. */
  readonly action: string;
  /** Who decided it (`npc-guard@1`, `npc-guard@fallback:expert-guard`, `expert-guard`, `initial`). */
  readonly model: string;
  readonly servedBy: string;
  /** The tick observed to decide it. */
  readonly decisionTick: number;
  /** `GUARD_ACTIONS` order, rounded to 4 digits; null where the model gave none. */
  readonly probabilities: readonly number[] | null;
  readonly target: string;
  readonly sees: boolean;
  /** What the scripted expert guard would have done on the same observation. */
  readonly expert: string;
}

/** One player at one tick. */
export interface FramePlayer {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly x: number;
  readonly y: number;
  readonly alive: boolean;
  readonly score: number;
}

/** One tick of a match, re-simulated. */
export interface MatchFrame {
  readonly tick: number;
  /** Whether the re-simulated state hash equals the logged one. */
  readonly identical: boolean;
  readonly guards: readonly FrameGuard[];
  readonly players: readonly FramePlayer[];
  readonly round: number;
  readonly teamScore: number;
}

/** A match as the replay page plays it back. */
export interface MatchFrames {
  readonly matchId: string;
  readonly meta: MatchRecord['meta'];
  readonly width: number;
  readonly height: number;
  readonly obstacles: readonly { x: number; y: number; w: number; h: number }[];
  readonly actions: readonly string[];
  /** Ticks re-simulated (at most `maxTicks`, from the start): one frame each. */
  readonly ticks: number;
  readonly identicalTicks: number;
  readonly frames: readonly MatchFrame[];
}

const r1 = (v: number): number => Math.round(v * 10) / 10;
const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/**
 * Re-simulates a match from its log (recorded decisions applied) and keeps every
 * tick's view: the replay page's data.
 *
 * @param record - `readMatchLog(file)`
 * @param maxTicks - frames kept, from the start @default 12000 (10 minutes at 20 Hz)
 * @returns the frames
 * @throws RangeError when the match cannot be re-run
 */
export async function matchFrames(record: MatchRecord, maxTicks = 12_000): Promise<MatchFrames> {
  const recording = matchRecording(record);
  const hashes = new Map(recording.ticks.map((t) => [t.tick, t.hash]));
  const frames: MatchFrame[] = [];
  let width = 0;
  let height = 0;
  let obstacles: MatchFrames['obstacles'] = [];
  const result = await replayRecording(
    { ...recording, ticks: recording.ticks.slice(0, maxTicks) },
    {
      onTick: (game) => {
        const v = game.view;
        if (frames.length === 0) {
          width = v.width;
          height = v.height;
          obstacles = v.obstacles.map((o) => ({ x: o.x, y: o.y, w: o.w, h: o.h }));
        }
        frames.push({
          tick: v.tick,
          identical: hashes.get(v.tick) === game.stateHash(),
          round: v.round,
          teamScore: v.teamScore,
          guards: [...v.guards.values()].map((g) => ({
            id: g.id,
            x: r1(g.x),
            y: r1(g.y),
            alive: g.alive,
            health: r1(g.health),
            action: g.action,
            model: g.model,
            servedBy: g.servedBy,
            decisionTick: g.decisionTick,
            probabilities: g.probabilities ? Array.from(g.probabilities, r4) : null,
            target: g.target,
            sees: g.sees,
            expert: g.expert,
          })),
          players: [...v.players.values()].map((p) => ({
            id: p.id,
            name: p.name,
            kind: p.kind,
            x: r1(p.x),
            y: r1(p.y),
            alive: p.alive,
            score: p.score,
          })),
        });
      },
    },
  );
  return {
    matchId: record.matchId,
    meta: record.meta,
    width,
    height,
    obstacles,
    actions: GUARD_ACTIONS,
    ticks: result.ticks,
    identicalTicks: result.identicalTicks,
    frames,
  };
}
