/**
 * Which environments a workspace has (DAG `environments:` with the line of each name, spec files
 * found and not already used, .gitignore honoured, names kept unique), and `containerize`: the
 * Dockerfile written for a requirements.txt and for a conda environment.yml.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { discoverEnvironments } from '../../../agent/src/env/discovery';
import { EnvError } from '../../../agent/src/env/errors';
import { EnvService } from '../../../agent/src/env/service';

interface TestContext {
  after: (fn: () => void) => void;
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

function workspace(t: TestContext, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mlw-env-discovery-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const DAG = `version: 1
name: demo
environments:
  trainer:
    docker: { dockerfile: envs/train.Dockerfile, context: envs }
  py:
    venv: { requirements: requirements.txt }
  broken:
    docker: { context: envs }
tasks:
  a:
    run: echo a
`;

void describe('discovery', () => {
  void test('DAG environments come with their lines; unused spec files are added, used ones not twice', async (t) => {
    const root = workspace(t, {
      'demo.dag.yaml': DAG,
      'envs/train.Dockerfile': 'FROM mlw-test/busybox:latest\n',
      'requirements.txt': '# nothing\n',
      'tools/Dockerfile': 'FROM mlw-test/busybox:latest\n',
      'analysis/environment.yml': 'name: analysis-env\ndependencies: [python=3.11]\n',
      'ignored/requirements.txt': 'x\n',
      'node_modules/pkg/Dockerfile': 'FROM x\n',
      '.gitignore': 'ignored/\n',
    });
    const found = await discoverEnvironments(root);
    const summary = found.map((env) => [env.name, env.kind, env.origin, env.line, env.problem === null]);
    assert.deepEqual(summary, [
      ['trainer', 'docker', 'dag', 4, true],
      ['py', 'venv', 'dag', 6, true],
      ['broken', 'docker', 'dag', 8, false],
      ['analysis-env', 'conda', 'file', null, true],
      ['tools', 'docker', 'file', null, true],
    ]);
    const broken = found.find((env) => env.name === 'broken')!;
    assert.match(broken.problem!, /demo\.dag\.yaml:8: environments\.broken/);
  });

  void test('a spec file whose name is taken gets its kind as a suffix', async (t) => {
    const root = workspace(t, {
      'demo.dag.yaml': DAG.replace('trainer:', 'tools:'),
      'envs/train.Dockerfile': 'FROM x\n',
      'requirements.txt': '\n',
      'tools/Dockerfile': 'FROM x\n',
    });
    const names = (await discoverEnvironments(root)).map((env) => env.name);
    assert.deepEqual(names, ['tools', 'py', 'broken', 'tools-docker']);
  });
});

void describe('containerize', () => {
  void test('requirements.txt → a Dockerfile on python:3.11-slim that copies it (and its includes) and pip-installs', async (t) => {
    const root = workspace(t, { 'app/requirements.txt': 'numpy==1.26.4\n-r base.txt\n', 'app/base.txt': 'pandas\n' });
    const service = new EnvService({ root, log: quiet, env: {} });
    t.after(() => service.close());
    const result = await service.containerize('app');
    assert.equal(result.dockerfile, 'app/app.Dockerfile');
    assert.equal(readFileSync(join(root, 'app/app.Dockerfile'), 'utf8'), result.text);
    assert.deepEqual(result.text.split('\n').filter((line) => !line.startsWith('#')), [
      'FROM python:3.11-slim',
      'WORKDIR /env',
      'COPY requirements.txt /env/requirements.txt',
      'COPY base.txt /env/base.txt',
      'RUN python3 -m pip install --no-cache-dir --disable-pip-version-check -r /env/requirements.txt',
      'WORKDIR /workspace',
      '',
    ]);
  });

  void test('environment.yml → a micromamba Dockerfile by default, conda on a conda base; never overwrites without force', async (t) => {
    const root = workspace(t, { 'environment.yml': 'name: research\ndependencies:\n  - python=3.11\n  - numpy\n' });
    const service = new EnvService({ root, log: quiet, env: {} });
    t.after(() => service.close());
    const micromamba = await service.containerize('research');
    assert.equal(micromamba.dockerfile, 'research.Dockerfile');
    assert.match(micromamba.text, /^FROM mambaorg\/micromamba:/m);
    assert.match(micromamba.text, /^COPY --chown=\$MAMBA_USER:\$MAMBA_USER environment\.yml \/tmp\/environment\.yml$/m);
    assert.match(micromamba.text, /^RUN micromamba install -y -n base -f \/tmp\/environment\.yml && micromamba clean --all --yes$/m);

    await assert.rejects(service.containerize('research', { base: 'continuumio/miniconda3' }), (error: Error) => {
      assert.ok(error instanceof EnvError);
      assert.match(error.message, /research\.Dockerfile exists: pass --force/);
      return true;
    });
    const conda = await service.containerize('research', { base: 'continuumio/miniconda3', force: true });
    assert.equal(conda.dockerfile, 'research.Dockerfile');
    assert.match(conda.text, /^FROM continuumio\/miniconda3$/m);
    assert.match(conda.text, /^RUN conda env update -n base -f \/tmp\/environment\.yml && conda clean --all --yes$/m);
    // Written elsewhere, the Dockerfile's build context would not hold the spec file it copies.
    await assert.rejects(service.containerize('research', { output: 'docker/conda.Dockerfile' }), /environment\.yml is outside .*docker/);
    assert.ok(!existsSync(join(root, 'docker', 'conda.Dockerfile')));
  });

  void test('a Docker environment cannot be containerized', async (t) => {
    const root = workspace(t, { 'Dockerfile': 'FROM x\n' });
    const service = new EnvService({ root, log: quiet, env: {} });
    t.after(() => service.close());
    const [only] = await discoverEnvironments(root);
    await assert.rejects(service.containerize(only!.name), /is a docker environment: only conda and venv/);
  });
});

void describe('conda tool', () => {
  void test('a bad MLW_CONDA is reported on each conda environment (unknown), not as a failed listing; building names it', async (t) => {
    const root = workspace(t, { 'environment.yml': 'name: research\ndependencies: []\n' });
    const service = new EnvService({ root, log: quiet, env: { PATH: '', MLW_CONDA: '/nonexistent/conda' } });
    t.after(() => service.close());
    const list = await service.list();
    assert.equal(list.tools.conda, null);
    assert.deepEqual([list.environments[0]!.kind, list.environments[0]!.state], ['conda', 'unknown']);
    assert.match(list.environments[0]!.detail!, /the conda binary set by MLW_CONDA \(\/nonexistent\/conda\) is not an executable file/);
    await assert.rejects(service.build('research'), /MLW_CONDA \(\/nonexistent\/conda\)/);
  });
});
