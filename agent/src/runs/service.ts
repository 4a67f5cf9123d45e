/**
 * The runs service of one workspace: submits runs (snapshot, record, queue, supervise), cancels,
 * deletes, recovers what a dead agent left behind, and tells listeners what changed. The RPC
 * handlers (rpc.ts) and the CLI (cli/run.ts, cli/runs.ts) are thin glue over it.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { LogEntry, MetricPoint, RunComparison, RunRecord, RunStatus, RunSummary } from '../../../schemas/protocol/runs';
import { FINAL_STATUSES } from '../../../schemas/protocol/runs';
import type { Logger } from '../context';
import { DirectoryArtifactCache, type ArtifactCache } from './content';
import { EnvService } from '../env/service';
import { EnvServiceResolver, type EnvironmentResolver } from './environment';
import { RunStateError } from './errors';
import { DockerExecutor, defaultDockerSettings } from './executors/docker';
import { DockerApi } from './executors/docker-api';
import { LocalExecutor, processIsAlive, signalGroup } from './executors/local';
import { currentOwner, newRunId, ownerIsAlive } from './ids';
import { runDirs } from './layout';
import type { LaunchPlan } from './plan';
import { SlotQueue } from './queue';
import { cpuSlots, gpuSlots, loadRunSettings, type RunSettings } from './settings';
import { snapshotCode } from './snapshot';
import type { RunFilter, RunStore, SlotClass } from './store';
import { PostgresRunStore } from './store-postgres';
import { openSqliteRunStore } from './store-sqlite';
import { StoreWatcher } from './store-watch';
import { RunSupervisor, type RunControl, type SupervisorDeps } from './supervisor';

export interface RunEvents {
  /** A run was created, changed status or latest metrics, or was deleted (summary null). */
  changed: [id: string, run: RunSummary | null];
  log: [id: string, entries: LogEntry[]];
  metric: [id: string, points: MetricPoint[]];
}

export interface RunServiceOptions {
  readonly workspaceRoot: string;
  readonly log: Logger;
  readonly settings?: RunSettings;
  readonly clock?: () => number;
  readonly environments?: EnvironmentResolver;
  readonly store?: RunStore;
  readonly cache?: ArtifactCache;
}

/** What is kept with each run for re-running it and for a later agent to finish it. */
export interface StoredSpec {
  readonly plan: LaunchPlan;
  readonly dvcPointers: readonly string[];
}

export interface RecoveryReport {
  readonly adopted: string[];
  readonly lost: string[];
  readonly removedContainers: string[];
}

/** How many recent runs are compared to tell listeners what another process changed. */
const WATCHED_RECENT_RUNS = 200;

export class RunService extends EventEmitter<RunEvents> {
  readonly store: RunStore;
  readonly settings: RunSettings;
  private readonly watcher: StoreWatcher;
  private readonly owner = currentOwner();
  private readonly controls = new Map<string, RunControl>();
  private readonly clock: () => number;
  private readonly deps: SupervisorDeps;
  private readonly known = new Map<string, string>();
  private envService: EnvService | undefined;
  private dockerExecutor: DockerExecutor | undefined;
  private dockerApi: DockerApi | undefined;
  /** Clean-ups of runs whose end is recorded, which close() lets finish. */
  private readonly cleaningUp = new Set<Promise<void>>();
  private closed = false;
  private storeWatch: Promise<{ close(): Promise<void> } | undefined> | undefined;

