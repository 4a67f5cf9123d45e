/**
 * `mlw run TASK | --cmd "…" [--env NAME] [-p k=v]… [--detach]`: start runs and, unless detached,
 * stream their output and wait for them. Exit 0 when every run succeeded, 1 otherwise.
 *
 * The command runs against a host (RunCommandHost): this process, or a resident agent that a thin
 * client handed the command line to (agent/src/runs/handoff-server.ts), which supplies the
 * client's folder, writes to the client's terminal and passes on its Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { relative } from 'node:path';
import type { Command } from 'commander';
import { stderrLogger } from '../context';
import { UsageError, UserError } from '../errors';
import { dagFilesIn, loadDag } from '../runs/dag-source';
import { logLine, formatDurationBetween, statusText } from '../runs/format';
import { parseParamAssignments, planCommand, planTask } from '../runs/launch';
import type { LogEntry } from '../../../schemas/protocol/runs';
import type { LaunchPlan } from '../runs/plan';
import type { RunService } from '../runs/service';
import { openWorkspaceRuns } from '../runs/workspace';

/** Where a `mlw run` command line is carried out. */
export interface RunCommandHost {
  /** The folder the command was started in. */
  readonly cwd: string;
  write(stream: 'stdout' | 'stderr', text: string): void;
  /** Calls `handler` on the user's first Ctrl-C; returns the unsubscribe. */
  onInterrupt(handler: () => void): () => void;
  /** Runs `work` with the workspace's runs service (opened and recovered, or the resident one). */
  withService<T>(work: (service: RunService) => Promise<T>): Promise<T>;
  /** Throws to refuse these plans before anything is submitted (a resident agent declining). */
  admit(plans: readonly LaunchPlan[], options: { detach: boolean }): void;
}

/** This process: its folder, its terminal, its Ctrl-C (a second one leaves the runs running). */
export const processRunHost: RunCommandHost = {
  get cwd() {
    return process.cwd();
  },
  write: (stream, text) => void (stream === 'stdout' ? process.stdout : process.stderr).write(text),
  onInterrupt(handler) {
    let interrupts = 0;
    const listener = () => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      handler();
    };
    process.on('SIGINT', listener);
    return () => process.off('SIGINT', listener);
  },
  async withService(work) {
    const service = openWorkspaceRuns(process.cwd(), stderrLogger);
    try {
      await service.recover();
      return await work(service);
    } finally {
      await service.close();
    }
  },
  admit: () => undefined,
};

