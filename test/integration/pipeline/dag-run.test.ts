/**
 * DAG runs against the real Docker Engine (busybox test image): a diamond whose middle tasks run
 * side by side, a flaky task that succeeds on retry, an upstream failure that leaves the rest
 * running, cancel mid-DAG, a second run with nothing changed that runs nothing, and a changed input
 * that re-runs only what depends on it. Tasks wait for events (a gate file the test writes when it
 * has seen what it waits for), never for time.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelineRunState, PipelineTaskState } from '../../../schemas/protocol/pipeline';
import { PipelineService } from '../../../agent/src/pipeline/service';
import type { DagRun } from '../../../agent/src/pipeline/scheduler';
import { busyboxDag, openService, quietLogger, requireDocker, workspace } from '../runs/helpers';

interface TestContext {
  after: (fn: () => void | Promise<void>) => void;
}

/** A workspace whose `gate/` folder git ignores: it is mounted live into the containers that read it. */
function gatedWorkspace(t: TestContext, tasks: string, files: Record<string, string> = {}): string {
  const root = workspace(t, { 'p.dag.yaml': busyboxDag(tasks), '.gitignore': 'gate/\n', ...files });
  mkdirSync(join(root, 'gate'));
  writeFileSync(join(root, 'gate', 'placeholder'), '');
  return root;
}

function pipelines(t: TestContext, root: string): PipelineService {
  const service = new PipelineService({ runs: openService(t, root, { cpuSlots: 4 }), log: quietLogger, retryBackoffMs: 20 });
  t.after(() => service.close());
  return service;
}

function statuses(state: PipelineRunState): Record<string, string> {
  return Object.fromEntries(state.tasks.map((task) => [task.name, task.status]));
}

/** Calls `react` with every task change and the current statuses of all tasks. */
function watch(dagRun: DagRun, react: (task: PipelineTaskState, all: ReadonlyMap<string, PipelineTaskState>) => void): void {
  const all = new Map<string, PipelineTaskState>();
  dagRun.on('task', (task) => {
    all.set(task.name, task);
    react(task, all);
  });
}

const GATE_WAIT = 'until [ -f gate/go ]; do sleep 0.05; done';

