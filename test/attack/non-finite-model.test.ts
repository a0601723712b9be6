/**
 * The attack suite, model-file row "a model whose outputs are NaN": a real server on
 * 127.0.0.1 watching a copy of the repository's models, one real arena player; a new
 * npc-guard version whose every output is NaN is dropped into the folder. The server
 * refuses it with the reason (`/v2/models/npc-guard` lastError), the old version keeps
 * serving KServe and the arena's guards, and the player keeps getting its patches.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraphBuilder } from '../../sdk/onnx/graph-builder.js';
import { expect } from '../helpers/chai.js';
import { metricValue, startTestServer, type TestServer } from '../helpers/server.js';
import { copyOfRepoModels, sleep, until, watchingPlayer, type WatchingPlayer } from './helpers.js';

const FEATURES = 24;
const ACTIONS = 6;

/** The npc-guard contract (obs → logits, probs) with NaN weights: every answer is NaN. */
function nanGuardBytes(): Uint8Array {
  const g = new GraphBuilder('nan-guard');
  g.input('obs', 'float32', ['batch', FEATURES]);
  g.dense(
    'obs',
    new Array<number>(FEATURES * ACTIONS).fill(NaN),
    new Array<number>(ACTIONS).fill(0),
    FEATURES,
    ACTIONS,
    'logits',
  );
  g.node('Softmax', ['logits'], ['probs'], { axis: 1 });
  g.output('logits', 'float32', ['batch', ACTIONS]);
  g.output('probs', 'float32', ['batch', ACTIONS]);
  return g.toBytes();
}

interface ModelMeta {
  state: string;
  served: number | null;
  lastError: { version: number | null; code: string; reason: string } | null;
}

describe('attack: a model whose outputs are NaN', function () {
  this.timeout(60_000);
  let t: TestServer;
  let dir: string;
  let cleanup: () => Promise<void>;
  let player: WatchingPlayer | undefined;

  before(async () => {
    ({ dir, cleanup } = await copyOfRepoModels());
    t = await startTestServer({ modelsDir: dir, watch: true });
  });

  after(async () => {
    await player?.leave();
    await t?.server.close();
    await cleanup?.();
  });

  const meta = async (): Promise<ModelMeta> =>
    (await (await fetch(`${t.server.url}/v2/models/npc-guard`)).json()) as ModelMeta;
  const arenaDecisions = async () =>
    metricValue(await (await fetch(`${t.server.url}/metrics`)).text(), 'playmind_requests_total', {
      frontend: 'arena',
      model: 'npc-guard',
      outcome: 'ok',
    });

  it('is refused when dropped into the folder, and the old version keeps serving', async () => {
    player = await watchingPlayer(t.server.url);
    await until('the arena to tick', () => player!.patches > 5, 15_000);
    // A complete version folder appears at once (as a deploy would put it).
    const staging = join(dir, 'npc-guard', '.staging-2');
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, 'model.onnx'), nanGuardBytes());
    await rename(staging, join(dir, 'npc-guard', '2'));

    let m: ModelMeta = await meta();
    const end = Date.now() + 20_000;
    while (m.lastError?.version !== 2 && Date.now() < end) {
      await sleep(100);
      m = await meta();
    }
    expect(m.lastError, 'the refusal of version 2').to.include({ version: 2, code: 'non_finite_output' });
    expect(m.lastError!.reason).to.match(/non-finite outputs/);
    expect(m.state).to.equal('READY');
    expect(m.served).to.equal(1);

    // KServe is still answered by version 1, with finite values.
    const res = await fetch(`${t.server.url}/v2/models/npc-guard/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, FEATURES], data: new Array<number>(FEATURES).fill(0.2) }],
      }),
    });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { model_version: string; outputs: { data: (number | null)[] }[] };
    expect(body.model_version).to.equal('1');
    for (const o of body.outputs) for (const v of o.data) expect(v).to.be.a('number').and.satisfy(Number.isFinite);

    // The guards are still decided by the model, and the player still gets its patches.
    const decided = await arenaDecisions();
    const seen = player.window();
    const wait = Date.now() + 15_000;
    while ((await arenaDecisions()) < decided + 10 && Date.now() < wait) await sleep(200);
    expect(await arenaDecisions()).to.be.at.least(decided + 10);
    expect(seen().patches).to.be.greaterThan(0);
    expect(t.errors()).to.deep.equal([]);
  });
});
