import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskSpec } from '../../../schemas/dag';
import type { LaunchPlan } from '../../../agent/src/runs/plan';
import { canonicalJson, describeChanges, fingerprintTask, paramsUsedBy } from '../../../agent/src/pipeline/fingerprint';

function planIn(root: string, fields: Partial<LaunchPlan> = {}): LaunchPlan {
  return {
    request: { kind: 'task', dagFile: 'p.dag.yaml', task: 't', params: {}, priority: 0 },
    name: 't',
    task: 't',
    dagFile: 'p.dag.yaml',
    dagRunId: null,
    command: 'python t.py --seed 1',
    workspaceRoot: root,
    workdir: '',
    environment: { name: null, spec: null, baseDir: root },
    params: { seed: '1', size: '3', 'matrix.model': 'rf' },
    env: {},
    inputs: ['data/', 'src/t.py'],
    outputs: ['out.txt'],
    metricsFiles: [],
    resources: {},
    priority: 0,
    timeoutMs: null,
    ...fields,
  };
}

const spec: TaskSpec = { run: 'python t.py --seed ${params.seed}', env: { SIZE: '${params.size}' }, inputs: ['data/', 'src/t.py'] };

void describe('fingerprints', () => {
  void test('the params a task refers to, wherever it refers to them', () => {
    assert.deepEqual(paramsUsedBy({ run: 'x ${params.a} ${ params.b }', outputs: ['o/${params.c}.txt'], metrics: 'm/${params.d}.json', env: { X: '${params.e}' } }), ['a', 'b', 'c', 'd', 'e']);
  });

  void test('equal parts, equal digest; each change changes it and is named', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'mlw-fp-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'data'));
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'data', 'a.csv'), '1,2\n');
    writeFileSync(join(root, 'src', 't.py'), 'print(1)\n');
    const first = await fingerprintTask(planIn(root), spec, 'env-1');
    assert.deepEqual(first.parts.params, { seed: '1', size: '3' }, 'only the params the task uses');
    assert.match(first.parts.inputs['data']!, /^[0-9a-f]{32}\.dir$/);
    assert.equal((await fingerprintTask(planIn(root), spec, 'env-1')).digest, first.digest);

    writeFileSync(join(root, 'data', 'b.csv'), 'new file in the folder\n');
    const folderChanged = await fingerprintTask(planIn(root), spec, 'env-1');
    assert.notEqual(folderChanged.digest, first.digest);
    assert.deepEqual(describeChanges(first.parts, folderChanged.parts), ['input data changed']);

    const more = await fingerprintTask(planIn(root, { params: { seed: '2', size: '3' }, command: 'python t.py --seed 2' }), spec, 'env-2');
    assert.deepEqual(describeChanges(folderChanged.parts, more.parts), ['the command changed', 'the environment changed', 'param seed changed (1 → 2)']);
    rmSync(join(root, 'src', 't.py'));
    const missing = await fingerprintTask(planIn(root), spec, 'env-1');
    assert.deepEqual(describeChanges(folderChanged.parts, missing.parts), ['input src/t.py is missing']);
  });

  void test('canonical JSON sorts keys at every level', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } }), '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
  });
});
