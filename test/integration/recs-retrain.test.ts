/**
 * The recommender's live retraining loop on a real server: quest telemetry (the
 * server's own JSONL, with lines a real client's quests added) → the train-recs
 * trainer → a new version evaluated against the served one on the most recent
 * slice → promoted only when better, its report kept with the version.
 */
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@colyseus/sdk';
import { ArenaMessage, RoomName } from '../../sdk/index.js';
import { trainRecommender, writeModelFolder } from '../../sdk/recs/index.js';
import { questCatalogue } from '../../models/train/recs/quests.js';
import { simulateTelemetry, toJsonl } from '../../models/train/recs/telemetry.js';
import { expect } from '../helpers/chai.js';
import { prng, startTestServer, type TestServer } from '../helpers/server.js';

const TOKEN = 'retrain-token';
const SHIPPED_RECS = join(import.meta.dirname, '..', '..', 'models', 'quest-recs');

/** Uniformly random (player, quest) telemetry: no structure for a model to learn. */
function noiseTelemetry(players: number, perPlayer: number, seed: number, start: string): string {
  const rnd = prng(seed);
  const quests = questCatalogue().map((q) => q.id);
  const t0 = Date.parse(start);
  const lines: string[] = [];
  for (let i = 0; i < players * perPlayer; i++) {
    const player = `noise-${Math.floor(i / perPlayer)}`;
    const quest = quests[Math.floor(rnd() * quests.length)]!;
    lines.push(JSON.stringify({ player, quest, outcome: 'taken', time: new Date(t0 + i * 1000).toISOString() }));
  }
  return lines.join('\n') + '\n';
}

/** A quest-recs version 1 trained on noise: the catalogue of the shipped one, nothing learned. */
async function weakQuestRecs(modelsDir: string): Promise<void> {
  const rnd = prng(7);
  const quests = questCatalogue();
  const interactions = Array.from({ length: 4000 }, (_, i) => ({
    user: `u${i % 400}`,
    item: quests[Math.floor(rnd() * quests.length)]!.id,
    weight: 1,
  }));
  const model = trainRecommender({ name: 'quest-recs', interactions, catalogue: quests, seed: 1 });
  await writeModelFolder(join(modelsDir, 'quest-recs'), model, { version: 1 });
}

