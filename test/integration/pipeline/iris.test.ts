/**
 * The example pipeline through the built CLI (sklearn test image): `mlw dag run` in a copy of
 * examples/iris runs features → train@rf, train@gb → select_best in containers and writes the chosen
 * model and its accuracy; `mlw dag explain` then finds everything unchanged, and a second run
 * restores every task, the selection included (its accuracy carried over). A DAG file with errors is
 * refused with FILE:LINE:COL before anything runs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { builtAgent, ensureBuilt, repoRoot } from '../lsp/agent-process';
import { git, requireDocker, SKLEARN } from '../runs/helpers';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function mlw(cwd: string, ...args: string[]): Promise<Result> {
  const child = spawn(process.execPath, [builtAgent, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

function irisWorkspace(t: { after: (fn: () => void) => void }): string {
  const root = mkdtempSync(join(tmpdir(), 'mlw-iris-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // What a clean checkout holds: no outputs, no checked-out data, no cache, no run store.
  const local = ['build', 'data', '.mlw', join('.dvc', 'cache'), join('.dvc', 'tmp')].map((name) => join('iris', name));
  cpSync(join(repoRoot, 'examples', 'iris'), root, { recursive: true, filter: (source) => !local.some((name) => source.endsWith(name)) });
  git(root, 'init', '-q', '-b', 'main');
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'iris');
  return root;
}

void describe('the iris example end to end', () => {
  void test('mlw dag run trains both models and selects one; the second run restores every task', async (t) => {
    await requireDocker(SKLEARN);
    ensureBuilt();
    const root = irisWorkspace(t);
    const pulled = await mlw(root, 'data', 'pull');
    assert.equal(pulled.code, 0, `the iris data comes from the example's directory remote: ${pulled.stderr}`);
    assert.match(readFileSync(join(root, 'data', 'iris.csv'), 'utf8'), /^sepal_length/);

    const first = await mlw(root, 'dag', 'run', '--json');
    assert.equal(first.code, 0, first.stderr);
    const state = JSON.parse(first.stdout) as { status: string; tasks: { name: string; status: string }[] };
    assert.deepEqual(
      state.tasks.map((task) => [task.name, task.status]),
      [['features', 'succeeded'], ['train@rf', 'succeeded'], ['train@gb', 'succeeded'], ['select_best', 'succeeded']],
    );
    const best = JSON.parse(readFileSync(join(root, 'build', 'best.json'), 'utf8')) as Record<string, unknown>;
    assert.ok(['rf', 'gb'].includes(String(best['model'] ?? best['best'])), JSON.stringify(best));

    const explained = await mlw(root, 'dag', 'explain');
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, /^features +cached +unchanged since run [0-9a-f]+$/m);
    assert.match(explained.stdout, /^train@gb +cached /m);
    assert.match(explained.stdout, /^select_best +cached /m);

    const second = await mlw(root, 'dag', 'run');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /features: cached \(run [0-9a-f]+\) — unchanged: outputs of run [0-9a-f]+ are in place/);
    assert.match(second.stderr, /train@rf: cached/);
    assert.match(second.stderr, /train@gb: cached/);
    assert.match(second.stderr, /select_best: cached/);
    assert.match(second.stderr, /DAG run [0-9a-f]+ succeeded in [\d.]+ s: 4 cached/);

    const listed = JSON.parse((await mlw(root, 'runs', 'list', '--json')).stdout) as {
      name: string;
      latestMetrics: Record<string, { value: number }>;
      tags: string[];
      gitCommit: string | null;
    }[];
    const cachedTrain = listed.find((run) => run.name === 'train@rf' && run.tags.includes('cached'))!;
    assert.ok(Object.keys(cachedTrain.latestMetrics).length > 0, 'a cached run carries the metrics of the run it stands for');
    assert.match(cachedTrain.gitCommit ?? '', /^[0-9a-f]{40}$/, 'a cached run records the commit it stands for');
    const selections = listed.filter((run) => run.name === 'select_best');
    assert.equal(selections.length, 2);
    for (const selection of selections) assert.equal(selection.latestMetrics['accuracy']?.value, best['accuracy'], 'the chosen accuracy shows with the selection');
  });

  void test('a DAG file with errors is refused with FILE:LINE:COL and nothing runs', async (t) => {
    ensureBuilt();
    const root = irisWorkspace(t);
    const text = readFileSync(join(root, 'iris.dag.yaml'), 'utf8').replace('needs: [features]', 'needs: [featurez]');
    writeFileSync(join(root, 'iris.dag.yaml'), text);
    const line = text.split('\n').findIndex((candidate) => candidate.includes('featurez')) + 1;
    const result = await mlw(root, 'dag', 'run');
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`iris\\.dag\\.yaml:${line}:\\d+: error: .*featurez`));
    assert.match(result.stderr, /nothing was run/);
  });
});
