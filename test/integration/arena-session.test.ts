/**
 * The arena session without the network, deciding through the server's brain (the
 * SDK's one decision layer on a shared engine and repository): the guards get the
 * manifest's heuristic when npc-guard is missing, overloaded or past its deadline —
 * counted, and visible in the synced state — and when a decision is not back by
 * the next tick (the game's late fallback, the same heuristic, counted too).
 */
import { expect } from '../helpers/chai.js';
import type { Brain } from '../../sdk/index.js';
import { ArenaSession, type ArenaMetricsSink } from '../../server/rooms/arena-session.js';
import type { DecisionOutcome } from '../../server/game/index.js';
import {
  GUARD_ACTIONS,
  GUARD_ACTION_COUNT,
  GUARD_FEATURES,
  GUARD_FEATURE_COUNT,
  GUARD_HEURISTICS,
} from '../../server/sim/index.js';
import { tempDir } from '../helpers/compat.js';
import { linearPolicyBytes, openSharedBrain, writeModel } from '../helpers/models.js';

interface Counted {
  sink: ArenaMetricsSink;
  outcomes: DecisionOutcome[];
  reasons: (string | undefined)[];
}

function counting(): Counted {
  const outcomes: DecisionOutcome[] = [];
  const reasons: (string | undefined)[] = [];
  return {
    outcomes,
    reasons,
    sink: {
      tick() {},
      decision: (o, _ms, _n, reason) => {
        outcomes.push(o);
        reasons.push(reason);
      },
      recommendation() {},
    },
  };
}

/** The npc-guard contract over a linear policy, with engine batching from the manifest. */
function guardManifest(batching?: Record<string, number>, heuristic = 'expert-guard'): unknown {
  return {
    name: 'npc-guard',
    kind: 'policy',
    inputs: [{ name: 'obs', dtype: 'float32', shape: [-1, GUARD_FEATURE_COUNT] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [-1, GUARD_ACTION_COUNT] }],
    policy: {
      observation: { inputs: ['obs'], features: [...GUARD_FEATURES] },
      actions: { discrete: { branches: [[...GUARD_ACTIONS]], output: 'logits', encoding: 'logits' } },
      fallback: { heuristic },
    },
    ...(batching ? { batching } : {}),
  };
}

/** Every guard's synced action is the expert heuristic's choice on the observed row (or what the mask allowed). */
function expectExpertActions(s: ArenaSession, tick: number): void {
  const trace = s.decisionTrace(tick)!;
  const expert = GUARD_HEURISTICS['expert-guard']!;
  s.state.guards.forEach((g) => {
    expect(g.model).to.equal('npc-guard@fallback:expert-guard');
    const i = trace.guardIds.indexOf(g.id);
    const row = trace.rows.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT);
    const a = expert(row);
    if (trace.masks[i * GUARD_ACTION_COUNT + a]) expect(g.action).to.equal(GUARD_ACTIONS[a]);
    else expect(trace.masks[i * GUARD_ACTION_COUNT + GUARD_ACTIONS.indexOf(g.action as never)]).to.equal(1);
  });
}

