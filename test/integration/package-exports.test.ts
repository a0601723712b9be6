/**
 * The package as a game developer installs it: `playmind/sdk` resolves in plain
 * Node (no TypeScript loader) from the built files, and answers.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from '../helpers/chai.js';
import { REPO_ROOT, tempDir } from '../helpers/compat.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';

const run = promisify(execFile);

describe('package exports', function () {
  this.timeout(60_000);

  it('playmind/sdk resolves in plain Node and decides', async () => {
    expect(
      existsSync(join(REPO_ROOT, 'dist/sdk/index.js')),
      'dist/ is built by npm install (prepare) and npm test',
    ).to.equal(true);
    const { dir, cleanup } = await tempDir();
    try {
      await writeModel(dir, 'guard', 1, linearPolicyBytes(3, 2), linearPolicyManifest('guard', 3, 2));
      const script = `
        import { createBrain, silentLogger, PlaymindError } from 'playmind/sdk';
        const brain = await createBrain({ mode: 'local', models: ${JSON.stringify(dir)}, logger: silentLogger });
        const [d] = await brain.policy('guard').decide([{ f0: 1, f1: 0, f2: -1 }]);
        let code = null;
        try { await brain.policy('guard').decide([{ f0: 1 }]); } catch (e) { code = e instanceof PlaymindError ? e.code : 'other'; }
        console.log(JSON.stringify({ model: d.model, action: d.action, code }));
        await brain.close();`;
      const r = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT });
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(out.model).to.equal('guard@1');
      expect(['a0', 'a1']).to.include(out.action);
      expect(out.code).to.equal('invalid_observation');
    } finally {
      await cleanup();
    }
  });

  it('playmind/server resolves in plain Node, serves the shipped models and closes', async () => {
    const script = `
      import { createServer, serverConfig } from 'playmind/server';
      const s = await createServer(serverConfig({ port: 0, host: '127.0.0.1', modelsDir: './models', logLevel: 'error', demoDir: '/nonexistent' }));
      const ready = (await fetch(s.url + '/v2/health/ready')).status;
      const meta = await (await fetch(s.url + '/v2/models/npc-guard')).json();
      await s.close();
      console.log(JSON.stringify({ ready, name: meta.name, served: meta.served }));`;
    const r = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT });
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out).to.deep.equal({ ready: 200, name: 'npc-guard', served: 1 });
  });
});