  constructor(private readonly options: RunServiceOptions) {
    super();
    this.setMaxListeners(0);
    this.clock = options.clock ?? Date.now;
    this.settings = options.settings ?? loadRunSettings();
    const databasePath = join(options.workspaceRoot, '.mlw', 'runs.db');
    this.store = options.store ?? openConfiguredStore(this.settings, databasePath);
    ignoreOwnFolder(options.workspaceRoot);
    this.watcher = new StoreWatcher(databasePath).start();
    this.watcher.on('change', () => void this.announceChanges());
    // A server store's changes by other agents arrive by notification; the file watch sees only ours.
    if (this.store instanceof PostgresRunStore) {
      const watcher = this.watcher;
      // When the server cannot be reached at all, the store's own calls report it; nothing to add here.
      this.storeWatch = this.store.watchChanges(() => watcher.signal()).catch(() => undefined);
    }
    const environments = options.environments ?? new EnvServiceResolver(() => this.environments());
    this.deps = {
      store: this.store,
      watcher: this.watcher,
      queue: new SlotQueue(
        this.store,
        this.watcher,
        { cpu: cpuSlots(this.settings), gpu: gpuSlots(this.settings) },
        this.clock,
        async () => void (await this.recover()),
      ),
      settings: this.settings,
      docker: () => this.dockerRuns(),
      local: new LocalExecutor(),
      environments,
      cache: options.cache ?? defaultArtifactCache(options.workspaceRoot),
      clock: this.clock,
      log: options.log,
      onChanged: () => this.watcher.signal(),
      onLog: (id, entries) => this.emit('log', id, entries),
      onMetrics: (id, points) => this.emit('metric', id, points),
    };
  }

  get workspaceRoot(): string {
    return this.options.workspaceRoot;
  }

  /**
   * Snapshots the code, records the run (queued) and starts supervising it; resolves to its id.
   * With `handOff`, it is left queued for another process to take over (`mlw run --detach`).
   */
  async submit(plan: LaunchPlan, options: { handOff?: boolean } = {}): Promise<string> {
    const id = newRunId();
    const dirs = runDirs(plan.workspaceRoot, id);
    let snapshot;
    try {
      snapshot = await snapshotCode({
        scope: plan.workspaceRoot,
        targetDir: dirs.code,
        scratchDir: dirs.root,
        maxUntrackedBytes: this.settings.maxUntrackedBytes,
      });
    } catch (error) {
      await rm(dirs.root, { recursive: true, force: true });
      throw error;
    }
    const slotClass: SlotClass = plan.resources.gpus !== undefined && plan.resources.gpus !== 0 ? 'gpu' : 'cpu';
    const spec: StoredSpec = { plan, dvcPointers: snapshot.dvcPointers };
    await this.store.create({
      id,
      name: plan.name,
      task: plan.task,
      dagFile: plan.dagFile,
      dagRunId: plan.dagRunId,
      command: plan.command,
      workdir: posix.join(snapshot.scopePath, plan.workdir),
      environment: plan.environment.name,
      executor: this.deps.environments.kindOf(plan.environment),
      priority: plan.priority,
      slotClass,
      params: plan.params,
      resources: plan.resources,
      outputs: [...new Set([...plan.outputs, ...plan.metricsFiles])],
      gitCommit: snapshot.commit,
      gitBranch: snapshot.branch,
      owner: this.owner,
      spec,
      createdAt: this.clock(),
    });
    await this.store.recordExecution(id, { gitTree: snapshot.tree, gitDiff: snapshot.diff });
    if (snapshot.leftOut.length > 0) {
      await this.store.appendLog(id, [
        {
          stream: 'system',
          text: `left out of the code snapshot (untracked and over ${this.settings.maxUntrackedBytes} bytes): ${snapshot.leftOut.join(', ')}`,
          at: this.clock(),
        },
      ]);
    }
    if (!options.handOff) {
      this.supervise(id, new RunSupervisor(this.deps, { id, plan, slotClass, dvcPointers: snapshot.dvcPointers }).start());
    }
    this.watcher.signal();
    return id;
  }

  /** Takes over a queued run handed off by `previousOwner` and supervises it here; false if it cannot. */
  async takeOverQueued(id: string, previousOwner: string): Promise<boolean> {
    if (!(await this.store.takeOver(id, previousOwner, this.owner))) return false;
    const spec = (await this.store.spec(id)) as StoredSpec;
    const slotClass: SlotClass = spec.plan.resources.gpus ? 'gpu' : 'cpu';
    this.supervise(id, new RunSupervisor(this.deps, { id, plan: spec.plan, slotClass, dvcPointers: spec.dvcPointers }).start());
    return true;
  }

