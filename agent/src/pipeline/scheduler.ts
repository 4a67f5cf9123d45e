/**
 * One DAG run: the selected task instances in dependency order, independent ones side by side up
 * to `jobs`, each one a run of the runs service grouped under the DAG run's id. Before a task runs,
 * its fingerprint is looked up: when an earlier run stands in, its outputs are restored and the task
 * is recorded as cached. A failed attempt is retried after an exponential backoff while the task has
 * retries left; a task that fails for good marks everything downstream upstream-failed and the rest
 * goes on. Cancelling stops what runs (through RunService.cancel) and starts nothing more. The
 * outputs the run may write are locked for its whole length (lock.ts).
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { PipelineRunState, PipelineRunStatus, PipelineTaskState } from '../../../schemas/protocol/pipeline';
import type { RunRecord } from '../../../schemas/protocol/runs';
import type { Logger } from '../context';
import { newRunId } from '../runs/ids';
import { producedPaths, workspacePath } from '../runs/layout';
import type { ProducedOutput } from '../runs/outputs';
import type { LaunchPlan } from '../runs/plan';
import type { RunService } from '../runs/service';
import { cpuSlots } from '../runs/settings';
import { artifactCacheRoot, FingerprintIndex, outputArtifacts, restoreOutputs, writeAtomically } from './cache';
import type { PipelineDefinition, PipelineInstance } from './definition';
import { fingerprintTask, type EnvironmentDigester, type Fingerprint } from './fingerprint';
import { acquireOutputLock, type HeldLock } from './lock';
import { lookUpCache } from './lookup';
import { headCommit, recordCachedRun, type CommitInfo } from './record';

export interface DagRunOptions {
  readonly runs: RunService;
  readonly pipeline: PipelineDefinition;
  /** Instance names to run, in dependency order (definition.ts selectInstances). */
  readonly selected: readonly string[];
  readonly environmentDigest: EnvironmentDigester;
  readonly log: Logger;
  /** Run even when cached outputs would do. */
  readonly force?: boolean;
  /** At most this many tasks at once; the runs service's CPU slots by default. */
  readonly jobs?: number;
  readonly dagRunId?: string;
  /** The first retry waits this long, each next one twice as long (capped at a minute). */
  readonly retryBackoffMs?: number;
  readonly clock?: () => number;
}

export interface DagRunEvents {
  /** The whole state, after any task changed. */
  changed: [state: PipelineRunState];
  /** The task that changed. */
  task: [task: PipelineTaskState];
}

const DEFAULT_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;
const DONE: ReadonlySet<PipelineTaskState['status']> = new Set(['succeeded', 'cached', 'failed', 'upstream-failed', 'cancelled']);

export class DagRun extends EventEmitter<DagRunEvents> {
  readonly id: string;
  private readonly tasks = new Map<string, PipelineTaskState>();
  private readonly selected: ReadonlySet<string>;
  private readonly live = new Map<string, string>();
  private readonly wakeBackoffs = new Set<() => void>();
  private readonly index: FingerprintIndex;
  private readonly cacheRoot: string;
  private readonly clock: () => number;
  private readonly startedAt: number;
  private status: PipelineRunStatus = 'running';
  private endedAt: number | null = null;
  private cancelling = false;
  private head: Promise<CommitInfo> | undefined;
  private held: Promise<HeldLock> | undefined;
  private readonly slots: Slots;

  constructor(private readonly options: DagRunOptions) {
    super();
    this.setMaxListeners(0);
    this.id = options.dagRunId ?? newRunId();
    this.clock = options.clock ?? Date.now;
    this.startedAt = this.clock();
    this.slots = new Slots(Math.max(1, options.jobs ?? cpuSlots(options.runs.settings)));
    this.selected = new Set(options.selected);
    this.index = FingerprintIndex.forWorkspace(options.runs.workspaceRoot);
    this.cacheRoot = artifactCacheRoot(options.runs.workspaceRoot);
    const graph = options.pipeline.graph;
    for (const name of options.selected) {
      const instance = options.pipeline.instances.get(name)!;
      const dependsOn = [...graph.upstream.get(name)!.keys()].filter((other) => this.selected.has(other));
      this.tasks.set(name, { name, task: instance.task, status: 'pending', runId: null, attempt: 0, reason: null, dependsOn });
    }
  }

  get state(): PipelineRunState {
    return {
      dagRunId: this.id,
      dagFile: this.options.pipeline.dagFile,
      status: this.status,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      tasks: [...this.tasks.values()].map((task) => ({ ...task, dependsOn: [...task.dependsOn] })),
    };
  }

