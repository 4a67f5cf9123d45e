/**
 * Docker environments against the real engine (mlw-test/busybox:latest, no registry): a build
 * tags mlw-env/<name>:<digest>; building again with nothing changed reuses the image without the
 * engine being asked to build (seen through a recording proxy); a changed file makes it stale; a
 * rebuild with prune removes the superseded digest; remove; an unreachable engine is named with what
 * to start; a cancelled build stops and leaves no image.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineClient } from '../../../agent/src/env/engine';
import { EngineUnreachableError, EnvError } from '../../../agent/src/env/errors';
import { BUSYBOX, envService, recordingProxy, removeImagesAfter, requireEngine, uniqueName, workspace, writeFile } from './helpers';

function dagWith(name: string, extra = ''): string {
  return `version: 1
name: envs
environments:
  ${name}:
    docker: { dockerfile: env/Dockerfile, context: env${extra} }
tasks:
  a:
    run: echo a
`;
}

const DOCKERFILE = `FROM ${BUSYBOX}\nCOPY tool.sh /tool.sh\nRUN sh /tool.sh\n`;

void describe('Docker environments', () => {
  void test('build, reuse without an engine build, stale after a change, rebuild with prune, remove', async (t) => {
    await requireEngine();
    const name = uniqueName('envtest');
    removeImagesAfter(t, [name]);
    const root = workspace(t, {
      'envs.dag.yaml': dagWith(name),
      'env/Dockerfile': DOCKERFILE,
      'env/tool.sh': 'echo building-tool\n',
      'env/.dockerignore': 'scratch/\n',
      'env/scratch/big.bin': 'ignored',
    });
    const proxy = await recordingProxy(t);
    const service = envService(t, root, { ...process.env, DOCKER_HOST: proxy.dockerHost });

    const before = await service.list([name]);
    assert.equal(before.environments[0]!.state, 'missing');
    const tag = before.environments[0]!.image!;
    assert.match(tag, new RegExp(`^mlw-env/${name}:[0-9a-f]{12}$`));

    const lines: string[] = [];
    const built = await service.build(name, { progress: (line) => lines.push(line) });
    assert.equal(built.reused, false);
    assert.equal(built.image, tag);
    assert.ok(lines.includes('building-tool'), `the build's own output is streamed: ${lines.join(' | ')}`);
    assert.ok(lines.some((line) => /^Step 1\/\d+ : FROM/.test(line)));
    assert.equal(proxy.calls.filter((call) => call === 'POST /build').length, 1);

    // Nothing changed (an ignored file did): reused, and the engine was not asked to build.
    writeFile(root, 'env/scratch/big.bin', 'changed, but ignored');
    proxy.calls.length = 0;
    const again = await service.build(name);
    assert.deepEqual([again.reused, again.image, again.imageId], [true, tag, built.imageId]);
    assert.deepEqual(proxy.calls.filter((call) => call.startsWith('POST')), []);
    assert.equal((await service.list([name])).environments[0]!.state, 'ready');

    // A context file changed: stale (the old digest's image is there), with a new planned tag.
    writeFile(root, 'env/tool.sh', 'echo building-tool-v2\n');
    const stale = (await service.list([name])).environments[0]!;
    assert.equal(stale.state, 'stale');
    assert.notEqual(stale.image, tag);
    assert.match(stale.detail!, /changed since/);

    const rebuilt = await service.build(name, { prune: true });
    assert.deepEqual([rebuilt.reused, rebuilt.image, rebuilt.pruned], [false, stale.image, [tag]]);
    const engine = new EngineClient(process.env);
    t.after(() => engine.close());
    assert.equal(await engine.imageId(tag), undefined, 'the superseded digest was pruned');
    assert.equal((await service.list([name])).environments[0]!.state, 'ready');

    const removed = await service.remove(name);
    assert.deepEqual(removed.removed, [stale.image]);
    assert.equal(await engine.imageId(stale.image!), undefined);
    assert.equal((await service.list([name])).environments[0]!.state, 'missing');
  });

  void test('build args are part of the digest; remove --superseded prunes only other digests of this environment', async (t) => {
    await requireEngine();
    const name = uniqueName('envargs');
    removeImagesAfter(t, [name]);
    const files = { 'env/Dockerfile': `FROM ${BUSYBOX}\nARG GREETING=hi\nRUN echo $GREETING\n` };
    const root = workspace(t, { ...files, 'envs.dag.yaml': dagWith(name, ', args: { GREETING: hello }') });
    const service = envService(t, root);
    const first = await service.build(name);
    writeFile(root, 'envs.dag.yaml', dagWith(name, ', args: { GREETING: bonjour }'));
    assert.equal((await service.list([name])).environments[0]!.state, 'stale');
    const second = await service.build(name);
    assert.notEqual(second.image, first.image);

    // Another workspace's environment of the same name is not this one's superseded digest.
    const other = workspace(t, { ...files, 'envs.dag.yaml': dagWith(name, ', args: { GREETING: hallo }') });
    const otherService = envService(t, other);
    const foreign = await otherService.build(name);

    const pruned = await service.remove(name, 'superseded');
    assert.deepEqual(pruned.removed, [first.image]);
    const engine = new EngineClient(process.env);
    t.after(() => engine.close());
    assert.ok(await engine.imageId(second.image!));
    assert.ok(await engine.imageId(foreign.image!), "the other workspace's image is kept");
  });

  void test('an image used as it is: ready when present, missing (never pulled) when not', async (t) => {
    await requireEngine();
    const root = workspace(t, {
      'envs.dag.yaml': `version: 1\nname: x\nenvironments:\n  here:\n    docker: { image: ${BUSYBOX} }\n  absent:\n    docker: { image: mlw-test/not-there:never }\ntasks:\n  a:\n    run: echo a\n`,
    });
    const service = envService(t, root);
    const list = await service.list();
    assert.deepEqual(
      list.environments.map((env) => [env.name, env.state]),
      [['here', 'ready'], ['absent', 'missing']],
    );
    assert.match(list.environments[1]!.detail!, /mlw never pulls: run `docker pull mlw-test\/not-there:never`/);
    await assert.rejects(service.remove('here'), /removes only images it built/);
  });

  void test('an unreachable engine: list says so for each Docker environment, build fails naming DOCKER_HOST and what to start', async (t) => {
    const name = uniqueName('envdown');
    const root = workspace(t, { 'envs.dag.yaml': dagWith(name), 'env/Dockerfile': DOCKERFILE, 'env/tool.sh': 'true\n' });
    const service = envService(t, root, { ...process.env, DOCKER_HOST: 'unix:///nonexistent' });
    const list = await service.list();
    assert.equal(list.tools.docker.reachable, false);
    assert.match(list.tools.docker.where, /unix:\/\/\/nonexistent \(DOCKER_HOST\)/);
    const info = list.environments[0]!;
    assert.equal(info.state, 'unknown');
    assert.match(info.image!, new RegExp(`^mlw-env/${name}:`), 'the planned tag is known without the engine');
    await assert.rejects(service.build(name), (error: Error) => {
      assert.ok(error instanceof EngineUnreachableError);
      assert.match(error.message, /not reachable at unix:\/\/\/nonexistent \(DOCKER_HOST\): connect ENOENT \/nonexistent; start the engine that DOCKER_HOST names/);
      return true;
    });
  });

  void test('a cancelled build stops, says so, and leaves no image', async (t) => {
    await requireEngine();
    const name = uniqueName('envcancel');
    removeImagesAfter(t, [name]);
    const root = workspace(t, { 'envs.dag.yaml': dagWith(name), 'env/Dockerfile': `FROM ${BUSYBOX}\nRUN echo started && sleep 600\n` });
    const service = envService(t, root);
    const controller = new AbortController();
    const building = service.build(name, {
      signal: controller.signal,
      progress: (line) => {
        if (line === 'started') controller.abort();
      },
    });
    await assert.rejects(building, (error: Error) => {
      assert.ok(error instanceof EnvError);
      assert.match(error.message, new RegExp(`environment ${name}: the build was cancelled`));
      return true;
    });
    const state = (await service.list([name])).environments[0]!;
    assert.equal(state.state, 'missing');
  });
});
