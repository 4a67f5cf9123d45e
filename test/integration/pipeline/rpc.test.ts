/**
 * The pipeline service over its RPC handlers (busybox image): mlw/pipeline/run answers with the DAG
 * run's id once the file is checked and its outputs locked, mlw/pipeline/changed follows every task
 * to the end, mlw/pipeline/explain then names the input that changed since (and finds both tasks
 * cached once it is back as it was), and a second run of the same outputs while
 * the first holds them is refused with the holder named.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { cancelPipeline, explainPipeline, pipelineChanged, runPipeline, type PipelineRunState } from '../../../schemas/protocol/pipeline';
import type { NotificationType } from '../../../schemas/rpc';
import type { AgentContext } from '../../../agent/src/context';
import { pipelineHandlers } from '../../../agent/src/pipeline/rpc';
import type { HandlerEntry } from '../../../agent/src/rpc/handlers';
import { PipelineService } from '../../../agent/src/pipeline/service';
import { busyboxDag, openService, quietLogger, requireDocker, workspace } from '../runs/helpers';

const noToken = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose: () => {} }) };

function call(entries: readonly HandlerEntry[], method: string, params: unknown): Promise<unknown> {
  const entry = entries.find((candidate) => candidate.request.method === method)!;
  return entry.handle(entry.request.params.parse(params), noToken);
}

/** The service the handlers use, remembering each DAG run's promise so a test can await its very end (records written). */
function openPipelines(t: Parameters<typeof openService>[0], root: string): { pipelines: PipelineService; ended: () => Promise<unknown> } {
  const pipelines = new PipelineService({ runs: openService(t, root), log: quietLogger });
  t.after(() => pipelines.close());
  const runs: Promise<unknown>[] = [];
  const run = pipelines.run.bind(pipelines);
  pipelines.run = (dagRun) => {
    const running = run(dagRun);
    runs.push(running);
    return running;
  };
  return { pipelines, ended: () => Promise.allSettled(runs) };
}

void describe('pipeline RPC', () => {
  void test('run answers at once, changed notifications follow the tasks to the end; explain and cancel', async (t) => {
    await requireDocker();
    const root = workspace(t, {
      'p.dag.yaml': busyboxDag(`  gate:
    run: until [ -f gate/go ]; do sleep 0.05; done; echo one > one.txt
    inputs: [gate/]
    outputs: [one.txt]
  two:
    run: cat one.txt one.txt > two.txt
    inputs: [one.txt]
    outputs: [two.txt]
`),
      '.gitignore': 'gate/\n',
      'gate/placeholder': '',
    });
    const states: PipelineRunState[] = [];
    let finished: (state: PipelineRunState) => void = () => {};
    const done = new Promise<PipelineRunState>((resolve) => (finished = resolve));
    const context: AgentContext = {
      workspaceRoots: [root],
      log: quietLogger,
      notify: <P extends z.ZodType>(notification: NotificationType<P>, params: z.input<P>) => {
        assert.equal(notification.method, pipelineChanged.method);
        const state = pipelineChanged.params.parse(params);
        states.push(state);
        if (state.tasks.find((task) => task.name === 'gate')?.status === 'running') writeFileSync(join(root, 'gate', 'go'), '');
        if (state.status !== 'running') finished(state);
      },
    };
    const { pipelines, ended } = openPipelines(t, root);
    const handlers = pipelineHandlers(context, () => pipelines);
    const { dagRunId } = runPipeline.result.parse(await call(handlers, runPipeline.method, { dagFile: 'p.dag.yaml' }));

    // While it runs, its outputs are locked: a second run of the same file is refused.
    await assert.rejects(call(handlers, runPipeline.method, { dagFile: 'p.dag.yaml' }), new RegExp(`one\\.txt is being written by mlw dag run p\\.dag\\.yaml \\(DAG run ${dagRunId}\\)`));

    const final = await done;
    await ended();
    assert.equal(final.dagRunId, dagRunId);
    assert.equal(final.status, 'succeeded');
    assert.deepEqual(final.tasks.map((task) => [task.name, task.status]), [['gate', 'succeeded'], ['two', 'succeeded']]);
    assert.ok(states.some((state) => state.tasks[1]!.status === 'pending' && state.tasks[0]!.status === 'running'));

    // gate/go appeared after gate's inputs were fingerprinted: explain names that input, and the
    // task after it runs again because gate will.
    const explain = async () =>
      explainPipeline.result.parse(await call(handlers, explainPipeline.method, { dagFile: join(root, 'p.dag.yaml') })).tasks;
    assert.deepEqual((await explain()).map((task) => [task.decision, task.reasons]), [
      ['will-run', [`input gate changed since run ${final.tasks[0]!.runId}`]],
      ['will-run', ['gate will run (its outputs may change)']],
    ]);
    // With gate/ as it was when the run started, both tasks are cached from that run.
    rmSync(join(root, 'gate', 'go'));
    assert.deepEqual((await explain()).map((task) => [task.decision, task.cachedFrom]), [
      ['cached', final.tasks[0]!.runId],
      ['cached', final.tasks[1]!.runId],
    ]);
    assert.deepEqual(cancelPipeline.result.parse(await call(handlers, cancelPipeline.method, { dagRunId })), { cancelled: false });
  });

  void test('cancel (the editor’s Cancel button) stops the running task and starts nothing after it', async (t) => {
    await requireDocker();
    const root = workspace(t, {
      'p.dag.yaml': busyboxDag(`  forever:
    run: while true; do sleep 0.05; done
    outputs: [never.txt]
  after:
    run: echo no > after.txt
    inputs: [never.txt]
    outputs: [after.txt]
`),
    });
    let handlers: HandlerEntry[] = [];
    let cancelAnswer: Promise<unknown> | undefined;
    let finished: (state: PipelineRunState) => void = () => {};
    const done = new Promise<PipelineRunState>((resolve) => (finished = resolve));
    const context: AgentContext = {
      workspaceRoots: [root],
      log: quietLogger,
      notify: <P extends z.ZodType>(_notification: NotificationType<P>, params: z.input<P>) => {
        const state = pipelineChanged.params.parse(params);
        if (!cancelAnswer && state.tasks[0]!.status === 'running') {
          cancelAnswer = call(handlers, cancelPipeline.method, { dagRunId: state.dagRunId });
        }
        if (state.status !== 'running') finished(state);
      },
    };
    const { pipelines, ended } = openPipelines(t, root);
    handlers = pipelineHandlers(context, () => pipelines);
    await call(handlers, runPipeline.method, { dagFile: 'p.dag.yaml' });
    const final = await done;
    await ended();
    assert.deepEqual(cancelPipeline.result.parse(await cancelAnswer), { cancelled: true });
    assert.equal(final.status, 'cancelled');
    assert.deepEqual(final.tasks.map((task) => [task.name, task.status]), [['forever', 'cancelled'], ['after', 'cancelled']]);
    const run = await pipelines.runs.get(final.tasks[0]!.runId!);
    assert.equal(run.status, 'cancelled');
    assert.equal((await pipelines.runs.list({ dagRunId: final.dagRunId })).length, 1, 'after never became a run');
  });
});