  /** Runs the DAG to the end; resolves with the final state (failures are in it, not thrown). */
  async run(): Promise<PipelineRunState> {
    const workspaceRoot = this.options.runs.workspaceRoot;
    const lock = await this.lock();
    try {
      this.emitChanged();
      await this.schedule();
      for (const task of this.tasks.values()) {
        if (task.status === 'pending') this.update(task.name, { status: 'cancelled', reason: 'the DAG run was cancelled before it started' });
      }
      const statuses = [...this.tasks.values()].map((task) => task.status);
      this.status = this.cancelling
        ? 'cancelled'
        : statuses.every((status) => status === 'succeeded' || status === 'cached')
          ? 'succeeded'
          : 'failed';
      this.endedAt = this.clock();
      this.emitChanged();
      await writeAtomically(join(workspaceRoot, '.mlw', 'pipeline', 'dag-runs', `${this.id}.json`), `${JSON.stringify(this.state, null, 2)}\n`);
      return this.state;
    } finally {
      await lock.release();
    }
  }

  /**
   * Takes the lock on every output the selected tasks write (run() does it when not done before):
   * taking it first lets a caller report "locked by another run" before answering that it started.
   */
  async lock(): Promise<HeldLock> {
    if (!this.held) {
      const outputs = [...this.selected].flatMap((name) => this.outputsOf(this.options.pipeline.instances.get(name)!.plan).map((output) => output.path));
      this.held = acquireOutputLock(this.options.runs.workspaceRoot, outputs, `mlw dag run ${this.options.pipeline.dagFile} (DAG run ${this.id})`);
      const lock = await this.held;
      for (const what of lock.recovered) this.options.log.warn(`recovered the output lock left by ${what}, which is no longer running`);
    }
    return this.held;
  }

  /** Stops the DAG run: running tasks are cancelled (SIGTERM, grace, kill), nothing more starts. */
  cancel(): void {
    if (this.cancelling || this.status !== 'running') return;
    this.cancelling = true;
    for (const wake of this.wakeBackoffs) wake();
    for (const runId of this.live.values()) void this.options.runs.cancel(runId).catch(() => undefined);
  }

  /**
   * Starts every ready task at once: looking a task up in the cache needs no slot, running it
   * waits for one of the `jobs` run slots (attempts()).
   */
  private async schedule(): Promise<void> {
    const inFlight = new Map<string, Promise<void>>();
    for (;;) {
      if (!this.cancelling) {
        for (const name of this.ready()) {
          if (inFlight.has(name)) continue;
          inFlight.set(
            name,
            this.execute(name).finally(() => inFlight.delete(name)),
          );
        }
      }
      if (inFlight.size === 0) return;
      await Promise.race(inFlight.values());
    }
  }

  /** Pending tasks whose selected upstream all succeeded or were cached, in dependency order. */
  private ready(): string[] {
    return [...this.tasks.values()]
      .filter(
        (task) =>
          task.status === 'pending' &&
          task.dependsOn.every((name) => {
            const status = this.tasks.get(name)!.status;
            return status === 'succeeded' || status === 'cached';
          }),
      )
      .map((task) => task.name);
  }

  private async execute(name: string): Promise<void> {
    const instance = this.options.pipeline.instances.get(name)!;
    const plan: LaunchPlan = { ...instance.plan, dagRunId: this.id };
    try {
      const fingerprint = await fingerprintTask(plan, instance.spec, await this.options.environmentDigest(plan.environment));
      if (instance.cache && !this.options.force && (await this.tryCache(name, plan, fingerprint))) return;
      await this.attempts(instance, plan, fingerprint);
    } catch (error) {
      this.finishBadly(name, 'failed', error instanceof Error ? error.message : String(error));
    }
  }

  /** Restores the outputs of an earlier run with the same fingerprint; false when there is none. */
  private async tryCache(name: string, plan: LaunchPlan, fingerprint: Fingerprint): Promise<boolean> {
    const found = await lookUpCache(this.options.runs.store, this.index, this.cacheRoot, fingerprint.digest);
    if (!('hit' in found)) return false;
    const restored = await restoreOutputs(plan.workspaceRoot, this.cacheRoot, found.hit);
    this.head ??= headCommit(plan.workspaceRoot);
    const runId = await recordCachedRun(this.options.runs, plan, found.hit, fingerprint, await this.head, this.clock());
    const what = restored.length > 0 ? `restored ${restored.join(', ')} from run ${found.hit.runId}` : `outputs of run ${found.hit.runId} are in place`;
    this.update(name, { status: 'cached', runId, reason: `unchanged: ${what}` });
    return true;
  }

