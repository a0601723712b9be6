import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { expect } from '../helpers/chai.js';
import { FsModelSource, ModelRepository, nodeBackend, silentLogger } from '../../sdk/index.js';
import { RolloutManager, type RolloutState } from '../../server/rollout/rollout-manager.js';
import { RolloutMetrics } from '../../server/rollout/rollout-metrics.js';
import { guardRepository, shiftedGuardBytes, shippedGuardBytes } from '../helpers/guard-variants.js';

/** Polls (bounded) until the rollout leaves `running`. */
async function settled(m: RolloutManager, model: string): Promise<RolloutState> {
  for (let i = 0; i < 200; i++) {
    const s = m.get(model)!;
    if (s.status !== 'running') return s;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the rollout is still running');
}

describe('rollout judgement (automatic rollback and promotion)', function () {
  this.timeout(60_000);
  let dir: string;
  let repository: ModelRepository;
  let rollouts: RolloutManager;
  let registry: Registry;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'playmind-judge-'));
    await guardRepository(dir, { 2: shiftedGuardBytes(await shippedGuardBytes(), { flee: 1.5 }) });
    repository = new ModelRepository({ source: new FsModelSource(dir), backend: nodeBackend(), logger: silentLogger });
    await repository.loadAll();
    registry = new Registry();
    rollouts = new RolloutManager({ repository, modelsDir: dir, metrics: new RolloutMetrics(registry) });
  });
  afterEach(async () => {
    await rollouts.close();
    await repository.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('rolls a canary back once its error rate exceeds the serving one by the margin, not before minDecisions', async () => {
    await rollouts.start('npc-guard', { candidate: 2, mode: 'canary', minDecisions: 100, errorMargin: 0.05 });
    rollouts.recordDecision('npc-guard', 1, 200, 0);
    rollouts.recordDecision('npc-guard', 2, 99, 30);
    expect(rollouts.get('npc-guard')!.status).to.equal('running');
    rollouts.recordDecision('npc-guard', 2, 1, 0);
    const s = await settled(rollouts, 'npc-guard');
    expect(s.status).to.equal('rolled-back');
    expect(s.reason).to.match(/error rate 30\.0 % over 100 decisions vs 0\.0 %/);
    expect(repository.get('npc-guard')!.version).to.equal(1);
    const text = await registry.metrics();
    expect(text).to.match(/playmind_version_inference_errors_total\{model="npc-guard",version="2"\} 30/);
    expect(text).to.match(/playmind_rollout_transitions_total\{model="npc-guard",to="rolled-back"\} 1/);
  });

  it('rolls a canary back when its KPI is worse than the serving version by more than the margin', async () => {
    await rollouts.start('npc-guard', {
      candidate: 2,
      mode: 'canary',
      minDecisions: 100,
      kpi: { name: 'guardReturn', margin: 0.2 },
    });
    rollouts.recordGame('npc-guard', 1, { guardReward: -60, guardSeconds: 600, roomSeconds: 100 });
    rollouts.recordGame('npc-guard', 2, { guardReward: -90, guardSeconds: 600, roomSeconds: 100 });
    rollouts.recordDecision('npc-guard', 1, 150);
    rollouts.recordDecision('npc-guard', 2, 150);
    const s = await settled(rollouts, 'npc-guard');
    expect(s.status).to.equal('rolled-back');
    expect(s.reason).to.match(/guardReturn -9\.0000 vs -6\.0000/);
    expect(s.versions.candidate.kpis.guardReturn).to.be.closeTo(-9, 1e-9);
    expect(await registry.metrics()).to.match(
      /playmind_version_kpi\{model="npc-guard",version="2",kpi="guardReturn"\} -9/,
    );
  });

  it('keeps a canary running while its KPI is within the margin', async () => {
    await rollouts.start('npc-guard', {
      candidate: 2,
      mode: 'canary',
      minDecisions: 100,
      kpi: { name: 'playerKillsPerMinute', margin: 0.5 },
    });
    rollouts.recordGame('npc-guard', 1, { guardDowns: 10, roomSeconds: 600 });
    rollouts.recordGame('npc-guard', 2, { guardDowns: 12, roomSeconds: 600 });
    rollouts.recordDecision('npc-guard', 1, 500);
    rollouts.recordDecision('npc-guard', 2, 500);
    expect(rollouts.get('npc-guard')!.status).to.equal('running');
  });

  it('promotes a canary automatically once it is at least as good, through the repository swap', async () => {
    await rollouts.start('npc-guard', {
      candidate: 2,
      mode: 'canary',
      minDecisions: 100,
      autoPromote: true,
      kpi: { name: 'questCompletion' },
    });
    rollouts.recordGame('npc-guard', 1, { questsTaken: 20, questsFinished: 10 });
    rollouts.recordGame('npc-guard', 2, { questsTaken: 20, questsFinished: 12 });
    rollouts.recordDecision('npc-guard', 1, 100);
    rollouts.recordDecision('npc-guard', 2, 100);
    const s = await settled(rollouts, 'npc-guard');
    expect(s.status).to.equal('promoted');
    expect(s.reason).to.match(/promoted automatically: questCompletion 0\.6000 vs 0\.5000/);
    expect(repository.get('npc-guard')!.version).to.equal(2);
    expect(repository.pinned('npc-guard')).to.equal(2);
  });

  it('gives the fraction of new rooms to a canary and takes them back when it ends', async () => {
    await rollouts.start('npc-guard', { candidate: 2, mode: 'canary', fraction: 0.25 });
    const rooms = Array.from({ length: 8 }, () => rollouts.assignRoom('npc-guard'));
    const canary = rooms.filter((r) => r.serves === 'candidate');
    expect(canary).to.have.length(2);
    expect(canary[0]!.candidate!.version.id).to.equal('npc-guard@2');
    await rollouts.stop('npc-guard');
    expect(rooms.every((r) => r.serves === 'serving' && r.candidate === null)).to.equal(true);
    expect(rollouts.assignRoom('npc-guard').serves).to.equal('serving');
  });

  it('measures a shadow candidate: agreement, probability difference, latency and errors', async () => {
    await rollouts.start('npc-guard', { candidate: 2, mode: 'shadow', minDecisions: 1000 });
    const p = new Float32Array(18).fill(1 / 6);
    const q = p.slice();
    q[4] = 0.5;
    rollouts.recordShadow('npc-guard', {
      served: [1, 2, 3],
      candidate: [1, 2, 4],
      servedProbabilities: p,
      candidateProbabilities: q,
      latencyMs: 2,
    });
    rollouts.recordShadow('npc-guard', { served: [1, 2, 3], candidate: null, latencyMs: 4 });
    const s = rollouts.get('npc-guard')!;
    expect(s.shadow).to.include({ ticks: 2, compared: 3, agreed: 2, errors: 3 });
    expect(s.shadow!.agreement).to.be.closeTo(2 / 3, 1e-12);
    expect(s.shadow!.maxProbabilityDifference).to.be.closeTo(0.5 - 1 / 6, 1e-6);
    expect(s.shadow!.latencyMs).to.deep.equal({ p50: 4, p99: 4 });
    const text = await registry.metrics();
    expect(text).to.match(/playmind_shadow_agreement\{model="npc-guard",serving="1",candidate="2"\} 0\.666/);
    expect(text).to.match(/playmind_shadow_decisions_total\{model="npc-guard",candidate="2",outcome="error"\} 3/);
  });
});
