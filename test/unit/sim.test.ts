import { expect } from 'chai';
import {
  ACTION,
  Arena,
  BOT_STYLES,
  GUARD_ACTIONS,
  GUARD_ACTION_COUNT,
  GUARD_FEATURES,
  GUARD_FEATURE_COUNT,
  GUARD_FEATURE_INDEX as F,
  GUARD_HEURISTICS,
  createArena,
  expertGuardAction,
  expertPolicy,
  guardActionMask,
  observeAll,
  observeGuard,
  randomPolicy,
  runEpisode,
  type GuardPolicy,
  type Rect,
  type SimEvent,
  type Vec2,
} from '../../server/sim/index.js';

/** Independent circle/rectangle overlap check (not the simulation's own). */
function overlaps(p: Vec2, r: number, rect: Rect): boolean {
  const nx = Math.max(rect.x, Math.min(p.x, rect.x + rect.w));
  const ny = Math.max(rect.y, Math.min(p.y, rect.y + rect.h));
  return (p.x - nx) ** 2 + (p.y - ny) ** 2 < r * r - 1e-9;
}

const idleAll = (arena: Arena): number[] => arena.guards.map(() => ACTION.idle);
const alwaysAttack: GuardPolicy = (_obs, n) => new Array<number>(n).fill(ACTION.attack);

async function meanOver(policy: (seed: number) => GuardPolicy, seeds: number[]): Promise<{ ret: number; win: number }> {
  let ret = 0;
  let win = 0;
  for (const seed of seeds) {
    const r = await runEpisode({ seed, guardPolicy: policy(seed) });
    ret += r.return;
    win += r.win ? 1 : 0;
  }
  return { ret: ret / seeds.length, win: win / seeds.length };
}

/**
 * Puts player p0 next to a guard, `distance` away along a free cardinal
 * direction, and lets one idle tick pass so the guards perceive it.
 */
function placeNearGuard(arena: Arena, distance: number): { guardId: string; dir: Vec2 } {
  const dirs: [Vec2, number][] = [
    [{ x: 1, y: 0 }, F.ray_e],
    [{ x: 0, y: 1 }, F.ray_s],
    [{ x: -1, y: 0 }, F.ray_w],
    [{ x: 0, y: -1 }, F.ray_n],
  ];
  const pr = arena.config.player.radius;
  for (const g of arena.guards) {
    const obs = observeGuard(arena, g.id);
    for (const [d, ray] of dirs) {
      const free = (obs[ray] as number) * arena.config.guard.rayLength;
      const pos = { x: g.pos.x + d.x * distance, y: g.pos.y + d.y * distance };
      if (free < distance + 2 * pr) continue;
      if (arena.obstacles.some((o) => overlaps(pos, pr + 1, o))) continue;
      const p0 = arena.players[0]!;
      p0.pos = pos;
      // Move the other players far away so that p0 is the nearest.
      for (const p of arena.players.slice(1)) p.alive = false;
      for (const p of arena.players.slice(1)) p.respawnIn = 1e6;
      arena.step(idleAll(arena), { p0: { dx: 0, dy: 0, attack: false } });
      return { guardId: g.id, dir: d };
    }
  }
  throw new Error('no free direction found next to any guard');
}

