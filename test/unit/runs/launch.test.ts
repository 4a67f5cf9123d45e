import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LaunchError } from '../../../agent/src/runs/errors';
import { parseParamAssignments, planCommand, planTask } from '../../../agent/src/runs/launch';
import { tempDir } from './helpers';

const DAG = `version: 1
params:
  seed: 42
  lr: 0.1
environments:
  sklearn:
    docker: { image: mlw-test/python-sklearn:bookworm }
  host:
    local: true
defaults:
  environment: sklearn
  timeout: 30m
  resources: { cpus: 2, memory: 4g }
tasks:
  train:
    matrix: { model: [rf, gb] }
    run: python3 train.py --model \${matrix.model} --seed \${params.seed}
    inputs: [build/features/]
    outputs: ['build/models/\${matrix.model}.pkl']
    metrics: build/metrics/\${matrix.model}.json
    resources: { memory: 1g }
    env: { MODEL: '\${matrix.model}' }
  local:
    environment: host
    run: echo \${params.nope}
  escape:
    run: "true"
    outputs: [../outside]
`;

function workspaceWithDag(t: Parameters<typeof tempDir>[0]): string {
  const root = tempDir(t);
  mkdirSync(join(root, 'proj'));
  writeFileSync(join(root, 'proj', 'pipe.dag.yaml'), DAG);
  return root;
}

void test('a matrix task plans one run per instance, params and matrix values substituted, defaults merged', async (t) => {
  const root = workspaceWithDag(t);
  const plans = await planTask({ workspaceRoot: root, dagFile: 'proj/pipe.dag.yaml', task: 'train', params: { seed: '7' } });
  assert.deepEqual(plans.map((plan) => plan.name), ['train@rf', 'train@gb']);
  const [rf] = plans;
  assert.equal(rf!.command, 'python3 train.py --model rf --seed 7');
  assert.equal(rf!.workdir, 'proj');
  assert.equal(rf!.dagFile, 'proj/pipe.dag.yaml');
  assert.deepEqual(rf!.params, { seed: '7', lr: '0.1', 'matrix.model': 'rf' });
  assert.deepEqual(rf!.outputs, ['build/models/rf.pkl']);
  assert.deepEqual(rf!.inputs, ['build/features/']);
  assert.deepEqual(rf!.metricsFiles, ['build/metrics/rf.json']);
  assert.deepEqual(rf!.resources, { cpus: 2, memory: '1g' });
  assert.deepEqual(rf!.env, { MODEL: 'rf' });
  assert.equal(rf!.timeoutMs, 30 * 60_000);
  assert.deepEqual(rf!.environment.spec, { docker: { image: 'mlw-test/python-sklearn:bookworm' } });
  assert.deepEqual(rf!.request, { kind: 'task', dagFile: 'proj/pipe.dag.yaml', task: 'train', params: { seed: '7' }, priority: 0 });
  const one = await planTask({ workspaceRoot: root, dagFile: join(root, 'proj/pipe.dag.yaml'), task: 'train@gb' });
  assert.deepEqual(one.map((plan) => plan.name), ['train@gb']);
});

void test('launch errors name the file, the task and what is wrong', async (t) => {
  const root = workspaceWithDag(t);
  const plan = (task: string, params: Record<string, string> = {}) =>
    planTask({ workspaceRoot: root, dagFile: 'proj/pipe.dag.yaml', task, params });
  await assert.rejects(plan('nope'), /proj\/pipe\.dag\.yaml has no task nope \(its tasks: train, local, escape\)/);
  await assert.rejects(plan('train', { sed: '1' }), /defines no param sed \(its params: seed, lr\)/);
  await assert.rejects(plan('local'), /task local: \$\{params\.nope\} is not defined/);
  await assert.rejects(plan('escape'), (error: unknown) => error instanceof LaunchError && /output \.\.\/outside must be a path inside the workspace/.test(error.message));
});

void test('an ad-hoc command finds its environment in the DAG files and substitutes -p params', async (t) => {
  const root = workspaceWithDag(t);
  const plan = await planCommand({ workspaceRoot: root, command: 'echo ${params.x}', environment: 'sklearn', cwd: join(root, 'proj'), params: { x: 'hi' } });
  assert.equal(plan.command, 'echo hi');
  assert.equal(plan.workdir, 'proj');
  assert.equal(plan.environment.name, 'sklearn');
  assert.equal(plan.environment.baseDir, join(root, 'proj'));
  await assert.rejects(planCommand({ workspaceRoot: root, command: 'true', environment: 'gpu' }), /no DAG file .* defines an environment gpu/);
  const host = await planCommand({ workspaceRoot: root, command: 'true' });
  assert.equal(host.environment.spec, null);
});

void test('-p values are NAME=VALUE, and the value may contain =', () => {
  assert.deepEqual(parseParamAssignments(['a=1', 'expr=x=y']), { a: '1', expr: 'x=y' });
  assert.throws(() => parseParamAssignments(['novalue']), /write a param as NAME=VALUE/);
});
