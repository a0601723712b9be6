/**
 * The heuristics a shipped manifest names reach library users: the npc-guard fallback
 * (`expert-guard`) is a builtin of every brain, the same function the arena simulation
 * decides with, and a brain says at start which named heuristic nothing provides.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { REPO_ROOT, tempDir } from '../helpers/compat.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';
import {
  createBrain,
  ErrorCode,
  expertGuard,
  GUARD_ACTION_NAMES,
  GUARD_OBSERVATION_FEATURES,
  silentLogger,
  type Logger,
} from '../../sdk/index.js';
import {
  GUARD_ACTIONS,
  GUARD_FEATURES,
  GUARD_FEATURE_COUNT,
  GUARD_HEURISTICS,
  runEpisode,
} from '../../server/sim/index.js';

/** A logger that keeps its warnings. */
function recordingLogger(): Logger & { warnings: { obj: object; msg: string }[] } {
  const warnings: { obj: object; msg: string }[] = [];
  return { ...silentLogger, warnings, warn: (obj, msg) => warnings.push({ obj, msg: msg ?? '' }) };
}

describe('brain heuristics', function () {
  this.timeout(60_000);

  it('answers the shipped npc-guard with the builtin expert-guard when its model cannot load, with no heuristic registered', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await mkdir(join(dir, 'npc-guard', '1'), { recursive: true });
      await copyFile(join(REPO_ROOT, 'models/npc-guard/manifest.json'), join(dir, 'npc-guard', 'manifest.json'));
      await writeFile(join(dir, 'npc-guard', '1', 'model.onnx'), 'not a model');
      const brain = await createBrain({ mode: 'local', models: dir, logger: silentLogger });
      try {
        const rows: Float32Array[] = [];
        await runEpisode({
          seed: 41,
          guardPolicy: (obs, n, _masks, arena) => {
            if (arena.tick % 10 === 0)
              for (let i = 0; i < n; i++) rows.push(obs.slice(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT));
            return new Int32Array(n).fill(1);
          },
          maxTicks: 200,
        });
        expect(rows.length).to.be.greaterThan(20);
        const decisions = await brain.policy('npc-guard').decide(rows);
        expect(new Set(decisions.map((d) => d.servedBy))).to.deep.equal(new Set(['fallback']));
        expect(decisions[0]!.model).to.equal('npc-guard@fallback:expert-guard');
        expect(decisions.map((d) => d.action)).to.deep.equal(rows.map((r) => GUARD_ACTION_NAMES[expertGuard(r)]));
        expect(new Set(decisions.map((d) => d.action)).size, 'varied states, varied actions').to.be.greaterThan(1);
      } finally {
        await brain.close();
      }
    } finally {
      await cleanup();
    }
  });

  it('decides with the same expert guard as the arena simulation, on its feature and action lists', async () => {
    expect(GUARD_FEATURES).to.equal(GUARD_OBSERVATION_FEATURES);
    expect(GUARD_ACTIONS).to.equal(GUARD_ACTION_NAMES);
    const sim = GUARD_HEURISTICS['expert-guard']!;
    let compared = 0;
    for (const seed of [51, 52]) {
      await runEpisode({
        seed,
        guardPolicy: (obs, n) => {
          const out = new Int32Array(n);
          for (let i = 0; i < n; i++) {
            const row = obs.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT);
            out[i] = expertGuard(row);
            expect(out[i]).to.equal(sim(row));
            compared++;
          }
          return out;
        },
        maxTicks: 300,
      });
    }
    expect(compared).to.be.greaterThan(500);
  });

  it('says at createBrain which fallback heuristic a manifest names that nothing provides', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const manifest = linearPolicyManifest('guard', 3, 2, {});
      (manifest as { policy: { fallback: { heuristic: string } } }).policy.fallback.heuristic = 'sneak-around';
      await writeModel(dir, 'guard', 1, linearPolicyBytes(3, 2), manifest);
      await writeModel(dir, 'fine', 1, linearPolicyBytes(3, 2), linearPolicyManifest('fine', 3, 2));
      const logger = recordingLogger();
      const brain = await createBrain({ mode: 'local', models: dir, logger });
      await brain.close();
      const named = logger.warnings.filter((w) => w.msg.includes('"sneak-around"'));
      expect(named).to.have.length(1);
      expect(named[0]!.msg).to.contain(
        'model "guard" names the fallback heuristic "sneak-around", which nothing provides',
      );
      expect(named[0]!.msg).to.contain("createBrain({ heuristics: { 'sneak-around':");
      expect(named[0]!.obj).to.deep.include({
        model: 'guard',
        heuristic: 'sneak-around',
        code: ErrorCode.UNKNOWN_HEURISTIC,
      });
      // Registered, it is not missing.
      const quiet = recordingLogger();
      const ok = await createBrain({
        mode: 'local',
        models: dir,
        logger: quiet,
        heuristics: { 'sneak-around': () => 1 },
      });
      await ok.close();
      expect(quiet.warnings.filter((w) => w.msg.includes('sneak-around'))).to.deep.equal([]);
    } finally {
      await cleanup();
    }
  });
});