  /** Whether the plan runs in a container or as a local process (venv, conda, the host). */
  executorOf(plan: LaunchPlan): 'docker' | 'local' {
    return this.deps.environments.kindOf(plan.environment);
  }

  /** This process, as recorded as the supervisor of the runs it owns. */
  get ownerId(): string {
    return this.owner;
  }

  /** Resolves with the run's record once it has finished and is cleaned up (whichever process supervises it). */
  finished(id: string): Promise<RunRecord> {
    return this.finalRecord(id, (control) => control.finished);
  }

  /**
   * Resolves with the run's record as soon as its end is recorded: a run supervised here may still
   * be having its container removed, which close() waits for. What `mlw run` waits for, so the
   * removal is not part of the command's time when a resident agent carries it out.
   */
  recorded(id: string): Promise<RunRecord> {
    return this.finalRecord(id, (control) => control.recorded);
  }

  private async finalRecord(id: string, awaited: (control: RunControl) => Promise<RunStatus>): Promise<RunRecord> {
    const control = this.controls.get(id);
    if (control) await awaited(control);
    for (;;) {
      const changed = this.watcher.next();
      const run = await this.store.get(id);
      if (!run) throw new RunStateError(`run ${id} was deleted while it was being waited for`);
      if (FINAL_STATUSES.includes(run.status)) return run;
      await changed;
    }
  }

  /**
   * Cancels a queued run at once; a running one gets SIGTERM, then a kill after the grace period,
   * from whichever process supervises it. Resolves to the status it has afterwards.
   */
  async cancel(prefix: string): Promise<RunStatus> {
    const id = await this.store.resolveId(prefix);
    const outcome = await this.store.requestCancel(id, this.clock());
    this.controls.get(id)?.cancel();
    this.watcher.signal();
    if (outcome === 'requested' && !this.controls.has(id)) {
      // Supervised elsewhere: that process sees the request; if it died, recovery finishes the run.
      await this.recover();
    }
    return (await this.store.get(id))?.status ?? 'cancelled';
  }

  /** Deletes a finished run's record; refuses one that is still queued or running. */
  async delete(prefix: string): Promise<void> {
    const id = await this.store.resolveId(prefix);
    const run = await this.store.get(id);
    if (run && !FINAL_STATUSES.includes(run.status)) {
      throw new RunStateError(`run ${id} is ${run.status}: cancel it first (mlw runs cancel ${id})`);
    }
    await this.store.delete(id);
    this.watcher.signal();
  }

  async get(prefix: string): Promise<RunRecord> {
    const id = await this.store.resolveId(prefix);
    return (await this.store.get(id))!;
  }

  list(filter?: RunFilter): Promise<RunSummary[]> {
    return this.store.list(filter);
  }

  /** The launch plan a run was submitted with (for re-running it). */
  async planOf(prefix: string): Promise<LaunchPlan> {
    const id = await this.store.resolveId(prefix);
    return ((await this.store.spec(id)) as StoredSpec).plan;
  }

  /** Delivers the run's log from `afterSeq` on, as it grows, until the run has finished. */
  async followLog(prefix: string, afterSeq: number, deliver: (entries: LogEntry[]) => void): Promise<RunStatus> {
    const id = await this.store.resolveId(prefix);
    let last = afterSeq;
    for (;;) {
      const changed = this.watcher.next();
      const run = await this.store.get(id);
      const entries = await this.store.readLog(id, last);
      if (entries.length > 0) {
        last = entries[entries.length - 1]!.seq;
        deliver(entries);
      }
      if (!run) throw new RunStateError(`run ${id} was deleted while its log was followed`);
      if (FINAL_STATUSES.includes(run.status)) {
        const rest = await this.store.readLog(id, last);
        if (rest.length > 0) deliver(rest);
        return run.status;
      }
      await changed;
    }
  }

