/** ModelRepository.pin: serving a chosen version over the manifest's, through the atomic swap. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { FsModelSource, ModelRepository, nodeBackend, silentLogger } from '../../sdk/index.js';
import { tempDir } from '../helpers/compat.js';
import { linearPolicyBytes, linearPolicyManifest, writeModel } from '../helpers/models.js';

describe('model repository pin', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let repository: ModelRepository;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    await writeModel(dir, 'guard', 1, linearPolicyBytes(6, 4, 1), linearPolicyManifest('guard', 6, 4));
    await writeModel(dir, 'guard', 2, linearPolicyBytes(6, 4, 2));
    await writeModel(dir, 'guard', 3, new TextEncoder().encode('not onnx'));
    repository = new ModelRepository({ source: new FsModelSource(dir), backend: nodeBackend(), logger: silentLogger });
    await repository.loadAll().catch(() => undefined);
  });
  afterEach(async () => {
    await repository.close();
    await cleanup();
  });

  it('serves the pinned version over the highest, and keeps it over later reloads until the pin is lifted', async () => {
    // Version 3 is broken: the first load fell back to 2.
    expect(repository.get('guard')!.version).to.equal(2);
    expect(repository.pinned('guard')).to.equal(null);
    const v1 = await repository.pin('guard', 1);
    expect(v1.id).to.equal('guard@1');
    expect(repository.get('guard')).to.equal(v1);
    expect(repository.pinned('guard')).to.equal(1);
    expect((await repository.reload('guard')).version).to.equal(1);
    await expect(repository.pin('guard', null)).to.be.rejectedWith(/guard[/\\]3[/\\]model\.onnx/);
    expect(repository.get('guard')!.version).to.equal(1, 'the previous version keeps serving');
    expect(repository.pinned('guard')).to.equal(1, 'and the previous pin is kept');
  });

  it('keeps the previous version and pin when the pinned version cannot load', async () => {
    await repository.pin('guard', 1);
    await expect(repository.pin('guard', 3)).to.be.rejectedWith(/onnxruntime refused it/);
    await expect(repository.pin('guard', 7)).to.be.rejectedWith(/pins version 7 but there is no folder guard\/7/);
    expect(repository.get('guard')!.version).to.equal(1);
    expect(repository.pinned('guard')).to.equal(1);
  });

  it('refuses a bad version and an unknown model', async () => {
    await expect(repository.pin('guard', 0)).to.be.rejectedWith(RangeError, /'version'/);
    await expect(repository.pin('nope', 1)).to.be.rejectedWith(/no model named "nope"/);
  });

  it('overrides a version the manifest pins', async () => {
    await writeFile(
      join(dir, 'guard', 'manifest.json'),
      JSON.stringify({ ...linearPolicyManifest('guard', 6, 4), version: 1 }),
    );
    expect((await repository.reload('guard')).version).to.equal(1);
    expect((await repository.pin('guard', 2)).version).to.equal(2);
    expect((await repository.reload('guard')).version).to.equal(2);
  });
});