interface RunOptions {
  cmd?: string;
  env?: string;
  param: string[];
  file?: string;
  detach?: boolean;
  priority?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerRunCommand(program: Command, host: RunCommandHost = processRunHost): void {
  program
    .command('run')
    .description('Run a task of a DAG file, or an ad-hoc command, in its environment (a container for Docker ones).')
    .argument('[task]', 'a task of the DAG file (`train`, or one matrix instance `train@rf`)')
    .option('--cmd <command>', 'run this command line instead of a task')
    .option('--env <name>', 'the environment for --cmd (one defined in a DAG file); the host when absent')
    .option('-p, --param <name=value>', 'set a param (repeatable)', collect, [])
    .option('-f, --file <dag>', 'the DAG file (default: the one in this folder that has the task)')
    .option('--priority <n>', 'queue priority; higher starts first', '0')
    .option('--detach', 'start the run(s) and return; follow with `mlw runs logs RUN --follow`')
    .option('--json', 'print one JSON document on stdout (the runs), log lines on stderr')
    .action(async (task: string | undefined, options: RunOptions) => {
      if ((task === undefined) === (options.cmd === undefined)) {
        throw new UsageError('run: give a TASK or --cmd "…", not both');
      }
      if (task !== undefined && options.env !== undefined) {
        throw new UsageError('run: --env is for --cmd; a task runs in the environment its DAG file gives it');
      }
      const priority = Number(options.priority ?? '0');
      if (!Number.isInteger(priority)) throw new UsageError(`run: --priority ${options.priority} is not an integer`);
      await host.withService(async (service) => {
        const params = parseParamAssignments(options.param);
        const plans =
          task !== undefined
            ? await planTask({
                workspaceRoot: service.workspaceRoot,
                dagFile: options.file ?? (await findDagFileWith(task, host.cwd)),
                task,
                params,
                priority,
              })
            : [
                await planCommand({
                  workspaceRoot: service.workspaceRoot,
                  command: options.cmd!,
                  environment: options.env ?? null,
                  cwd: host.cwd,
                  params,
                  priority,
                }),
              ];
        host.admit(plans, { detach: options.detach === true });
        if (options.detach) await startDetached(service, plans, options.json === true, host);
        else await runInForeground(service, plans, options.json === true, host);
      });
    });
}

/** The DAG file in the current folder that defines the task (the only one, when there is one). */
async function findDagFileWith(task: string, cwd: string): Promise<string> {
  const files = await dagFilesIn(cwd);
  if (files.length === 0) throw new UsageError('run: no DAG file (*.dag.yaml) in this folder: give one with --file');
  if (files.length === 1) return files[0]!;
  const taskName = task.split('@')[0]!;
  const withTask: string[] = [];
  for (const file of files) {
    const loaded = await loadDag(file).catch(() => undefined);
    if (loaded && taskName in loaded.dag.tasks) withTask.push(file);
  }
  if (withTask.length === 1) return withTask[0]!;
  const names = (withTask.length > 0 ? withTask : files).map((file) => relative(cwd, file)).join(', ');
  throw new UsageError(`run: ${withTask.length > 0 ? 'several DAG files have' : 'no DAG file here has'} a task ${taskName} (${names}): give one with --file`);
}

async function runInForeground(service: RunService, plans: readonly LaunchPlan[], json: boolean, host: RunCommandHost): Promise<void> {
  const logStream = json ? 'stderr' : 'stdout';
  const names = new Map<string, string>();
  const prefix = (id: string) => (plans.length > 1 ? `${names.get(id) ?? id} | ` : '');
  const onLog = (id: string, entries: readonly LogEntry[]) => {
    if (!names.has(id)) return;
    for (const entry of entries) host.write(logStream, `${prefix(id)}${logLine(entry)}\n`);
  };
  service.on('log', onLog);
  const ids: string[] = [];
  let interrupted = false;
  const stopListening = host.onInterrupt(() => {
    interrupted = true;
    host.write('stderr', 'mlw: cancelling (Ctrl-C again to leave the runs to finish on their own)\n');
    for (const id of ids) void service.cancel(id);
  });
  try {
    for (const plan of plans) {
      if (interrupted) break;
      const id = await service.submit(plan);
      names.set(id, plan.name);
      ids.push(id);
      host.write('stderr', `mlw: run ${id} ${plan.name} started\n`);
    }
    const records = await Promise.all(ids.map((id) => service.recorded(id)));
    const now = Date.now();
    for (const run of records) {
      host.write(
        'stderr',
        `mlw: run ${run.id} ${run.name}: ${statusText(run)}${run.statusReason && run.status !== 'succeeded' ? ` — ${run.statusReason}` : ''} (${formatDurationBetween(run.startedAt, run.endedAt, now)})\n`,
      );
    }
    if (json) host.write('stdout', `${JSON.stringify({ runs: records }, null, 2)}\n`);
    const failed = records.filter((run) => run.status !== 'succeeded');
    if (failed.length > 0) {
      throw new UserError(`${failed.length} of ${records.length} run${records.length === 1 ? '' : 's'} did not succeed: see \`mlw runs logs ${failed[0]!.id}\``);
    }
  } finally {
    stopListening();
    service.off('log', onLog);
  }
}

/**
 * Hands each run to a detached `mlw runs supervise` process, which takes it over before this one
 * exits (so no run is ever without a living supervisor), then prints the ids.
 */
async function startDetached(service: RunService, plans: readonly LaunchPlan[], json: boolean, host: RunCommandHost): Promise<void> {
  const ids: string[] = [];
  for (const plan of plans) {
    const id = await service.submit(plan, { handOff: true });
    await handOff(service, id);
    ids.push(id);
  }
  if (json) host.write('stdout', `${JSON.stringify({ runs: ids })}\n`);
  else for (const [index, id] of ids.entries()) host.write('stdout', `${id} ${plans[index]!.name}\n`);
}

function handOff(service: RunService, id: string): Promise<void> {
  const entry = process.argv[1];
  if (!entry) throw new UserError('run --detach: cannot tell how this mlw was started');
  const child = spawn(process.execPath, [...process.execArgv, entry, 'runs', 'supervise', id, '--from', service.ownerId], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
    windowsHide: true,
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const fail = (why: string) => reject(new UserError(`run ${id}: the detached supervisor ${why}; the run stays queued until an mlw process recovers it`));
    lines.once('line', (line) => {
      lines.close();
      child.stdout!.destroy();
      child.unref();
      if (line.trim() === 'supervising') resolve();
      else fail(`said: ${line}`);
    });
    child.once('exit', (code) => fail(`exited (${code}) before taking the run over`));
    child.once('error', (error) => fail(`could not start: ${error.message}`));
  });
}