  private async attempts(instance: PipelineInstance, plan: LaunchPlan, fingerprint: Fingerprint): Promise<void> {
    const name = instance.name;
    for (let attempt = 1; ; attempt++) {
      if (this.cancelling) return this.finishBadly(name, 'cancelled', 'the DAG run was cancelled');
      const release = await this.slots.acquire();
      let record: RunRecord;
      try {
        if (this.cancelling) return this.finishBadly(name, 'cancelled', 'the DAG run was cancelled');
        const runId = await this.options.runs.submit(plan);
        this.live.set(name, runId);
        this.update(name, { status: 'running', attempt, runId, reason: null });
        if (this.cancelling) void this.options.runs.cancel(runId).catch(() => undefined);
        record = await this.options.runs.finished(runId);
      } finally {
        this.live.delete(name);
        release();
      }
      if (record.status === 'succeeded') {
        await this.remember(instance, plan, fingerprint, record);
        this.update(name, { status: 'succeeded', reason: null });
        return;
      }
      const why = record.statusReason ?? record.status;
      if (record.status === 'cancelled' || this.cancelling) return this.finishBadly(name, 'cancelled', why);
      if (attempt > instance.retries) {
        const tries = attempt > 1 ? ` (after ${attempt} attempts)` : '';
        return this.finishBadly(name, 'failed', `${why}${tries}`);
      }
      const wait = Math.min(MAX_BACKOFF_MS, (this.options.retryBackoffMs ?? DEFAULT_BACKOFF_MS) * 2 ** (attempt - 1));
      this.update(name, { status: 'retrying', reason: `attempt ${attempt} ${record.status}: ${why}; retrying in ${formatWait(wait)}` });
      await this.backoff(wait);
    }
  }

  private backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakeBackoffs.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeBackoffs.add(wake);
    });
  }

  /** Keeps the fingerprint → run → artifacts entry that later runs are cached from. */
  private async remember(instance: PipelineInstance, plan: LaunchPlan, fingerprint: Fingerprint, record: RunRecord): Promise<void> {
    const outputs = this.outputsOf(plan);
    await this.index.save({
      version: 1,
      fingerprint: fingerprint.digest,
      parts: { ...fingerprint.parts, env: { ...fingerprint.parts.env }, outputs: [...fingerprint.parts.outputs] },
      runId: record.id,
      dagFile: this.options.pipeline.dagFile,
      task: instance.name,
      outputs,
      artifacts: outputArtifacts(outputs, record.artifacts),
      at: this.clock(),
    });
  }

  private outputsOf(plan: LaunchPlan): ProducedOutput[] {
    const paths = { workdir: plan.workdir, outputs: plan.outputs, metricsFiles: plan.metricsFiles };
    return producedPaths({ ...paths, workspaceRoot: plan.workspaceRoot, inputs: [], dvcPointers: [] }).map((output) => ({
      path: workspacePath(plan, output),
      folder: output.endsWith('/'),
    }));
  }

  /** A task that did not succeed: everything downstream of it will not run. */
  private finishBadly(name: string, status: 'failed' | 'cancelled', reason: string): void {
    this.update(name, { status, reason });
    const blocked = status === 'failed' ? 'upstream-failed' : 'cancelled';
    const stack = [...this.options.pipeline.graph.downstream.get(name)!];
    while (stack.length > 0) {
      const next = stack.pop()!;
      const task = this.tasks.get(next);
      if (!task || task.status !== 'pending') continue;
      this.update(next, { status: blocked, reason: `${name} ${status}` });
      stack.push(...this.options.pipeline.graph.downstream.get(next)!);
    }
  }

  private update(name: string, change: Partial<Omit<PipelineTaskState, 'name' | 'task' | 'dependsOn'>>): void {
    const current = this.tasks.get(name)!;
    if (DONE.has(current.status) && change.status !== undefined) return; // a final status is kept
    const next = { ...current, ...change };
    if (next.status === current.status && next.runId === current.runId && next.attempt === current.attempt && next.reason === current.reason) return;
    this.tasks.set(name, next);
    this.emit('task', { ...next });
    this.emitChanged();
  }

  private emitChanged(): void {
    if (this.listenerCount('changed') > 0) this.emit('changed', this.state);
  }
}

/** At most `size` holders at once; the others wait in order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

function formatWait(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
