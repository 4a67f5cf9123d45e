/**
 * Reproducing a run (local or a teammate's): a git worktree at the run's commit under
 * `.mlw/reproduce/<run-id>` (with the run's uncommitted changes applied from its recorded diff), the
 * datasets of that commit checked out there (fetched from the data remote into the workspace's own
 * cache, which the worktree shares), and the same task with the same params started in its
 * environment by this workspace's runs service — so the reproduction is a run of this workspace's
 * store, tagged `reproduces=<id>`, and its outputs land in the worktree, never in the workspace.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { encode, parse } from 'ini';
import type { RunRecord } from '../../../schemas/protocol/runs';
import type { Logger } from '../context';
import { DataService } from '../data/service';
import { findDataRoot, openDataRepo } from '../data/repo';
import { UserError } from '../errors';
import { git } from '../runs/git';
import { loadDag } from '../runs/dag-source';
import { planCommand, planTask } from '../runs/launch';
import type { LaunchPlan } from '../runs/plan';
import type { RunService } from '../runs/service';
import { repositoryRoot } from '../runs/snapshot';

export const REPRODUCES_TAG = 'reproduces=';

export interface Reproduction {
  readonly original: string;
  /** The new run(s): one, or one per matrix instance when the original's task name selects several. */
  readonly ids: readonly string[];
  /** The worktree the reproduction runs in. */
  readonly worktree: string;
  /** Datasets checked out in the worktree (their paths relative to it). */
  readonly datasets: readonly string[];
}

export interface MetricSideBySide {
  readonly name: string;
  readonly original: number | null;
  readonly reproduction: number | null;
}

/** Prepares the worktree and its datasets and starts the reproduction; resolves once it is submitted. */
export async function reproduceRun(service: RunService, prefix: string, log: Logger): Promise<Reproduction> {
  const id = await service.store.resolveId(prefix);
  const run = (await service.store.get(id))!;
  if (!run.gitCommit) throw new UserError(`run ${id} was not pinned to a commit (its repository had none): it cannot be reproduced`);
  const repoRoot = await repositoryRoot(service.workspaceRoot);
  await requireCommit(repoRoot, run);
  const worktree = join(service.workspaceRoot, '.mlw', 'reproduce', id);
  await createWorktree(repoRoot, worktree, run);
  const scope = relative(repoRoot, service.workspaceRoot).split(sep).join('/');
  const workspace = scope === '' ? worktree : join(worktree, scope);
  const datasets = await checkoutDatasets(service.workspaceRoot, workspace, log);
  const plans = await planAgain(run, worktree, workspace);
  const ids: string[] = [];
  for (const plan of plans) {
    const newId = await service.submit(plan);
    await service.store.setTags(newId, [`${REPRODUCES_TAG}${id}`]);
    ids.push(newId);
  }
  return { original: id, ids, worktree, datasets };
}

/** The latest value of every metric either run has, side by side. */
export function sideBySide(original: RunRecord, reproduction: RunRecord): MetricSideBySide[] {
  const names = [...new Set([...Object.keys(original.latestMetrics), ...Object.keys(reproduction.latestMetrics)])].sort();
  return names.map((name) => ({
    name,
    original: original.latestMetrics[name]?.value ?? null,
    reproduction: reproduction.latestMetrics[name]?.value ?? null,
  }));
}

async function requireCommit(repoRoot: string, run: RunRecord): Promise<void> {
  const found = await git(['cat-file', '-e', `${run.gitCommit}^{commit}`], { cwd: repoRoot, okCodes: [1, 128] });
  if (found.code === 0) return;
  const branch = run.gitBranch ? ` (it ran on branch ${run.gitBranch}: \`git fetch origin ${run.gitBranch}\`)` : '';
  throw new UserError(
    `run ${run.id} ran at commit ${run.gitCommit}, which is not in this repository: \`git fetch\` it first${branch}, then reproduce again`,
  );
}

/** A fresh detached worktree at the run's commit, with the run's uncommitted changes applied. */
async function createWorktree(repoRoot: string, worktree: string, run: RunRecord): Promise<void> {
  if (existsSync(worktree)) {
    await git(['worktree', 'remove', '--force', worktree], { cwd: repoRoot, okCodes: [128] });
    await rm(worktree, { recursive: true, force: true });
    await git(['worktree', 'prune'], { cwd: repoRoot });
  }
  await git(['worktree', 'add', '--quiet', '--detach', worktree, run.gitCommit!], { cwd: repoRoot });
  if (run.gitDiff) {
    await git(['apply', '--binary', '--whitespace=nowarn', '-'], { cwd: worktree, input: run.gitDiff }).catch((error: Error) => {
      throw new UserError(`run ${run.id}: its recorded uncommitted changes do not apply to ${run.gitCommit}: ${error.message}`);
    });
  }
}

/**
 * Checks out the datasets of the worktree's commit there. The worktree's `.dvc/config.local` (git
 * ignores it) is the workspace's, with `cache.dir` pointing at the workspace's cache: objects already
 * here are not fetched again, and fetched ones stay for the next reproduction.
 */
async function checkoutDatasets(workspaceRoot: string, workspace: string, log: Logger): Promise<string[]> {
  const dataRoot = await findDataRoot(workspace);
  if (!dataRoot || relative(workspace, dataRoot).startsWith('..')) return [];
  const source = await openDataRepo(workspaceRoot, { log }).catch(() => undefined);
  if (source) {
    try {
      await shareCache(join(source.dvcDir, 'config.local'), join(dataRoot, '.dvc', 'config.local'), source.config.cacheDir);
    } finally {
      source.close();
    }
  }
  const data = new DataService({ cwd: workspace, log });
  if ((await data.list()).length === 0) return [];
  const hasRemote = await openDataRepo(workspace, { log }).then((repo) => {
    repo.close();
    return repo.config.defaultRemote !== undefined;
  });
  const results = hasRemote ? (await data.pull([], { force: true })).checkout : await data.checkout([], { force: true });
  return results.map((result) => result.path);
}

async function shareCache(sourceLocal: string, targetLocal: string, cacheDir: string): Promise<void> {
  const text = await readFile(sourceLocal, 'utf8').catch(() => '');
  const sections = parse(text) as Record<string, unknown>;
  const cache = typeof sections['cache'] === 'object' && sections['cache'] !== null ? (sections['cache'] as Record<string, unknown>) : {};
  sections['cache'] = { ...cache, dir: cacheDir };
  const temporary = `${targetLocal}.mlw.tmp`;
  await writeFile(temporary, encode(sections));
  await rename(temporary, targetLocal);
}

/** The original's request again, resolved against the worktree: same task (or command), same params. */
async function planAgain(run: RunRecord, worktree: string, workspace: string): Promise<LaunchPlan[]> {
  if (run.task !== null && run.dagFile !== null) {
    const loaded = await loadDag(join(workspace, run.dagFile));
    const declared = loaded.dag.params ?? {};
    const params = Object.fromEntries(Object.entries(run.params).filter(([name]) => name in declared));
    return planTask({ workspaceRoot: workspace, dagFile: run.dagFile, task: run.task, params, priority: run.priority });
  }
  return [
    await planCommand({
      workspaceRoot: workspace,
      command: run.command,
      environment: run.environment,
      cwd: join(worktree, run.workdir),
      params: run.params,
      priority: run.priority,
    }),
  ];
}
