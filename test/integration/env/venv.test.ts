/**
 * venv environments with the real interpreter (python3 -m venv; no package index here, so the
 * requirements list no packages): created under .mlw/venvs/<name>-<digest> and usable, reused while
 * the requirements (and the files they include) are unchanged, stale after a change, rebuilt beside
 * the old folder, which prune then removes. And conda environments, when a conda, mamba or
 * micromamba binary exists; otherwise those tests are reported skipped with the reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findCondaTool } from '../../../agent/src/env/conda';
import { binFolder } from '../../../agent/src/env/venv';
import { envService, workspace, writeFile } from './helpers';

void describe('venv environments', () => {
  void test('created keyed by digest, reused, stale after a requirements change (also an included file), rebuilt, pruned', async (t) => {
    const root = workspace(t, {
      'requirements.txt': '# no packages: the interpreter alone\n-r base.txt\n',
      'base.txt': '# shared pins\n',
    });
    const service = envService(t, root);
    const [listed] = (await service.list()).environments;
    assert.deepEqual([listed!.kind, listed!.state, listed!.specFile], ['venv', 'missing', 'requirements.txt']);
    const name = listed!.name;

    const built = await service.build(name);
    assert.equal(built.reused, false);
    assert.equal(built.path, join(root, '.mlw', 'venvs', `${name}-${built.digest}`));
    const python = join(binFolder(built.path!), 'python');
    assert.equal(execFileSync(python, ['-c', 'import sys; print(sys.prefix)'], { encoding: 'utf8' }).trim(), built.path);
    assert.equal((await service.list()).environments[0]!.state, 'ready');

    const again = await service.build(name);
    assert.deepEqual([again.reused, again.path], [true, built.path]);

    writeFile(root, 'base.txt', '# shared pins, revised\n');
    const stale = (await service.list()).environments[0]!;
    assert.equal(stale.state, 'stale');
    assert.notEqual(stale.digest, built.digest);
    assert.equal(stale.path, built.path, 'a stale venv points at the folder still there');
    assert.match(stale.detail!, /requirements\.txt changed since the venv was built/);

    const rebuilt = await service.build(name, { prune: true });
    assert.equal(rebuilt.reused, false);
    assert.equal(rebuilt.digest, stale.digest);
    assert.deepEqual(rebuilt.pruned, [built.path]);
    assert.ok(!existsSync(built.path!));

    const removed = await service.remove(name);
    assert.deepEqual(removed.removed, [`.mlw/venvs/${name}-${rebuilt.digest}`]);
    assert.equal((await service.list()).environments[0]!.state, 'missing');
  });

  void test('an interpreter that does not exist fails the build naming it, and leaves no folder', async (t) => {
    const root = workspace(t, {
      'envs.dag.yaml': 'version: 1\nname: x\nenvironments:\n  py:\n    venv: { requirements: requirements.txt, python: python-does-not-exist }\ntasks:\n  a:\n    run: echo a\n',
      'requirements.txt': '\n',
    });
    const service = envService(t, root);
    await assert.rejects(service.build('py'), /environment py: creating the venv: python-does-not-exist was not found/);
    assert.equal((await service.list(['py'])).environments[0]!.state, 'missing');
  });
});

void describe('conda environments', () => {
  const tool = (() => {
    try {
      return findCondaTool(process.env.MLW_CONDA || undefined);
    } catch {
      return undefined;
    }
  })();
  const skip = tool ? false : 'no conda, mamba or micromamba on PATH (nor MLW_CONDA): conda environments are not tested on this machine';

  void test('created from environment.yml, ready, stale after a change, removed', { skip }, async (t) => {
    const root = workspace(t, { 'environment.yml': `name: mlw-test-${process.pid}\nchannels: []\ndependencies: []\n` });
    const service = envService(t, root);
    const name = `mlw-test-${process.pid}`;
    t.after(async () => void (await service.remove(name).catch(() => undefined)));
    assert.equal((await service.list()).environments[0]!.state, 'missing');
    const built = await service.build(name);
    assert.equal(built.reused, false);
    assert.equal((await service.list()).environments[0]!.state, 'ready');
    writeFile(root, 'environment.yml', `name: ${name}\nchannels: []\ndependencies: []\n# changed\n`);
    assert.equal((await service.list()).environments[0]!.state, 'stale');
    assert.deepEqual((await service.remove(name)).removed, [built.path]);
  });

  void test('list reports which tool was found', { skip }, async (t) => {
    const service = envService(t, workspace(t, {}));
    assert.equal((await service.list()).tools.conda?.path, tool?.path);
  });
});
