/**
 * A cached task is recorded as a run like any other (so the Runs view and `mlw runs list` show it
 * in its DAG run): status succeeded, tagged `cached`, its status reason naming the run whose
 * outputs were restored, with that run's artifacts and metrics, and never executed.
 */
import { posix } from 'node:path';
import { git } from '../runs/git';
import { newRunId } from '../runs/ids';
import type { NewRun } from '../runs/store';
import type { LaunchPlan } from '../runs/plan';
import type { RunService, StoredSpec } from '../runs/service';
import type { CacheEntry } from './cache';
import type { Fingerprint } from './fingerprint';

export const CACHED_TAG = 'cached';

export interface CommitInfo {
  readonly commit: string | null;
  readonly branch: string | null;
}

/** HEAD's commit and branch, once per DAG run (a cached record is pinned to the code it stood in for). */
export async function headCommit(workspaceRoot: string): Promise<CommitInfo> {
  // (`--verify` takes exactly one revision: with two it fails, and every cached run lost its commit.)
  const result = await git(['rev-parse', 'HEAD', '--abbrev-ref', 'HEAD'], { cwd: workspaceRoot, okCodes: [128] });
  const [commit, branch] = result.stdout.trim().split('\n');
  return { commit: result.code === 0 && commit ? commit : null, branch: result.code === 0 && branch && branch !== 'HEAD' ? branch : null };
}

export async function recordCachedRun(
  runs: RunService,
  plan: LaunchPlan,
  entry: CacheEntry,
  fingerprint: Fingerprint,
  head: CommitInfo,
  at: number,
): Promise<string> {
  const store = runs.store;
  const id = newRunId();
  const spec: StoredSpec = { plan, dvcPointers: [] };
  const points = (await store.metrics(entry.runId)).flatMap((series) => series.points.map((point) => ({ name: series.name, ...point })));
  const run: NewRun = {
    id,
    name: plan.name,
    task: plan.task,
    dagFile: plan.dagFile,
    dagRunId: plan.dagRunId,
    command: plan.command,
    workdir: posix.join(plan.workdir),
    environment: plan.environment.name,
    executor: plan.environment.spec?.docker ? 'docker' : 'local',
    priority: plan.priority,
    slotClass: plan.resources.gpus !== undefined && plan.resources.gpus !== 0 ? 'gpu' : 'cpu',
    params: plan.params,
    resources: plan.resources,
    outputs: [...new Set([...plan.outputs, ...plan.metricsFiles])],
    gitCommit: head.commit,
    gitBranch: head.branch,
    owner: runs.ownerId,
    spec,
    createdAt: at,
  };
  await store.recordFinished(run, {
    inputs: Object.entries(fingerprint.parts.inputs).flatMap(([path, md5]) => (md5 === null ? [] : [{ path, md5 }])),
    artifacts: entry.artifacts,
    metrics: points,
    tags: [CACHED_TAG],
    startedAt: at,
    endedAt: at,
    exitCode: 0,
    reason: `cached: outputs of run ${entry.runId} restored (same fingerprint)`,
  });
  return id;
}