void describe('DAG runs on the Docker engine', () => {
  void test('a diamond: the middle tasks run side by side, then the join; every task a run of the DAG run', async (t) => {
    await requireDocker();
    const root = gatedWorkspace(
      t,
      `  a:
    run: echo a > a.txt
    outputs: [a.txt]
  b:
    matrix: { n: [1, 2, 3] }
    run: ${GATE_WAIT}; cat a.txt > b\${matrix.n}.txt; echo \${matrix.n} >> b\${matrix.n}.txt
    inputs: [a.txt, gate/]
    outputs: ["b\${matrix.n}.txt"]
  d:
    run: cat b1.txt b2.txt b3.txt > d.txt
    inputs: [b1.txt, b2.txt, b3.txt]
    outputs: [d.txt]
`,
    );
    const service = pipelines(t, root);
    const dagRun = await service.prepare({ dagFile: 'p.dag.yaml', jobs: 3 });
    let mostAtOnce = 0;
    watch(dagRun, (_task, all) => {
      const running = [...all.values()].filter((task) => task.task === 'b' && task.status === 'running').length;
      mostAtOnce = Math.max(mostAtOnce, running);
      // The b tasks cannot end before the gate opens: three running at once is real parallelism.
      if (running === 3) writeFileSync(join(root, 'gate', 'go'), '');
    });
    const state = await service.run(dagRun);
    assert.deepEqual(statuses(state), { a: 'succeeded', 'b@1': 'succeeded', 'b@2': 'succeeded', 'b@3': 'succeeded', d: 'succeeded' });
    assert.equal(state.status, 'succeeded');
    assert.equal(mostAtOnce, 3);
    assert.equal(readFileSync(join(root, 'd.txt'), 'utf8'), 'a\n1\na\n2\na\n3\n');
    const runs = await service.runs.list({ dagRunId: state.dagRunId });
    assert.deepEqual(runs.map((run) => run.name).sort(), ['a', 'b@1', 'b@2', 'b@3', 'd']);
    assert.deepEqual(state.tasks.find((task) => task.name === 'd')!.dependsOn.sort(), ['b@1', 'b@2', 'b@3']);
  });

  void test('a task that fails is retried after a backoff and succeeds; a failure marks its dependents upstream-failed while the rest go on', async (t) => {
    await requireDocker();
    const root = gatedWorkspace(
      t,
      `  flaky:
    run: test -f gate/ok || exit 3; echo fine > flaky.txt
    inputs: [gate/]
    outputs: [flaky.txt]
    retries: 2
  broken:
    run: echo broken >&2; exit 1
    retries: 1
  after_broken:
    needs: [broken]
    run: echo never > never.txt
    outputs: [never.txt]
  after_after:
    run: cat never.txt
    inputs: [never.txt]
  independent:
    run: echo ok > independent.txt
    outputs: [independent.txt]
`,
    );
    const service = pipelines(t, root);
    const dagRun = await service.prepare({ dagFile: 'p.dag.yaml' });
    const seen: string[] = [];
    watch(dagRun, (task) => {
      seen.push(`${task.name}:${task.status}:${task.attempt}`);
      // The gate opens only after the first attempt failed: the second attempt finds it open.
      if (task.name === 'flaky' && task.status === 'retrying') writeFileSync(join(root, 'gate', 'ok'), '');
    });
    const state = await service.run(dagRun);
    assert.deepEqual(statuses(state), {
      flaky: 'succeeded',
      broken: 'failed',
      after_broken: 'upstream-failed',
      after_after: 'upstream-failed',
      independent: 'succeeded',
    });
    assert.equal(state.status, 'failed');
    assert.ok(seen.includes('flaky:retrying:1'), seen.join(' '));
    const flaky = state.tasks.find((task) => task.name === 'flaky')!;
    assert.equal(flaky.attempt, 2);
    const broken = state.tasks.find((task) => task.name === 'broken')!;
    assert.equal(broken.attempt, 2);
    assert.match(broken.reason!, /exit code 1 \(after 2 attempts\)/);
    assert.equal(state.tasks.find((task) => task.name === 'after_after')!.reason, 'broken failed');
    assert.equal(state.tasks.find((task) => task.name === 'after_broken')!.runId, null, 'an upstream-failed task never runs');

    const runs = await service.runs.list({ dagRunId: state.dagRunId });
    const flakyRuns = runs.filter((run) => run.name === 'flaky').sort((a, b) => a.createdAt - b.createdAt);
    assert.deepEqual(flakyRuns.map((run) => [run.status, run.exitCode]), [['failed', 3], ['succeeded', 0]]);
    assert.equal(runs.filter((run) => run.name === 'broken').length, 2);
    assert.equal(runs.some((run) => run.name === 'after_broken' || run.name === 'after_after'), false);
    assert.equal(readFileSync(join(root, 'flaky.txt'), 'utf8'), 'fine\n');
  });

  void test('cancel mid-DAG stops the running task through the runs service and starts nothing more', async (t) => {
    await requireDocker();
    const root = gatedWorkspace(
      t,
      `  slow:
    run: echo started; sleep 300; echo done > slow.txt
    outputs: [slow.txt]
  next:
    needs: [slow]
    run: echo next > next.txt
    outputs: [next.txt]
`,
    );
    const service = pipelines(t, root);
    const dagRun = await service.prepare({ dagFile: 'p.dag.yaml' });
    // Cancel once the container has written its first line: the task is really running then.
    service.runs.on('log', (id, entries) => {
      const slow = dagRun.state.tasks.find((task) => task.name === 'slow')!;
      if (id === slow.runId && entries.some((entry) => entry.text === 'started')) service.cancel(dagRun.id);
    });
    const state = await service.run(dagRun);
    assert.equal(state.status, 'cancelled');
    assert.deepEqual(statuses(state), { slow: 'cancelled', next: 'cancelled' });
    const slowRun = await service.runs.get(state.tasks[0]!.runId!);
    assert.equal(slowRun.status, 'cancelled');
    assert.equal((await service.runs.list({ dagRunId: state.dagRunId })).length, 1, 'next never became a run');
    assert.equal(service.cancel(state.dagRunId), false, 'a finished DAG run is no longer cancellable');
  });

  void test('nothing changed: every task cached (outputs restored); a changed input re-runs only what depends on it', async (t) => {
    await requireDocker();
    const root = workspace(t, {
      'p.dag.yaml': busyboxDag(`  a:
    run: cat src/a.txt > a.txt
    inputs: [src/a.txt]
    outputs: [a.txt]
  b1:
    run: cat a.txt src/b1.txt > b1.txt
    inputs: [a.txt, src/b1.txt]
    outputs: [b1.txt]
  b2:
    run: cat a.txt > b2.txt; mkdir -p out2; echo x > out2/x.txt
    inputs: [a.txt]
    outputs: [b2.txt, out2/]
  d:
    run: cat b1.txt b2.txt out2/x.txt > d.txt
    inputs: [b1.txt, b2.txt, out2/]
    outputs: [d.txt]
`),
      'src/a.txt': 'A\n',
      'src/b1.txt': 'B1\n',
    });
    const service = pipelines(t, root);
    const first = await service.run(await service.prepare({ dagFile: 'p.dag.yaml' }));
    assert.equal(first.status, 'succeeded', JSON.stringify(first.tasks));

    // Outputs removed from the workspace come back from the cache; nothing runs.
    writeFileSync(join(root, 'd.txt'), 'damaged');
    rmSync(join(root, 'out2'), { recursive: true });
    const explained = await service.explain({ dagFile: 'p.dag.yaml' });
    assert.deepEqual(explained.tasks.map((task) => task.decision), ['cached', 'cached', 'cached', 'cached']);
    const second = await service.run(await service.prepare({ dagFile: 'p.dag.yaml' }));
    assert.deepEqual(statuses(second), { a: 'cached', b1: 'cached', b2: 'cached', d: 'cached' });
    assert.equal(readFileSync(join(root, 'd.txt'), 'utf8'), 'A\nB1\nA\nx\n');
    assert.equal(readFileSync(join(root, 'out2', 'x.txt'), 'utf8'), 'x\n');
    const cachedRuns = await service.runs.list({ dagRunId: second.dagRunId });
    assert.equal(cachedRuns.length, 4);
    for (const run of cachedRuns) {
      assert.equal(run.status, 'succeeded');
      assert.deepEqual(run.tags, ['cached']);
      assert.match(run.statusReason!, /^cached: outputs of run [0-9a-f]+ restored/);
    }

    writeFileSync(join(root, 'src', 'b1.txt'), 'B1 changed\n');
    const why = await service.explain({ dagFile: 'p.dag.yaml' });
    const decisions = Object.fromEntries(why.tasks.map((task) => [task.name, [task.decision, task.reasons.join('; ')]]));
    assert.equal(decisions['a']![0], 'cached');
    assert.equal(decisions['b2']![0], 'cached');
    assert.equal(decisions['b1']![0], 'will-run');
    assert.match(decisions['b1']![1]!, /^input src\/b1\.txt changed since run [0-9a-f]+$/);
    assert.deepEqual(decisions['d'], ['will-run', 'b1 will run (its outputs may change)']);

    const third = await service.run(await service.prepare({ dagFile: 'p.dag.yaml' }));
    assert.deepEqual(statuses(third), { a: 'cached', b1: 'succeeded', b2: 'cached', d: 'succeeded' });
    assert.equal(readFileSync(join(root, 'd.txt'), 'utf8'), 'A\nB1 changed\nA\nx\n');

    const forced = await service.run(await service.prepare({ dagFile: 'p.dag.yaml', task: 'b2', force: true }));
    assert.deepEqual(statuses(forced), { a: 'succeeded', b2: 'succeeded' });
  });
});
