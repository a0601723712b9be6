import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { guardRepository, shiftedGuardBytes, shippedGuardBytes } from '../helpers/guard-variants.js';

const TOKEN = 'rollout-test-token';

describe('rollout API (shadow and canary state, promotion)', function () {
  this.timeout(60_000);
  let dir: string;
  let t: TestServer;
  const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const url = (p: string) => `${t.server.url}${p}`;
  const rollout = (body: unknown, headers: Record<string, string> = admin) =>
    fetch(url('/v2/repository/models/npc-guard/rollout'), { method: 'POST', headers, body: JSON.stringify(body) });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'playmind-rollout-'));
    const v1 = await shippedGuardBytes();
    await guardRepository(dir, {
      2: shiftedGuardBytes(v1, { flee: 1.5, chase: -0.5 }),
      3: new TextEncoder().encode('this is not an onnx file'),
    });
    t = await startTestServer({ modelsDir: dir, adminToken: TOKEN });
  });
  afterEach(async () => {
    await t.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses rollout calls without the admin token', async () => {
    const r = await rollout({ candidate: 2, mode: 'shadow' }, { 'content-type': 'application/json' });
    expect(r.status).to.equal(401);
    const g = await fetch(url('/v2/repository/models/npc-guard/rollout'));
    expect(g.status).to.equal(401);
  });

  it('starts a shadow rollout of a loaded candidate, reports it and stops it', async () => {
    const r = await rollout({ candidate: 'npc-guard@2', mode: 'shadow', minDecisions: 50 });
    expect(r.status).to.equal(200);
    const state = (await r.json()) as any;
    expect(state).to.include({ model: 'npc-guard', mode: 'shadow', status: 'running', serving: 1, candidate: 2 });
    expect(state.settings).to.include({ minDecisions: 50, errorMargin: 0.01 });
    expect(state.shadow).to.include({ compared: 0, agreement: null });

    const g = (await (await fetch(url('/v2/repository/models/npc-guard/rollout'), { headers: admin })).json()) as any;
    expect(g.status).to.equal('running');
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).to.match(
      /playmind_rollout_info\{model="npc-guard",mode="shadow",serving="1",candidate="2",status="running"\} 1/,
    );

    const again = await rollout({ candidate: 2, mode: 'canary' });
    expect(again.status).to.equal(409);

    const d = await fetch(url('/v2/repository/models/npc-guard/rollout'), { method: 'DELETE', headers: admin });
    expect(d.status).to.equal(200);
    expect(((await d.json()) as any).status).to.equal('stopped');
    const served = (await (await fetch(url('/v2/models/npc-guard'))).json()) as any;
    expect(served.served).to.equal(1);
  });

  it('refuses a bad rollout body, naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ candidate: 2, mode: 'blue' }, 'mode'],
      [{ candidate: 2, mode: 'shadow', fraction: 0.5 }, 'fraction'],
      [{ candidate: 2, mode: 'canary', fraction: 1.5 }, 'fraction'],
      [{ candidate: 2, mode: 'canary', minDecisions: 0 }, 'minDecisions'],
      [{ candidate: 'other-model@2', mode: 'canary' }, 'candidate'],
      [{ candidate: 2, mode: 'canary', surprise: true }, '(body)'],
      [{ mode: 'canary' }, 'candidate'],
    ];
    for (const [body, field] of cases) {
      const r = await rollout(body);
      expect(r.status, JSON.stringify(body)).to.equal(400);
      const e = (await r.json()) as any;
      expect(e.code).to.equal('invalid_argument');
      expect(e.details.field ?? '(body)', JSON.stringify(body)).to.equal(field);
    }
    const served = await rollout({ candidate: 1, mode: 'shadow' });
    expect(served.status).to.equal(400);
    expect(((await served.json()) as any).error).to.match(/already served/);
  });

  it('refuses a candidate that cannot load, naming its file and the reason, and keeps serving', async () => {
    const missing = await rollout({ candidate: 9, mode: 'canary' });
    expect(missing.status).to.equal(422);
    expect(((await missing.json()) as any).error).to.match(/no folder npc-guard\/9/);
    const broken = await rollout({ candidate: 3, mode: 'canary' });
    expect(broken.status).to.equal(422);
    const e = (await broken.json()) as any;
    expect(e.code).to.equal('model_load_failed');
    expect(e.error).to.match(/npc-guard\/3\/model\.onnx/);
    const g = await fetch(url('/v2/repository/models/npc-guard/rollout'), { headers: admin });
    expect(g.status).to.equal(404);
    const served = (await (await fetch(url('/v2/models/npc-guard'))).json()) as any;
    expect(served).to.include({ served: 1, state: 'READY' });
  });

  it('promotes the candidate through the atomic swap and pins it in the manifest', async () => {
    expect((await rollout({ candidate: 2, mode: 'canary', fraction: 0.5 })).status).to.equal(200);
    const p = await fetch(url('/v2/repository/models/npc-guard/rollout/promote'), { method: 'POST', headers: admin });
    expect(p.status).to.equal(200);
    const state = (await p.json()) as any;
    expect(state).to.include({ status: 'promoted', candidate: 2 });
    const served = (await (await fetch(url('/v2/models/npc-guard'))).json()) as any;
    expect(served.served).to.equal(2);
    const manifest = JSON.parse(await readFile(join(dir, 'npc-guard', 'manifest.json'), 'utf8')) as any;
    expect(manifest.version).to.equal(2);
    // A later reload (a file change, model control) keeps the promoted version.
    const reload = await fetch(url('/v2/repository/models/npc-guard/load'), { method: 'POST', headers: admin });
    expect(reload.status).to.equal(200);
    expect(((await reload.json()) as any).version).to.equal('2');
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).to.match(/playmind_rollout_transitions_total\{model="npc-guard",to="promoted"\} 1/);
  });

  it('promotes a named version without a rollout running, and refuses a version that cannot load', async () => {
    const promote = (body: unknown) =>
      fetch(url('/v2/repository/models/npc-guard/rollout/promote'), {
        method: 'POST',
        headers: admin,
        body: JSON.stringify(body),
      });
    const nothing = await fetch(url('/v2/repository/models/npc-guard/rollout/promote'), {
      method: 'POST',
      headers: admin,
    });
    expect(nothing.status).to.equal(400);
    const bad = await promote({ candidate: 3 });
    expect(bad.status).to.equal(422);
    expect(((await (await fetch(url('/v2/models/npc-guard'))).json()) as any).served).to.equal(1);
    const ok = await promote({ candidate: 2, report: { recall: 0.9 } });
    expect(ok.status).to.equal(200);
    expect(await ok.json()).to.deep.include({ status: 'promoted', report: { recall: 0.9 } });
    expect(((await (await fetch(url('/v2/models/npc-guard'))).json()) as any).served).to.equal(2);
  });

  it('stops a rollout when the served version changes outside it', async () => {
    expect((await rollout({ candidate: 2, mode: 'shadow' })).status).to.equal(200);
    const file = join(dir, 'npc-guard', 'manifest.json');
    const m = JSON.parse(await readFile(file, 'utf8')) as any;
    await writeFile(file, JSON.stringify({ ...m, version: 2 }, null, 2));
    const load = await fetch(url('/v2/repository/models/npc-guard/load'), { method: 'POST', headers: admin });
    expect(load.status).to.equal(200);
    const g = (await (await fetch(url('/v2/repository/models/npc-guard/rollout'), { headers: admin })).json()) as any;
    expect(g.status).to.equal('stopped');
    expect(g.reason).to.match(/served version changed to 2/);
  });
});