async function waitForLines(file: string, atLeast: number): Promise<string[]> {
  for (let i = 0; i < 300; i++) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length >= atLeast) return lines;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${file} never reached ${atLeast} lines`);
}

describe('recommender retraining loop (telemetry → train-recs → evaluate → promote when better)', function () {
  this.timeout(120_000);
  let dir: string;
  let t: TestServer;
  const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const retrain = () =>
    fetch(`${t.server.url}/v2/repository/models/quest-recs/retrain`, { method: 'POST', headers: admin });
  const served = async () =>
    ((await (await fetch(`${t.server.url}/v2/models/quest-recs`)).json()) as { served: number }).served;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'playmind-retrain-'));
    await mkdir(join(dir, 'models'), { recursive: true });
    await mkdir(join(dir, 'data'), { recursive: true });
  });
  afterEach(async () => {
    await t?.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('promotes a recommender retrained on telemetry that beats the served one, keeping its report', async () => {
    await weakQuestRecs(join(dir, 'models'));
    const telemetry = join(dir, 'data', 'telemetry.jsonl');
    const simulated = toJsonl(simulateTelemetry({ players: 600, seed: 11, firstPlayer: 5000 }));
    await writeFile(telemetry, simulated);
    const simulatedLines = simulated.trim().split('\n').length;
    t = await startTestServer({ modelsDir: join(dir, 'models'), telemetryFile: telemetry, adminToken: TOKEN });

    // A real client's quests reach the same file.
    const room = await new Client(t.server.url).joinOrCreate(RoomName.ARENA);
    room.send(ArenaMessage.TAKE_QUEST, { questId: 'q-coast-2' });
    await waitForLines(telemetry, simulatedLines + 1);
    await room.leave();

    const r = await retrain();
    expect(r.status).to.equal(200);
    const report = (await r.json()) as any;
    expect(report.telemetry.lines).to.be.at.least(simulatedLines + 1);
    expect(report.telemetry.heldOutCases).to.be.greaterThan(100);
    expect(report.version).to.equal(2);
    expect(report.serving.version).to.equal(1);
    expect(report.candidate.ndcgAt10).to.be.greaterThan(report.serving.ndcgAt10);
    expect(report.candidate.recallAt10).to.be.greaterThan(report.serving.recallAt10);
    expect(report.promoted).to.equal(true);
    expect(await served()).to.equal(2);

    const kept = JSON.parse(await readFile(join(dir, 'models', 'quest-recs', '2', 'report.json'), 'utf8')) as any;
    expect(kept).to.deep.include({ version: 2, promoted: true });
    const manifest = JSON.parse(await readFile(join(dir, 'models', 'quest-recs', 'manifest.json'), 'utf8')) as any;
    expect(manifest.version).to.equal(2);
    expect(manifest.sha256).to.have.keys('1', '2');
    const rollout = (await (
      await fetch(`${t.server.url}/v2/repository/models/quest-recs/rollout`, { headers: admin })
    ).json()) as any;
    expect(rollout).to.include({ status: 'promoted', candidate: 2 });
    expect(rollout.report.candidate.ndcgAt10).to.equal(report.candidate.ndcgAt10);

    // The promoted version answers recommendations.
    const infer = await fetch(`${t.server.url}/v2/models/quest-recs/versions/2/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          { name: 'history', shape: [1, 48], datatype: 'FP32', data: Array.from({ length: 48 }, (_, i) => +(i === 3)) },
        ],
      }),
    });
    expect(infer.status).to.equal(200);
    const metrics = await (await fetch(`${t.server.url}/metrics`)).text();
    expect(metrics).to.match(/playmind_recs_retrain_runs_total\{model="quest-recs",outcome="promoted"\} 1/);
  });

  it('refuses a retrained recommender that is not better, and keeps serving the old one', async () => {
    await cp(SHIPPED_RECS, join(dir, 'models', 'quest-recs'), { recursive: true });
    const telemetry = join(dir, 'data', 'telemetry.jsonl');
    // Older telemetry is noise; the most recent slice is real play, where the shipped model is good.
    const noise = noiseTelemetry(1500, 12, 3, '2025-01-01T00:00:00Z');
    const real = toJsonl(
      simulateTelemetry({ players: 300, seed: 12, firstPlayer: 9000, start: '2025-06-01T00:00:00Z' }),
    );
    await writeFile(telemetry, noise + real);
    t = await startTestServer({ modelsDir: join(dir, 'models'), telemetryFile: telemetry, adminToken: TOKEN });

    const r = await retrain();
    expect(r.status).to.equal(200);
    const report = (await r.json()) as any;
    expect(report.version).to.equal(2);
    expect(report.promoted).to.equal(false);
    expect(report.reason).to.match(/^not better, not promoted/);
    expect(report.candidate.ndcgAt10).to.be.below(report.serving.ndcgAt10);
    expect(await served()).to.equal(1);
    const kept = JSON.parse(await readFile(join(dir, 'models', 'quest-recs', '2', 'report.json'), 'utf8')) as any;
    expect(kept).to.deep.include({ version: 2, promoted: false });
    expect((await stat(join(dir, 'models', 'quest-recs', '2', 'model.onnx'))).size).to.be.greaterThan(0);
    // The refused version stays on disk, pinned away: a reload still serves version 1.
    const load = await fetch(`${t.server.url}/v2/repository/models/quest-recs/load`, {
      method: 'POST',
      headers: admin,
    });
    expect(((await load.json()) as any).version).to.equal('1');
    const metrics = await (await fetch(`${t.server.url}/metrics`)).text();
    expect(metrics).to.match(/playmind_recs_retrain_runs_total\{model="quest-recs",outcome="refused"\} 1/);
  });

  it('trains nothing from too little telemetry, and needs the admin token', async () => {
    await cp(SHIPPED_RECS, join(dir, 'models', 'quest-recs'), { recursive: true });
    const telemetry = join(dir, 'data', 'telemetry.jsonl');
    await writeFile(telemetry, noiseTelemetry(5, 3, 1, '2025-01-01T00:00:00Z') + '{"player": "cut sh');
    t = await startTestServer({ modelsDir: join(dir, 'models'), telemetryFile: telemetry, adminToken: TOKEN });
    const anon = await fetch(`${t.server.url}/v2/repository/models/quest-recs/retrain`, { method: 'POST' });
    expect(anon.status).to.equal(401);
    const report = (await (await retrain()).json()) as any;
    expect(report).to.include({ version: null, promoted: false });
    expect(report.reason).to.match(/not enough telemetry/);
    expect(report.telemetry.skippedLines).to.equal(1);
    expect(await served()).to.equal(1);
    const notRecs = await fetch(`${t.server.url}/v2/repository/models/npc-guard/retrain`, {
      method: 'POST',
      headers: admin,
    });
    expect(notRecs.status).to.equal(404);
  });
});
