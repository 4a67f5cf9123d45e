/**
 * `mlw env` through the built CLI against the real engine: list --json, build with its output on
 * stderr and the result on stdout, a second build reused, remove; an unreachable DOCKER_HOST exits 1
 * naming it; containerize writes the Dockerfile; bad usage exits 2.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentList } from '../../../schemas/protocol/env';
import { builtAgent, ensureBuilt } from '../lsp/agent-process';
import { BUSYBOX, removeImagesAfter, requireEngine, uniqueName, workspace } from './helpers';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function mlw(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  const child = spawn(process.execPath, [builtAgent, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

void describe('mlw env', () => {
  void test('list, build (streamed), build again (reused), remove', async (t) => {
    await requireEngine();
    ensureBuilt();
    const name = uniqueName('clienv');
    removeImagesAfter(t, [name]);
    const root = workspace(t, { [`${name}/Dockerfile`]: `FROM ${BUSYBOX}\nRUN echo from-the-build\n` });

    const listed = await mlw(root, ['env', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const list = EnvironmentList.parse(JSON.parse(listed.stdout));
    assert.deepEqual(list.environments.map((env) => [env.name, env.kind, env.state]), [[name, 'docker', 'missing']]);

    const built = await mlw(root, ['env', 'build', name]);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stderr, new RegExp(`^${name} \\| from-the-build$`, 'm'));
    assert.match(built.stdout, new RegExp(`^${name}: mlw-env/${name}:[0-9a-f]{12} \\(built in [0-9.]+ s\\)$`, 'm'));

    const again = await mlw(root, ['env', 'build', name]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /\(up to date, reused\)/);
    assert.equal(again.stderr, '');

    const table = await mlw(root, ['env', 'list']);
    assert.match(table.stdout, new RegExp(`^${name}\\s+docker\\s+ready\\s+mlw-env/${name}:`, 'm'));

    const removed = await mlw(root, ['env', 'remove', name]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, new RegExp(`^removed mlw-env/${name}:`, 'm'));
  });

  void test('an unreachable engine: exit 1 naming DOCKER_HOST and what to start', async (t) => {
    ensureBuilt();
    const root = workspace(t, { 'app/Dockerfile': `FROM ${BUSYBOX}\n` });
    const result = await mlw(root, ['env', 'build', 'app'], { ...process.env, DOCKER_HOST: 'unix:///nonexistent' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^mlw: the Docker engine is not reachable at unix:\/\/\/nonexistent \(DOCKER_HOST\).*start the engine that DOCKER_HOST names/m);
  });

  void test('containerize writes the Dockerfile; bad usage exits 2', async (t) => {
    ensureBuilt();
    const root = workspace(t, { 'train/requirements.txt': '# none\n' });
    const result = await mlw(root, ['env', 'containerize', 'train', '--base', 'mlw-test/python-sklearn:bookworm']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'wrote train/train.Dockerfile\n');
    assert.ok(existsSync(join(root, 'train', 'train.Dockerfile')));
    const usage = await mlw(root, ['env', 'remove', 'train', '--all', '--superseded']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--superseded and --all exclude each other/);
  });
});