describe('arena simulation', () => {
  describe('determinism', () => {
    it('replays the same trajectory for the same seed (400 ticks)', async () => {
      const run = (): Promise<string> =>
        runEpisode({ seed: 7, guardPolicy: randomPolicy(99), maxTicks: 400, endOnWipe: false }).then((r) => r.hash);
      const a = await run();
      const b = await run();
      expect(a).to.equal(b);
    });

    it('gives a different trajectory for a different seed', async () => {
      const a = await runEpisode({ seed: 7, guardPolicy: randomPolicy(99), maxTicks: 400, endOnWipe: false });
      const b = await runEpisode({ seed: 8, guardPolicy: randomPolicy(99), maxTicks: 400, endOnWipe: false });
      expect(a.hash).to.not.equal(b.hash);
    });

    it('generates the same layout for the same seed and another for another seed', () => {
      expect(createArena({}, 3).obstacles).to.deep.equal(createArena({}, 3).obstacles);
      expect(createArena({}, 3).obstacles).to.not.deep.equal(createArena({}, 4).obstacles);
    });

    it('gives the same result with an async policy as with a sync one', async () => {
      const sync = await runEpisode({ seed: 5, guardPolicy: expertPolicy, maxTicks: 300 });
      const asyncPolicy: GuardPolicy = async (obs, n, masks, arena) => {
        await Promise.resolve();
        return expertPolicy(obs, n, masks, arena);
      };
      const asyn = await runEpisode({ seed: 5, guardPolicy: asyncPolicy, maxTicks: 300 });
      expect(asyn.hash).to.equal(sync.hash);
      expect(asyn.return).to.equal(sync.return);
    });
  });

  describe('observation', () => {
    it('has one finite value in [-1, 1] per named feature, for every guard, all episode long', async () => {
      expect(new Set(GUARD_FEATURES).size).to.equal(GUARD_FEATURES.length);
      let rows = 0;
      const seenVisible = { yes: 0 };
      await runEpisode({
        seed: 11,
        guardPolicy: randomPolicy(3),
        maxTicks: 600,
        onStep: ({ arena }) => {
          for (const g of arena.guards) {
            const row = observeGuard(arena, g.id);
            expect(row.length).to.equal(GUARD_FEATURES.length);
            for (let i = 0; i < row.length; i++) {
              const v = row[i] as number;
              expect(Number.isFinite(v), `${GUARD_FEATURES[i]} finite`).to.equal(true);
              expect(v, GUARD_FEATURES[i]).to.be.within(-1, 1);
            }
            if ((row[F.target_visible] as number) === 1) seenVisible.yes++;
            rows++;
          }
        },
      });
      expect(rows).to.equal(600 * 6);
      expect(seenVisible.yes, 'some rows see a player').to.be.greaterThan(0);
    });

    it('batches every guard in stable order', () => {
      const arena = createArena({}, 2);
      const all = observeAll(arena);
      expect(all.length).to.equal(arena.guards.length * GUARD_FEATURE_COUNT);
      const g3 = observeGuard(arena, 'g3');
      expect(Array.from(all.subarray(3 * GUARD_FEATURE_COUNT, 4 * GUARD_FEATURE_COUNT))).to.deep.equal(Array.from(g3));
    });

    it('rejects an unknown guard id', () => {
      const arena = createArena({}, 2);
      expect(() => observeGuard(arena, 'nope')).to.throw(RangeError, /nope/);
      expect(() => guardActionMask(arena, 'nope')).to.throw(RangeError, /nope/);
    });
  });

  describe('actions and mask', () => {
    it('names six discrete actions', () => {
      expect(GUARD_ACTIONS).to.deep.equal(['idle', 'patrol', 'chase', 'attack', 'flee', 'flank']);
      expect(GUARD_ACTION_COUNT).to.equal(6);
    });

    it('forbids attack when the nearest player is out of range, allows it in range, and forbids it while cooling down', () => {
      const arena = createArena({}, 21);
      const range = arena.config.guard.attackRange;
      const { guardId, dir } = placeNearGuard(arena, range + 12);
      const obs = observeGuard(arena, guardId);
      expect(obs[F.target_visible]).to.equal(1);
      expect(obs[F.target_in_range]).to.equal(0);
      expect(guardActionMask(arena, guardId)[ACTION.attack]).to.equal(0);
      expect(guardActionMask(arena, guardId)[ACTION.chase]).to.equal(1);

      const g = arena.guard(guardId)!;
      arena.players[0]!.pos = { x: g.pos.x + dir.x * (range - 8), y: g.pos.y + dir.y * (range - 8) };
      arena.step(idleAll(arena), {});
      expect(guardActionMask(arena, guardId)[ACTION.attack]).to.equal(1);

      const actions = idleAll(arena);
      actions[g.index] = ACTION.attack;
      const { events } = arena.step(actions, {});
      expect(events.some((e) => e.type === 'player-hit' && e.guardId === guardId)).to.equal(true);
      expect(guardActionMask(arena, guardId)[ACTION.attack], 'cooling down').to.equal(0);
    });

    it('lets a downed guard only idle', () => {
      const arena = createArena({}, 21);
      const { guardId } = placeNearGuard(arena, 20);
      arena.guard(guardId)!.health = 1;
      const { events } = arena.step(idleAll(arena), { p0: { dx: 0, dy: 0, attack: true } });
      expect(events.some((e) => e.type === 'guard-down' && e.guardId === guardId)).to.equal(true);
      expect(Array.from(guardActionMask(arena, guardId))).to.deep.equal([1, 0, 0, 0, 0, 0]);
    });

    it('never lands a hit that the mask forbade, even when a policy always attacks', async () => {
      let hits = 0;
      let forbidden = 0;
      let outOfRangeForbidden = 0;
      await runEpisode({
        seed: 4,
        guardPolicy: alwaysAttack,
        maxTicks: 800,
        endOnWipe: false,
        onStep: ({ masks, obs, result, arena }) => {
          for (const e of result.events) {
            if (e.type !== 'player-hit') continue;
            hits++;
            const g = arena.guard(e.guardId)!;
            expect(masks[g.index * GUARD_ACTION_COUNT + ACTION.attack], 'hit with attack masked').to.equal(1);
          }
          for (let i = 0; i < arena.guards.length; i++) {
            if (masks[i * GUARD_ACTION_COUNT + ACTION.attack] === 0) forbidden++;
            const row = i * GUARD_FEATURE_COUNT;
            if (obs[row + F.target_visible] === 1 && obs[row + F.target_in_range] === 0) {
              expect(masks[i * GUARD_ACTION_COUNT + ACTION.attack]).to.equal(0);
              outOfRangeForbidden++;
            }
          }
        },
      });
      expect(hits, 'the always-attack policy lands hits').to.be.greaterThan(0);
      expect(forbidden).to.be.greaterThan(0);
      expect(outOfRangeForbidden, 'some states have a seen player out of range').to.be.greaterThan(0);
    });

    it('rejects an action index outside the action set and a wrong-length batch', () => {
      const arena = createArena({}, 1);
      const bad = idleAll(arena);
      bad[0] = 6;
      expect(() => arena.step(bad)).to.throw(RangeError, /g0/);
      expect(() => arena.step([0, 0])).to.throw(RangeError, /one action per guard/);
      expect(() => arena.step(new Map([['g9', 0]]))).to.throw(RangeError, /g9/);
    });
  });

  describe('movement and collisions', () => {
    it('keeps every guard and player inside the world and out of obstacles', async () => {
      let checks = 0;
      for (const seed of [1, 2, 3]) {
        await runEpisode({
          seed,
          guardPolicy: randomPolicy(seed),
          maxTicks: 500,
          endOnWipe: false,
          onStep: ({ arena }) => {
            const { width, height } = arena.config;
            const bodies = [
              ...arena.guards.filter((g) => g.alive).map((g) => ({ pos: g.pos, r: arena.config.guard.radius })),
              ...arena.players.filter((p) => p.alive).map((p) => ({ pos: p.pos, r: arena.config.player.radius })),
            ];
            for (const b of bodies) {
              expect(b.pos.x).to.be.within(b.r, width - b.r);
              expect(b.pos.y).to.be.within(b.r, height - b.r);
              for (const o of arena.obstacles) expect(overlaps(b.pos, b.r, o), 'inside an obstacle').to.equal(false);
              checks++;
            }
          },
        });
      }
      expect(checks).to.be.greaterThan(10_000);
    });

    it('stops a player that pushes straight into an obstacle at its edge', () => {
      const arena = createArena({ guardCount: 1 }, 9);
      const o = arena.obstacles[0]!;
      const r = arena.config.player.radius;
      const p = arena.players[0]!;
      p.pos = { x: o.x - r - 20, y: o.y + o.h / 2 };
      for (let i = 0; i < 40; i++) {
        arena.step([ACTION.idle], { p0: { dx: 1, dy: 0, attack: false } });
        expect(overlaps(p.pos, r, o)).to.equal(false);
      }
      expect(p.pos.x, 'it reached the obstacle').to.be.greaterThan(o.x - r - 20);
    });
  });

  describe('combat, pickups and quests', () => {
    it('downs a guard, scores it for the player and respawns the guard at its post after the delay', () => {
      const arena = createArena({}, 21);
      const { guardId } = placeNearGuard(arena, 20);
      const g = arena.guard(guardId)!;
      g.health = 1;
      const { events } = arena.step(idleAll(arena), { p0: { dx: 0, dy: 0, attack: true } });
      expect(events).to.deep.include({
        type: 'guard-hit',
        tick: arena.tick,
        guardId,
        playerId: 'p0',
        damage: arena.config.player.attackDamage,
      });
      expect(arena.players[0]!.score).to.equal(arena.config.guardDownScore);
      for (let i = 0; i < arena.config.guard.respawnTicks; i++)
        arena.step(idleAll(arena), { p0: { dx: 0, dy: 0, attack: false } });
      expect(g.alive).to.equal(true);
      expect(g.pos).to.deep.equal(g.post);
    });

    it('counts a pickup towards the score and a collect quest, and finishes the quest at its goal', () => {
      const arena = createArena({ quests: [{ id: 'q-collect-1', kind: 'collect', goal: 1, reward: 5 }] }, 13);
      arena.takeQuest('p0', 'q-collect-1');
      const c = arena.collectibles.find((x) => x.active)!;
      arena.players[0]!.pos = { x: c.pos.x, y: c.pos.y };
      const { events } = arena.step(idleAll(arena), { p0: { dx: 0, dy: 0, attack: false } });
      const types = events.map((e: SimEvent) => e.type);
      expect(types).to.include.members(['quest-taken', 'collected', 'quest-finished']);
      expect(arena.players[0]!.score).to.equal(c.value + 5);
      expect(arena.players[0]!.activeQuest).to.equal(null);
      expect(c.active).to.equal(false);
    });

    it('finishes a visit quest when the player reaches its target, and finishQuest finishes one on demand', () => {
      const arena = createArena({}, 13);
      const q = arena.takeQuest('p1', 'visit-shrine');
      arena.players[1]!.pos = { x: q.target!.x, y: q.target!.y };
      const { events } = arena.step(idleAll(arena), {});
      expect(events.some((e) => e.type === 'quest-finished' && e.playerId === 'p1')).to.equal(true);

      arena.takeQuest('p2', 'defeat-1');
      expect(arena.finishQuest('p2')).to.equal(true);
      expect(arena.finishQuest('p2')).to.equal(false);
      const next = arena.step(idleAll(arena), {});
      expect(
        next.events.some((e) => e.type === 'quest-finished' && e.playerId === 'p2' && e.questId === 'defeat-1'),
      ).to.equal(true);
    });

    it('rejects an unknown quest or player', () => {
      const arena = createArena({}, 13);
      expect(() => arena.takeQuest('p0', 'q-nope')).to.throw(RangeError, /q-nope/);
      expect(() => arena.takeQuest('zz', 'collect-3')).to.throw(RangeError, /zz/);
    });
  });

  describe('expert guard', () => {
    it('decides the same from the observation alone as from the arena on >= 95% of sampled states', async () => {
      const fromObs = GUARD_HEURISTICS['expert-guard']!;
      let agree = 0;
      let total = 0;
      for (const seed of [31, 32, 33]) {
        await runEpisode({
          seed,
          guardPolicy: (obs, n, masks, arena) => {
            for (let i = 0; i < n; i++) {
              const g = arena.guards[i]!;
              if (!g.alive) continue;
              const row = obs.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT);
              if (fromObs(row) === expertGuardAction(arena, g.id)) agree++;
              total++;
            }
            // Mix expert and random steps so the states are varied.
            return (arena.tick % 3 === 0 ? randomPolicy(arena.tick) : expertPolicy)(
              obs,
              n,
              masks,
              arena,
            ) as ArrayLike<number>;
          },
          maxTicks: 600,
        });
      }
      expect(total).to.be.greaterThan(5000);
      expect(agree / total).to.be.at.least(0.95);
    });

    it('uses every kind of decision it is designed to make', async () => {
      const r = await runEpisode({ seed: 40, guardPolicy: expertPolicy });
      for (const a of ['patrol', 'chase', 'attack', 'flee', 'flank'] as const) {
        expect(r.actionCounts[ACTION[a]], a).to.be.greaterThan(0);
      }
    });

    it('beats a random policy by a clear margin over 20 seeded episodes', async () => {
      const seeds = Array.from({ length: 20 }, (_, i) => 1000 + i);
      const expert = await meanOver(() => expertPolicy, seeds);
      const random = await meanOver((s) => randomPolicy(s), seeds);
      expect(
        expert.ret - random.ret,
        `expert ${expert.ret.toFixed(2)} vs random ${random.ret.toFixed(2)}`,
      ).to.be.greaterThan(1);
      expect(expert.win).to.be.greaterThan(random.win);
    });
  });

  describe('episodes', () => {
    it('plays one bot per style and reports the outcome', async () => {
      const r = await runEpisode({ seed: 2, guardPolicy: expertPolicy, bots: BOT_STYLES, maxTicks: 200 });
      expect(r.ticks).to.be.at.most(200);
      expect(r.guardReturns).to.have.length(6);
      expect(r.hash).to.match(/^[0-9a-f]{8}$/);
      expect(r.win).to.equal(r.wiped || r.teamScore < 20);
    });

    it('rejects a policy that returns the wrong number of actions', async () => {
      const err: unknown = await runEpisode({ seed: 1, guardPolicy: () => [0] }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(RangeError);
      expect((err as Error).message).to.match(/6 actions/);
    });
  });
});
