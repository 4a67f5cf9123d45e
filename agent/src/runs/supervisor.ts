/**
 * Carries one run from queued to its final status: waits for a slot, resolves the environment,
 * records the inputs, starts the container or process, records its log and metrics as they come,
 * honours a cancel (SIGTERM, grace, kill) or timeout, and finishes: outputs into the cache and the
 * workspace only when it succeeded. The same code finishes a run adopted from a dead agent.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogEntry, MetricPoint, RunStatus } from '../../../schemas/protocol/runs';
import type { Logger } from '../context';
import { UserError } from '../errors';
import { md5OfPath, type ArtifactCache } from './content';
import type { EnvironmentResolver, ResolvedEnvironment } from './environment';
import type { DockerExecutor } from './executors/docker';
import type { LocalExecutor } from './executors/local';
import type { Execution, ExitOutcome, LineSink } from './executors/types';
import {
  containerLayout,
  processLayout,
  producedPaths,
  runDirs,
  workspacePath,
  type RunDirs,
  type RunPaths,
} from './layout';
import { MetricsLineParser, readMetricsFile } from './metrics';
import { collectArtifacts, promoteOutputs, type ProducedOutput } from './outputs';
import type { LaunchPlan } from './plan';
import type { SlotQueue } from './queue';
import { LogRecorder, MetricsRecorder } from './recorders';
import type { RunSettings } from './settings';
import type { RunStore, SlotClass } from './store';
import type { StoreWatcher } from './store-watch';
import { FileTailer } from './tail';

export interface SupervisorDeps {
  readonly store: RunStore;
  readonly watcher: StoreWatcher;
  readonly queue: SlotQueue;
  readonly settings: RunSettings;
  readonly docker: () => DockerExecutor;
  readonly local: LocalExecutor;
  readonly environments: EnvironmentResolver;
  readonly cache: ArtifactCache;
  readonly clock: () => number;
  readonly log: Logger;
  /** Called after every status change this supervisor makes. */
  readonly onChanged: (runId: string) => void;
  readonly onLog: (runId: string, entries: LogEntry[]) => void;
  readonly onMetrics: (runId: string, points: MetricPoint[]) => void;
}

/** What the supervisor knows about the run's code (from the snapshot taken at submit). */
export interface SupervisedRun {
  readonly id: string;
  readonly plan: LaunchPlan;
  readonly slotClass: SlotClass;
  readonly dvcPointers: readonly string[];
}

/** Cancels a run this process supervises, without waiting for the store to tell it. */
export interface RunControl {
  cancel(): void;
  /** Settles once the run's final status, logs and metrics are in the store (before clean-up). */
  readonly recorded: Promise<RunStatus>;
  /** Settles once it is also cleaned up (its container removed, its scratch folder deleted). */
  readonly finished: Promise<RunStatus>;
}

export class RunSupervisor {
  private readonly dirs: RunDirs;
  private readonly logs: LogRecorder;
  private readonly metrics: MetricsRecorder;
  private readonly parser = new MetricsLineParser();
  private execution: Execution | undefined;
  private tailer: FileTailer | undefined;
  private cancelling = false;
  private timedOut = false;
  private cancelRequestedLocally = false;
  private readonly onStoreChange = () => void this.checkCancelRequest();

  constructor(
    private readonly deps: SupervisorDeps,
    private readonly run: SupervisedRun,
  ) {
    this.dirs = runDirs(run.plan.workspaceRoot, run.id);
    const reportError = (error: Error) => deps.log.error(`run ${run.id}: recording failed: ${error.message}`);
    this.logs = new LogRecorder(deps.store, run.id, (entries) => deps.onLog(run.id, entries), reportError, deps.clock);
    this.metrics = new MetricsRecorder(deps.store, run.id, (points) => deps.onMetrics(run.id, points), reportError, deps.clock);
  }

  /** Runs it from the queue to the end. */
  start(): RunControl {
    return this.control(async () => {
      if (!(await this.deps.queue.acquire(this.run.id, this.run.slotClass))) return undefined;
      this.deps.onChanged(this.run.id);
      return this.launch();
    });
  }

  /** Finishes a container run a dead agent left running (or exited meanwhile). */
  adopt(containerId: string): RunControl {
    return this.control(async () => {
      const last = await this.deps.store.lastLog(this.run.id);
      this.system(`re-attached by ${process.pid} after the previous agent ended`);
      this.startMetricsTail();
      return this.deps.docker().adopt(containerId, last?.at ?? 0, this.sink());
    });
  }