  async compare(prefixes: readonly string[]): Promise<RunComparison> {
    const runs: RunRecord[] = [];
    for (const prefix of prefixes) runs.push(await this.get(prefix));
    const paramNames = [...new Set(runs.flatMap((run) => Object.keys(run.params)))].sort();
    const metricNames = [...new Set(runs.flatMap((run) => Object.keys(run.latestMetrics)))].sort();
    const differs = (values: readonly unknown[]) => new Set(values.map((value) => JSON.stringify(value))).size > 1;
    return {
      runs: runs.map(summaryOf),
      params: paramNames.map((name) => {
        const values = runs.map((run) => run.params[name] ?? null);
        return { name, values, differs: differs(values) };
      }),
      metrics: metricNames.map((name) => {
        const values = runs.map((run) => run.latestMetrics[name]?.value ?? null);
        return { name, values, differs: differs(values) };
      }),
    };
  }

  /**
   * Finishes what dead processes left: a container run is re-attached (or finished from its exit
   * state, or marked lost when the container is gone); a queued or local run is marked lost; and
   * labelled containers of runs that are over are removed.
   */
  async recover(): Promise<RecoveryReport> {
    const report: RecoveryReport = { adopted: [], lost: [], removedContainers: [] };
    for (const run of await this.store.active()) {
      if (run.owner === this.owner || ownerIsAlive(run.owner)) continue;
      if (!(await this.store.takeOver(run.id, run.owner, this.owner))) continue;
      if (run.status === 'queued') {
        await this.markLost(run.id, 'its mlw process ended before it started', report);
      } else if (run.executor === 'docker') {
        await this.recoverContainerRun(run.id, run.containerId, report);
      } else {
        if (run.pid !== null && processIsAlive(run.pid)) signalGroup(run.pid, 'SIGKILL');
        await this.markLost(run.id, 'its mlw process ended, and a local run cannot be re-attached', report);
      }
    }
    await this.removeOrphanContainers(report);
    if (report.lost.length > 0 || report.adopted.length > 0) this.watcher.signal();
    return report;
  }

