/** The DAG editor's vscode-free pieces: lens rows per task key, run progress text, explanations, the states store. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PipelineSummary } from '../../../schemas/protocol/dag';
import type { PipelineRunState, PipelineTaskState } from '../../../schemas/protocol/pipeline';
import {
  explanationLines,
  explanationPicks,
  outcomeMessage,
  percentDone,
  PipelineRunStates,
  pipelinesViewTarget,
  progressMessage,
  summaryFor,
  taskLenses,
} from '../../../extension/src/views/dag-run-model';

const at = (line: number, from: number, to: number) => ({
  start: { line, character: from },
  end: { line, character: to },
});

const summary: PipelineSummary = {
  path: '/ws/iris.dag.yaml',
  name: 'iris',
  errors: 0,
  warnings: 0,
  tasks: [
    { name: 'select_best', task: 'select_best', range: at(20, 2, 13), dependsOn: ['train@rf', 'train@gb'] },
    { name: 'features', task: 'features', range: at(5, 2, 10), dependsOn: [] },
    { name: 'train@rf', task: 'train', range: at(10, 2, 7), dependsOn: ['features'] },
    { name: 'train@gb', task: 'train', range: at(10, 2, 7), dependsOn: ['features'] },
  ],
};

function task(name: string, status: PipelineTaskState['status'], reason: string | null = null): PipelineTaskState {
  return {
    name,
    task: name.split('@')[0]!,
    status,
    runId: status === 'pending' ? null : `run-${name}`,
    attempt: 1,
    reason,
    dependsOn: [],
  };
}

function state(dagRunId: string, status: PipelineRunState['status'], tasks: PipelineTaskState[]): PipelineRunState {
  return { dagRunId, dagFile: 'iris.dag.yaml', status, startedAt: 0, endedAt: null, tasks };
}

void describe('DAG file code lenses', () => {
  void test('one row per task key in file order, at the key, with the matrix instances it selects', () => {
    assert.deepEqual(taskLenses(summary), [
      { task: 'features', range: at(5, 2, 10), instances: ['features'] },
      { task: 'train', range: at(10, 2, 7), instances: ['train@rf', 'train@gb'] },
      { task: 'select_best', range: at(20, 2, 13), instances: ['select_best'] },
    ]);
    assert.deepEqual(taskLenses({ tasks: [] }), []);
  });

  void test('a Pipelines-view row gives its file, and a task row its instance; anything else nothing', () => {
    assert.deepEqual(pipelinesViewTarget({ kind: 'pipeline', summary }), { dagFile: '/ws/iris.dag.yaml' });
    assert.deepEqual(pipelinesViewTarget({ kind: 'task', summary, task: summary.tasks[2] }), {
      dagFile: '/ws/iris.dag.yaml',
      task: 'train@rf',
    });
    assert.equal(pipelinesViewTarget({ kind: 'run', run: {} }), undefined);
    assert.equal(pipelinesViewTarget('/ws/iris.dag.yaml'), undefined);
    assert.equal(pipelinesViewTarget(undefined), undefined);
  });

  void test('the summary of a file is found by its absolute path', () => {
    assert.equal(summaryFor([summary], '/ws/iris.dag.yaml'), summary);
    assert.equal(summaryFor([summary], '/ws/other.dag.yaml'), undefined);
  });
});

void describe('DAG run progress', () => {
  const running = state('d1', 'running', [
    task('features', 'cached'),
    task('train@rf', 'running'),
    task('train@gb', 'retrying', 'exit code 1'),
    task('select_best', 'pending'),
  ]);

  void test('counts finished tasks and names the running ones', () => {
    assert.equal(progressMessage(running), '1/4 done · running train@rf, train@gb');
    assert.equal(percentDone(running), 25);
    assert.equal(percentDone(state('d0', 'succeeded', [])), 100);
  });

  void test('the outcome tallies statuses and names each failure with its reason', () => {
    const failed = state('d1', 'failed', [
      task('features', 'succeeded'),
      task('train@rf', 'failed', 'exit code 2'),
      task('train@gb', 'succeeded'),
      task('select_best', 'upstream-failed', 'train@rf failed'),
    ]);
    assert.equal(progressMessage(failed), '4/4 done · 1 failed');
    assert.equal(
      outcomeMessage(failed),
      'iris.dag.yaml failed (2 succeeded, 1 failed, 1 upstream-failed) — train@rf: exit code 2',
    );
  });
});

void describe('explanations', () => {
  const explanation = {
    dagFile: 'iris.dag.yaml',
    tasks: [
      { name: 'features', task: 'features', decision: 'cached' as const, reasons: [], cachedFrom: 'abc123' },
      {
        name: 'split',
        task: 'split',
        decision: 'cached' as const,
        reasons: ['unchanged since run def456'],
        cachedFrom: 'def456',
      },
      {
        name: 'train@rf',
        task: 'train',
        decision: 'will-run' as const,
        reasons: ['param n_estimators changed (100 → 200)'],
        cachedFrom: null,
      },
      {
        name: 'select_best',
        task: 'select_best',
        decision: 'will-run' as const,
        reasons: ['train@rf will run (its outputs may change)'],
        cachedFrom: null,
      },
    ],
  };

  void test('the Output channel gets one aligned line per task with the decision and why', () => {
    assert.deepEqual(explanationLines(explanation), [
      'Explain iris.dag.yaml:',
      '  features     cached    cached from run abc123',
      '  split        cached    unchanged since run def456',
      '  train@rf     will-run  param n_estimators changed (100 → 200)',
      '  select_best  will-run  train@rf will run (its outputs may change)',
    ]);
  });

  void test('quick-pick rows keep the order and carry the instance name', () => {
    const picks = explanationPicks(explanation);
    assert.deepEqual(
      picks.map((pick) => [pick.label, pick.description, pick.name]),
      [
        ['$(check) features', 'cached', 'features'],
        ['$(check) split', 'cached', 'split'],
        ['$(play) train@rf', 'will-run', 'train@rf'],
        ['$(play) select_best', 'will-run', 'select_best'],
      ],
    );
  });
});

void describe('PipelineRunStates', () => {
  void test('a follower sees states that arrived before it subscribed, then the later ones, and the end', async () => {
    const states = new PipelineRunStates();
    states.apply(state('d1', 'running', [task('features', 'running')]));
    states.apply(state('other', 'running', [task('x', 'running')]));
    const seen: string[] = [];
    const done = states.follow('d1', (current) => seen.push(`${current.status}:${current.tasks[0]!.status}`));
    states.apply(state('other', 'succeeded', [task('x', 'succeeded')]));
    states.apply(state('d1', 'succeeded', [task('features', 'succeeded')]));
    const final = await done;
    assert.equal(final.status, 'succeeded');
    assert.deepEqual(seen, ['running:running', 'succeeded:succeeded']);
  });

  void test('a DAG run already over resolves at once; the latest run of a file is the last changed', async () => {
    const states = new PipelineRunStates();
    states.apply(state('d1', 'failed', []));
    states.apply(state('d2', 'running', []));
    assert.equal((await states.follow('d1', () => undefined)).status, 'failed');
    assert.equal(states.latestOf('iris.dag.yaml')?.dagRunId, 'd2');
    states.apply(state('d1', 'failed', []));
    assert.equal(states.latestOf('iris.dag.yaml')?.dagRunId, 'd1');
    assert.equal(states.latestOf('other.dag.yaml'), undefined);
  });
});
