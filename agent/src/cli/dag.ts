/**
 * `mlw dag run [FILE] [--task T] [--from T] [--force] [-j N] [-p k=v]…` runs a DAG file end to end:
 * task status lines on stderr, the tasks' output on stdout (prefixed by task); exit 0 when every
 * task succeeded or was cached, 1 otherwise. Ctrl-C (or SIGTERM) cancels the running tasks cleanly.
 * `mlw dag explain [FILE] [--json]` says, before anything runs, what would run and why.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { PipelineExplanation, PipelineRunState, PipelineTaskState } from '../../../schemas/protocol/pipeline';
import { stderrLogger } from '../context';
import { UsageError, UserError } from '../errors';
import { findDagFile } from '../pipeline/definition';
import { PipelineService } from '../pipeline/service';
import { logLine } from '../runs/format';
import { parseParamAssignments } from '../runs/launch';
import { RunService } from '../runs/service';
import { cpuSlots, loadRunSettings } from '../runs/settings';
import { findWorkspaceRoot } from '../runs/workspace-root';

interface SelectionOptions {
  task?: string;
  from?: string;
  force?: boolean;
  param: string[];
  json?: boolean;
}

interface RunOptions extends SelectionOptions {
  jobs?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerDagCommands(program: Command): void {
  const dag = program.command('dag').description('Run a pipeline (a DAG file) end to end, or explain what a run would do.');
  const selection = (command: Command) =>
    command
      .argument('[file]', 'the DAG file (default: the one DAG file under this folder)')
      .option('--task <task>', 'only this task (or instance `train@rf`) and what it depends on')
      .option('--from <task>', 'this task and everything that depends on it')
      .option('--force', 'run the selected tasks even when their cached outputs would do')
      .option('-p, --param <name=value>', 'set a param (repeatable)', collect, [])
      .option('--json', 'print one JSON document on stdout');

  selection(dag.command('run').description('Run the tasks in dependency order, in parallel, skipping those whose inputs did not change.'))
    .option('-j, --jobs <n>', 'at most N tasks at once (default: the run slots, MLW_RUNS_CPU_SLOTS)')
    .action(async (file: string | undefined, options: RunOptions) => {
      const jobs = parseJobs(options.jobs);
      await withService(jobs, async (service) => {
        const dagRun = await service.prepare({ ...(await request(file, options)), ...(jobs !== undefined ? { jobs } : {}) });
        const out = options.json ? process.stderr : process.stdout;
        const names = new Map<string, string>();
        dagRun.on('task', (task) => {
          if (task.runId) names.set(task.runId, task.name);
          process.stderr.write(`mlw: ${describeTask(task)}\n`);
        });
        service.runs.on('log', (id, entries) => {
          const name = names.get(id);
          if (name === undefined) return;
          for (const entry of entries) if (entry.stream !== 'system') out.write(`${name} | ${logLine(entry)}\n`);
        });
        process.stderr.write(`mlw: DAG run ${dagRun.id}: ${dagRun.state.tasks.length} task(s) of ${dagRun.state.dagFile}\n`);
        const state = await cancelOnSignals(() => dagRun.cancel(), () => service.run(dagRun));
        process.stderr.write(summary(state));
        if (options.json) process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
        if (state.status !== 'succeeded') {
          throw new UserError(`DAG run ${state.dagRunId} ${state.status}: see \`mlw runs list\` and \`mlw runs logs RUN\``);
        }
      });
    });

  selection(dag.command('explain').description('For every task: will it run or be restored from the cache, and why. Runs nothing.')).action(
    async (file: string | undefined, options: SelectionOptions) => {
      await withService(undefined, async (service) => {
        const explanation = await service.explain(await request(file, options));
        if (options.json) process.stdout.write(`${JSON.stringify(explanation, null, 2)}\n`);
        else process.stdout.write(explanationText(explanation));
      });
    },
  );
}

function parseJobs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const jobs = Number(text);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`dag run: -j ${text} is not a positive whole number`);
  return jobs;
}

async function request(file: string | undefined, options: SelectionOptions) {
  const dagFile = file !== undefined ? resolve(process.cwd(), file) : await findDagFile(process.cwd());
  return { dagFile, task: options.task, from: options.from, force: options.force === true, params: parseParamAssignments(options.param) };
}

/** The runs service with at least `jobs` CPU slots (so -j N can really run N at once), and the pipeline service over it. */
async function withService(jobs: number | undefined, body: (service: PipelineService) => Promise<void>): Promise<void> {
  const settings = loadRunSettings();
  const runs = new RunService({
    workspaceRoot: findWorkspaceRoot(process.cwd()),
    log: stderrLogger,
    settings: jobs !== undefined && jobs > cpuSlots(settings) ? { ...settings, cpuSlots: jobs } : settings,
  });
  const service = new PipelineService({ runs, log: stderrLogger });
  try {
    await runs.recover();
    await body(service);
  } finally {
    service.close();
    await runs.close();
  }
}

/** SIGINT or SIGTERM cancels once; a second SIGINT leaves at once (the runs' supervisors are gone then). */
async function cancelOnSignals<T>(cancel: () => void, work: () => Promise<T>): Promise<T> {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1 && signal === 'SIGINT') process.exit(130);
    process.stderr.write(`mlw: ${signal}: cancelling the running tasks (Ctrl-C again to leave at once)\n`);
    cancel();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function describeTask(task: PipelineTaskState): string {
  const run = task.runId ? ` (run ${task.runId})` : '';
  const attempt = task.attempt > 1 ? ` attempt ${task.attempt}` : '';
  const reason = task.reason ? ` — ${task.reason}` : '';
  return `${task.name}: ${task.status}${attempt}${run}${reason}`;
}

function summary(state: PipelineRunState): string {
  const counts = new Map<string, number>();
  for (const task of state.tasks) counts.set(task.status, (counts.get(task.status) ?? 0) + 1);
  const parts = [...counts].map(([status, count]) => `${count} ${status}`).join(', ');
  const seconds = state.endedAt === null ? '' : ` in ${((state.endedAt - state.startedAt) / 1000).toFixed(1)} s`;
  return `mlw: DAG run ${state.dagRunId} ${state.status}${seconds}: ${parts}\n`;
}

function explanationText(explanation: PipelineExplanation): string {
  const width = Math.max(4, ...explanation.tasks.map((task) => task.name.length));
  const lines = explanation.tasks.map(
    (task) => `${task.name.padEnd(width)}  ${task.decision.padEnd(8)}  ${task.reasons.join('; ')}`,
  );
  const running = explanation.tasks.filter((task) => task.decision === 'will-run').length;
  return `${lines.join('\n')}\n${running} of ${explanation.tasks.length} task(s) would run (${explanation.dagFile})\n`;
}