describe('arena session', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function brainWith(manifest?: unknown): Promise<Brain> {
    const { dir, cleanup } = await tempDir('playmind-arena-session-');
    if (manifest)
      await writeModel(dir, 'npc-guard', 1, linearPolicyBytes(GUARD_FEATURE_COUNT, GUARD_ACTION_COUNT), manifest);
    // A server-like brain: a shared engine and repository over `dir`, the guard heuristics registered.
    const { brain, close } = await openSharedBrain(dir, { heuristics: { ...GUARD_HEURISTICS } });
    cleanups.push(cleanup, close);
    return brain;
  }

  it('drives guards with the expert-guard heuristic when npc-guard is missing, and counts it', async () => {
    const brain = await brainWith();
    const { sink, outcomes, reasons } = counting();
    const s = new ArenaSession({ brain, metrics: sink, guardCount: 5, seed: 3 });
    for (let i = 0; i < 5; i++) {
      await s.settled();
      s.tick();
    }
    await s.settled();
    expect(outcomes.length).to.be.greaterThan(0);
    expect(outcomes.every((o) => o === 'fallback')).to.equal(true);
    expect(reasons.every((r) => r === 'unknown_model')).to.equal(true);
    expect(brain.stats().fallbacks.byReason.unknown_model).to.equal(outcomes.length);
    expectExpertActions(s, s.arena.tick - 1);
  });

  it('answers with the heuristic, not the last action, when the engine is overloaded', async () => {
    // The queue holds requests for a minute and takes 6 rows: a second tick's 5 rows overflow it.
    const brain = await brainWith(guardManifest({ maxQueueSize: 6, maxQueueDelayMs: 60_000 }));
    const { sink, outcomes, reasons } = counting();
    const s = new ArenaSession({ brain, metrics: sink, guardCount: 5, seed: 4, deadlineMs: 1000 });
    s.tick(); // the decision issued at creation is still queued: late, the heuristic decides; the next one overflows the queue
    await s.settled();
    s.tick(); // applies the fallback's answer
    expect(outcomes.slice(0, 2)).to.deep.equal(['fallback', 'fallback']);
    expect(reasons.slice(0, 2)).to.deep.equal(['deadline_exceeded', 'overloaded']);
    expect(brain.stats().fallbacks.byReason.overloaded).to.equal(1);
    expectExpertActions(s, s.arena.tick - 1);
  });

  it('answers with the heuristic when the model does not answer within the deadline', async () => {
    // The queue waits a minute for company; the decision's 5 ms deadline passes first.
    const brain = await brainWith(guardManifest({ maxQueueDelayMs: 60_000 }));
    const { sink, outcomes, reasons } = counting();
    const s = new ArenaSession({ brain, metrics: sink, guardCount: 4, seed: 6, deadlineMs: 5 });
    await s.settled();
    s.tick();
    expect(outcomes[0]).to.equal('fallback');
    expect(reasons[0]).to.equal('deadline_exceeded');
    expect(brain.stats().fallbacks.byReason.deadline_exceeded).to.be.greaterThanOrEqual(1);
    expectExpertActions(s, s.arena.tick - 1);
  });

  it('is driven by the model when it answers in time', async () => {
    const brain = await brainWith(guardManifest());
    const { sink, outcomes } = counting();
    const s = new ArenaSession({ brain, metrics: sink, guardCount: 4, seed: 7 });
    await s.settled();
    s.tick();
    expect(outcomes[0]).to.equal('model');
    s.state.guards.forEach((g) => expect(g.model).to.equal('npc-guard@1'));
    expect(brain.stats().fallbacks.total).to.equal(0);
  });

  it('decides a late tick with the heuristic the serving manifest names (first-action), not the expert guard', async () => {
    const brain = await brainWith(guardManifest(undefined, 'first-action'));
    const { sink, outcomes, reasons } = counting();
    const s = new ArenaSession({ brain, metrics: sink, guardCount: 4, seed: 8 });
    await s.settled();
    s.tick(); // the model's answer applies
    expect(outcomes).to.deep.equal(['model']);
    s.tick(); // synchronously: the decision of the tick before is not back
    expect(outcomes.slice(1)).to.deep.equal(['fallback']);
    expect(reasons.slice(1)).to.deep.equal(['deadline_exceeded']);
    const trace = s.decisionTrace(s.arena.tick - 1)!;
    s.state.guards.forEach((g) => {
      expect(g.model).to.equal('npc-guard@fallback:first-action');
      const i = trace.guardIds.indexOf(g.id);
      const mask = trace.masks.subarray(i * GUARD_ACTION_COUNT, (i + 1) * GUARD_ACTION_COUNT);
      expect(g.action).to.equal(
        GUARD_ACTIONS[
          Math.max(
            0,
            mask.findIndex((x) => x > 0),
          )
        ],
      );
    });
  });

  it('answers with the heuristic, not the last action, when a decision is not back by the next tick', async () => {
    const brain = await brainWith();
    const { sink, outcomes, reasons } = counting();
    const s = new ArenaSession({ brain, metrics: sink, guardCount: 4, seed: 5 });
    s.tick(); // synchronously, before the decision issued at creation could settle
    expect(outcomes).to.deep.equal(['fallback']);
    expect(reasons).to.deep.equal(['deadline_exceeded']);
    expectExpertActions(s, s.arena.tick - 1);
    s.state.guards.forEach((g) => expect(g.servedBy).to.equal('fallback'));
  });
});