  /**
   * Stops watching, once the runs whose end is recorded are cleaned up (their containers removed);
   * runs still going on here go on only as far as their containers do.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.cleaningUp]);
    this.watcher.close();
    this.removeAllListeners();
    this.dockerApi?.close();
    this.envService?.close();
    await (await this.storeWatch)?.close();
    await this.store.close();
  }

  private supervise(id: string, control: RunControl): void {
    this.controls.set(id, control);
    void control.recorded.then(() => {
      const cleaning = control.finished.then(
        () => undefined,
        () => undefined,
      );
      this.cleaningUp.add(cleaning);
      void cleaning.finally(() => this.cleaningUp.delete(cleaning));
    });
    void control.finished.finally(() => this.controls.delete(id));
  }

  private async recoverContainerRun(id: string, containerId: string | null, report: RecoveryReport): Promise<void> {
    const executor = this.dockerRuns();
    let found = containerId;
    if (!found) {
      // The agent died between creating the container and recording it: find it by its label.
      const labelled = await executor.labeledContainers(this.workspaceRoot).catch(() => []);
      found = labelled.find((container) => container.runId === id)?.id ?? null;
    }
    const state = found ? await executor.state(found) : 'missing';
    if (!found || state === 'missing') {
      await this.markLost(id, 'its container is gone (removed, or the Docker engine restarted)', report);
      return;
    }
    const spec = (await this.store.spec(id)) as StoredSpec;
    const slotClass: SlotClass = spec.plan.resources.gpus ? 'gpu' : 'cpu';
    this.supervise(id, new RunSupervisor(this.deps, { id, plan: spec.plan, slotClass, dvcPointers: spec.dvcPointers }).adopt(found));
    report.adopted.push(id);
  }

  private async markLost(id: string, reason: string, report: RecoveryReport): Promise<void> {
    await this.store.appendLog(id, [{ stream: 'system', text: `lost: ${reason}`, at: this.clock() }]);
    if (await this.store.transition(id, 'lost', { reason, at: this.clock() })) report.lost.push(id);
    if (!this.settings.keepRunDirs) await rm(runDirs(this.workspaceRoot, id).root, { recursive: true, force: true });
  }

  private async removeOrphanContainers(report: RecoveryReport): Promise<void> {
    let labelled;
    try {
      labelled = await this.dockerRuns().labeledContainers(this.workspaceRoot);
    } catch {
      return; // no engine: nothing of ours can be running there
    }
    for (const container of labelled) {
      const run = await this.store.get(container.runId);
      if (run && !FINAL_STATUSES.includes(run.status)) continue;
      await this.dockerRuns().remove(container.id);
      report.removedContainers.push(container.id);
    }
  }

  /** Emits `changed` for each recent run whose summary differs from what was last announced. */
  private announcing: Promise<void> = Promise.resolve();
  private announceChanges(): Promise<void> {
    this.announcing = this.announcing.then(async () => {
      // Nobody listening (a CLI command): listing recent runs after every commit would be wasted.
      if (this.closed || this.listenerCount('changed') === 0) return;
      const recent = await this.store.list({ limit: WATCHED_RECENT_RUNS });
      const seen = new Set<string>();
      for (const run of recent) {
        seen.add(run.id);
        const json = JSON.stringify(run);
        if (this.known.get(run.id) === json) continue;
        this.known.set(run.id, json);
        this.emit('changed', run.id, run);
      }
      for (const id of this.known.keys()) {
        if (seen.has(id)) continue;
        this.known.delete(id);
        if (!(await this.store.get(id))) this.emit('changed', id, null);
      }
    }).catch((error: Error) => this.options.log.warn(`runs: announcing changes failed: ${error.message}`));
    return this.announcing;
  }

  private environments(): EnvService {
    this.envService ??= new EnvService({ root: this.options.workspaceRoot, log: this.options.log });
    return this.envService;
  }

  private dockerRuns(): DockerExecutor {
    this.dockerApi ??= new DockerApi();
    this.dockerExecutor ??= new DockerExecutor(this.dockerApi, {
      ...defaultDockerSettings(),
      networkMode: this.settings.dockerNetwork,
      init: this.settings.dockerInit,
    });
    return this.dockerExecutor;
  }
}

function summaryOf(run: RunRecord): RunSummary {
  const {
    command: _command,
    workdir: _workdir,
    image: _image,
    environmentDigest: _digest,
    gitTree: _tree,
    gitDiff: _diff,
    resources: _resources,
    outputs: _outputs,
    note: _note,
    inputs: _inputs,
    artifacts: _artifacts,
    containerId: _containerId,
    pid: _pid,
    owner: _owner,
    ...summary
  } = run;
  return summary;
}

/** DVC's cache when the workspace uses DVC (artifacts then sit with the datasets), else mlw's own. */
function defaultArtifactCache(workspaceRoot: string): ArtifactCache {
  const dvc = join(workspaceRoot, '.dvc');
  return new DirectoryArtifactCache(existsSync(dvc) ? join(dvc, 'cache') : join(workspaceRoot, '.mlw', 'cache'));
}

/** `.mlw/` holds the store and run scratch space: never something to commit. */
function ignoreOwnFolder(workspaceRoot: string): void {
  const ignoreFile = join(workspaceRoot, '.mlw', '.gitignore');
  if (existsSync(ignoreFile)) return;
  void mkdir(join(workspaceRoot, '.mlw'), { recursive: true }).then(() => writeFile(ignoreFile, '*\n'));
}

function openConfiguredStore(settings: RunSettings, databasePath: string): RunStore {
  return settings.store ? new PostgresRunStore(settings.store) : openSqliteRunStore(databasePath);
}

export function openRunService(options: RunServiceOptions): RunService {
  return new RunService(options);
}