  private control(begin: () => Promise<Execution | undefined>): RunControl {
    let settleRecorded!: (status: RunStatus) => void;
    const recorded = new Promise<RunStatus>((resolve) => (settleRecorded = resolve));
    const finished = this.supervise(begin, settleRecorded);
    void finished.then(settleRecorded, () => settleRecorded('failed'));
    return { cancel: () => this.requestCancel(), recorded, finished };
  }

  private async supervise(begin: () => Promise<Execution | undefined>, recorded: (status: RunStatus) => void): Promise<RunStatus> {
    this.deps.watcher.on('change', this.onStoreChange);
    let tailer: FileTailer | undefined;
    try {
      const execution = await begin();
      if (!execution) return (await this.deps.store.get(this.run.id))?.status ?? 'cancelled';
      this.execution = execution;
      tailer = this.tailer;
      await this.deps.store.recordExecution(this.run.id, {
        containerId: execution.handle.containerId,
        pid: execution.handle.pid,
      });
      const stopTimeout = this.armTimeout();
      await this.checkCancelRequest();
      const outcome = await execution.done;
      stopTimeout();
      const status = await this.finish(outcome);
      recorded(status);
      this.deps.onChanged(this.run.id);
      return status;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.system(`run failed to start or finish: ${message}`);
      await this.logs.flush();
      await this.deps.store.transition(this.run.id, 'failed', { reason: message, at: this.deps.clock() });
      if (!(error instanceof UserError)) this.deps.log.error(`run ${this.run.id}: ${error instanceof Error ? (error.stack ?? message) : message}`);
      return 'failed';
    } finally {
      this.deps.watcher.off('change', this.onStoreChange);
      await (tailer ?? this.tailer)?.stop().catch(() => undefined);
      await this.logs.flush();
      await this.metrics.flush();
      await this.cleanUp();
      this.deps.onChanged(this.run.id);
    }
  }

  private startMetricsTail(): void {
    this.tailer = new FileTailer(
      this.dirs.metricsFile,
      (line) => this.recordMetricsLine(line),
      (error) => this.system(`reading $MLW_METRICS failed: ${error.message}`),
    );
    this.tailer.start(0);
  }

  private recordMetricsLine(line: string): void {
    const parsed = this.parser.parse(line);
    if (parsed.warning) this.system(parsed.warning);
    this.metrics.add(parsed.points);
  }

  private async launch(): Promise<Execution> {
    const { plan, id } = this.run;
    const environment = await this.deps.environments.resolve(plan.environment, (line) => this.system(line));
    await this.deps.store.recordExecution(id, {
      image: environment.kind === 'docker' ? environment.image : null,
      environmentDigest: environment.digest,
    });
    await this.recordInputs();
    const paths = this.paths();
    const baseEnv = runEnvironment(plan, id);
    if (environment.kind === 'docker') {
      const layout = await containerLayout(paths, this.dirs);
      this.startMetricsTail();
      return this.deps.docker().start(
        {
          runId: id,
          image: environment.image,
          command: plan.command,
          workingDir: layout.workingDir,
          env: { ...baseEnv, ...layout.env },
          mounts: layout.mounts,
          resources: plan.resources,
          labels: { 'mlw.workspace': plan.workspaceRoot },
        },
        this.sink(),
        (containerId) => this.deps.store.recordExecution(id, { containerId }),
      );
    }
    if (Object.keys(plan.resources).length > 0) {
      this.system('resource limits are not enforced for local environments (they are for Docker ones)');
    }
    const layout = await processLayout(paths, this.dirs);
    this.startMetricsTail();
    return this.deps.local.start(
      {
        runId: id,
        command: plan.command,
        cwd: layout.cwd,
        env: { ...processEnvironment(), ...localEnvironment(environment), ...baseEnv, ...layout.env },
      },
      this.sink(),
    );
  }

  private paths(): RunPaths {
    const { plan } = this.run;
    return {
      workspaceRoot: plan.workspaceRoot,
      workdir: plan.workdir,
      inputs: plan.inputs,
      outputs: plan.outputs,
      metricsFiles: plan.metricsFiles,
      dvcPointers: this.run.dvcPointers,
    };
  }

  private async recordInputs(): Promise<void> {
    const paths = this.paths();
    const inputs: { path: string; md5: string }[] = [];
    for (const input of this.run.plan.inputs) {
      const path = workspacePath(paths, input);
      const md5 = await md5OfPath(join(this.run.plan.workspaceRoot, path));
      if (md5) inputs.push({ path, md5 });
      else this.system(`input ${path} does not exist in the workspace`);
    }
    await this.deps.store.recordInputs(this.run.id, inputs);
  }

  private sink(): LineSink {
    return (stream, text) => this.logs.add(stream, text);
  }

  private system(text: string): void {
    this.logs.add('system', text);
  }

  private requestCancel(): void {
    this.cancelRequestedLocally = true;
    void this.checkCancelRequest();
  }

