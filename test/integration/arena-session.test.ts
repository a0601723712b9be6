/** The arena session without the network: fallback when the model is missing, deadline misses. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { FsModelSource, nodeBackend } from '../../sdk/index.js';
import { InferenceEngine } from '../../sdk/engine/inference-engine.js';
import { ModelRepository, silentLogger } from '../../sdk/repository/model-repository.js';
import { ArenaSession, type ArenaMetricsSink } from '../../server/rooms/arena-session.js';
import type { DecisionOutcome } from '../../server/rooms/arena-brain.js';
import { GUARD_ACTIONS, GUARD_FEATURE_COUNT, GUARD_HEURISTICS } from '../../server/sim/index.js';

function counting(): { sink: ArenaMetricsSink; outcomes: DecisionOutcome[] } {
  const outcomes: DecisionOutcome[] = [];
  return { outcomes, sink: { tick() {}, decision: (o) => void outcomes.push(o), recommendation() {} } };
}

describe('arena session', () => {
  let dir: string;
  let repository: ModelRepository;
  let engine: InferenceEngine;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'playmind-arena-session-'));
    repository = new ModelRepository({ source: new FsModelSource(dir), backend: nodeBackend(), logger: silentLogger });
    await repository.loadAll();
    engine = new InferenceEngine();
  });

  after(async () => {
    engine.close();
    await repository.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('drives guards with the expert-guard heuristic when npc-guard is unavailable, and counts it', async () => {
    const { sink, outcomes } = counting();
    const s = new ArenaSession({ repository, engine, metrics: sink, guardCount: 5, seed: 3 });
    for (let i = 0; i < 5; i++) {
      await s.settled();
      s.tick();
    }
    await s.settled();
    expect(outcomes.length).to.be.greaterThan(0);
    expect(outcomes.every((o) => o === 'fallback')).to.equal(true);
    const trace = s.decisionTrace(s.arena.tick - 1)!;
    const expert = GUARD_HEURISTICS['expert-guard']!;
    s.state.guards.forEach((g) => {
      expect(g.model).to.equal('npc-guard@fallback:expert-guard');
      const i = trace.guardIds.indexOf(g.id);
      const row = trace.rows.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT);
      const a = expert(row);
      // The heuristic's choice, unless the mask forbade it (then patrol or idle).
      if (trace.masks[i * GUARD_ACTIONS.length + a]) expect(g.action).to.equal(GUARD_ACTIONS[a]);
    });
  });

  it("keeps every guard's last action and counts a miss when a decision is not back by the next tick", () => {
    const { sink, outcomes } = counting();
    const s = new ArenaSession({ repository, engine, metrics: sink, guardCount: 4, seed: 5 });
    const before = [...s.state.guards.values()].map((g) => `${g.action}/${g.model}`);
    s.tick(); // synchronously, before the decision issued at creation could settle
    expect(outcomes).to.deep.equal(['deadline']);
    expect([...s.state.guards.values()].map((g) => `${g.action}/${g.model}`)).to.deep.equal(before);
  });
});
