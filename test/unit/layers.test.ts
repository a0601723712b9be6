/**
 * The layer rules of DESIGN.md hold by tool: `npm run lint` (eslint, import-x
 * no-restricted-paths) refuses a wrong-way import. These cases lint source text as if
 * it sat in each layer, through the project's own eslint.config.js.
 */
import { ESLint } from 'eslint';
import { expect } from 'chai';
import { REPO_ROOT } from '../helpers/compat.js';

const eslint = new ESLint({ cwd: REPO_ROOT });

async function restrictedImports(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: `${REPO_ROOT}/${file}` });
  return result!.messages.filter((m) => m.ruleId === 'import-x/no-restricted-paths').map((m) => m.message);
}

describe('layers (npm run lint)', function () {
  this.timeout(60_000);

  it('refuses an SDK module that imports the server', async () => {
    const errors = await restrictedImports(
      'sdk/engine/policy.ts',
      "import { createArena } from '../../server/sim/index.js';\nvoid createArena;\n",
    );
    expect(errors.join('\n')).to.match(/SDK ships alone/);
  });

  it('refuses an SDK module that imports the training code', async () => {
    const errors = await restrictedImports(
      'sdk/cli/import.ts',
      "import { progress } from '../../models/train/progress.js';\nvoid progress;\n",
    );
    expect(errors.join('\n')).to.match(/SDK ships alone/);
  });

  it('refuses a demo module that imports a server room', async () => {
    const errors = await restrictedImports(
      'demo-game/src/main.ts',
      "import { ArenaRoom } from '../../server/rooms/arena-room.js';\nvoid ArenaRoom;\n",
    );
    expect(errors.join('\n')).to.match(/public SDK and the shared arena game/);
  });

  it("refuses a server module that imports the SDK's internals instead of its public entries", async () => {
    const errors = await restrictedImports(
      'server/rooms/arena-room.ts',
      "import { runPolicy } from '../../sdk/engine/policy.js';\nvoid runPolicy;\n",
    );
    expect(errors.join('\n')).to.match(/public entries/);
  });

  it("refuses a demo module that imports the SDK's internals instead of its browser entry", async () => {
    const errors = await restrictedImports(
      'demo-game/src/main.ts',
      "import { ArenaMessage } from '../../sdk/protocol.js';\nvoid ArenaMessage;\n",
    );
    expect(errors.join('\n')).to.match(/browser entry/);
  });

  it('lets the server import the SDK and training import the simulation', async () => {
    expect(
      await restrictedImports(
        'server/metrics.ts',
        "import { PlaymindError } from '../sdk/index.js';\nvoid PlaymindError;\n",
      ),
    ).to.deep.equal([]);
    expect(
      await restrictedImports(
        'server/rooms/arena-room.ts',
        "import { checkFeeds } from '../../sdk/runtime.js';\nvoid checkFeeds;\n",
      ),
    ).to.deep.equal([]);
    expect(
      await restrictedImports(
        'models/train/guard/seeds.ts',
        "import { createArena } from '../../../server/sim/index.js';\nvoid createArena;\n",
      ),
    ).to.deep.equal([]);
  });
});