  private async checkCancelRequest(): Promise<void> {
    if (this.cancelling || !this.execution) return;
    const requested = this.cancelRequestedLocally || (await this.deps.store.cancelRequestedAt(this.run.id)) !== null;
    if (!requested || this.cancelling) return;
    this.cancelling = true;
    this.system(`cancelling: SIGTERM, then a kill after ${Math.round(this.deps.settings.cancelGraceMs / 1000)} s`);
    await this.execution.cancel(this.deps.settings.cancelGraceMs).catch((error: Error) => this.system(`cancel failed: ${error.message}`));
  }

  private armTimeout(): () => void {
    const timeout = this.run.plan.timeoutMs;
    if (timeout === null) return () => {};
    const timer = setTimeout(() => {
      this.timedOut = true;
      this.system(`timed out after ${formatDuration(timeout)}: stopping it`);
      void this.execution?.cancel(this.deps.settings.cancelGraceMs);
    }, timeout);
    return () => clearTimeout(timer);
  }

  private async finish(outcome: ExitOutcome): Promise<RunStatus> {
    await this.tailer?.stop();
    await this.readMetricsFiles();
    await this.metrics.flush();
    const at = this.deps.clock();
    const exit = { exitCode: outcome.exitCode, oomKilled: outcome.oomKilled, at };
    const cancelRequested = this.cancelRequestedLocally || (await this.deps.store.cancelRequestedAt(this.run.id)) !== null;
    const end = async (status: RunStatus, reason: string): Promise<RunStatus> => {
      this.system(`${status}: ${reason}`);
      await this.logs.flush();
      await this.deps.store.transition(this.run.id, status, { ...exit, reason });
      return status;
    };
    if (outcome.oomKilled) return end('failed', 'OOM-killed: the run used more memory than its limit');
    if (this.timedOut) return end('failed', `timed out after ${formatDuration(this.run.plan.timeoutMs ?? 0)}`);
    if (cancelRequested) return end('cancelled', 'cancelled');
    if (outcome.exitCode !== 0) {
      return end('failed', outcome.exitCode === null ? `ended by ${outcome.signal ?? 'a signal'}` : `exit code ${outcome.exitCode}`);
    }
    try {
      await this.keepOutputs();
    } catch (error) {
      return end('failed', (error as Error).message);
    }
    return end('succeeded', 'exit code 0');
  }

  private async readMetricsFiles(): Promise<void> {
    const paths = this.paths();
    const outputsRoot = this.outputsRoot();
    for (const file of this.run.plan.metricsFiles) {
      const parsed = await readMetricsFile(join(outputsRoot, workspacePath(paths, file)), (name) => this.parser.stepOf(name));
      if (parsed.warning) this.system(parsed.warning);
      this.metrics.add(parsed.points);
    }
  }

  private outputsRoot(): string {
    return this.deps.environments.kindOf(this.run.plan.environment) === 'docker' ? this.dirs.outputs : this.dirs.code;
  }

  private async keepOutputs(): Promise<void> {
    const paths = this.paths();
    const outputs: ProducedOutput[] = producedPaths(paths).map((output) => ({
      path: workspacePath(paths, output),
      folder: output.endsWith('/'),
    }));
    const { artifacts, warnings } = await collectArtifacts(outputs, this.outputsRoot(), this.dirs.adhocOutputs, this.deps.cache);
    for (const warning of warnings) this.system(warning);
    await this.deps.store.recordArtifacts(this.run.id, artifacts);
    // A cancel that arrived while the run was ending still wins: its outputs stay out.
    if ((await this.deps.store.cancelRequestedAt(this.run.id)) !== null) throw new Error('cancelled while finishing');
    await promoteOutputs(outputs, this.outputsRoot(), this.run.plan.workspaceRoot, this.run.id);
  }

  private async cleanUp(): Promise<void> {
    const containerId = this.execution?.handle.containerId;
    if (containerId) await this.deps.docker().remove(containerId).catch(() => undefined);
    if (!this.deps.settings.keepRunDirs) await rm(this.dirs.root, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** MLW_* variables and the params (as MLW_PARAM_<NAME>), on top of the task's own variables. */
export function runEnvironment(plan: LaunchPlan, runId: string): Record<string, string> {
  const params = Object.fromEntries(
    Object.entries(plan.params).map(([name, value]) => [`MLW_PARAM_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`, value]),
  );
  return { PYTHONUNBUFFERED: '1', ...params, ...plan.env, MLW_RUN_ID: runId };
}

function processEnvironment(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function localEnvironment(environment: ResolvedEnvironment): Readonly<Record<string, string>> {
  return environment.kind === 'process' ? environment.env : {};
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
