/**
 * Named, versioned models: `mlw models promote RUN --name NAME` records one of a run's artifacts as
 * the next version of NAME, as a one-file commit (`model.json`) under `refs/mlw/models/<name>/v<N>`,
 * pushed and fetched with the run records. A version's ref is created with an expected old value of
 * "none", so two promotions here can never both become v3; a teammate's v3 made meanwhile makes the
 * push refuse (pull, then promote again).
 */
import { FINAL_STATUSES } from '../../../schemas/protocol/runs';
import { ModelName, ModelVersion } from '../../../schemas/protocol/results';
import { UserError } from '../errors';
import { git } from '../runs/git';
import type { RunStore } from '../runs/store';
import { runGit, RunRefError } from './refs';

export const MODELS_REF_PREFIX = 'refs/mlw/models/';
const NO_OBJECT = '0'.repeat(40);

export function modelRef(name: string, version: number): string {
  return `${MODELS_REF_PREFIX}${name}/v${version}`;
}

/** `name v3`, as model versions are named to people. */
export function modelLabel(model: { name: string; version: number }): string {
  return `${model.name} v${model.version}`;
}

/** The model versions under refs/mlw/models/ here, as `{ref, name, version}`, by name then version. */
export async function listModelRefs(repoRoot: string): Promise<{ ref: string; name: string; version: number }[]> {
  const { stdout } = await git(['for-each-ref', '--format=%(refname)', MODELS_REF_PREFIX], { cwd: repoRoot });
  const found: { ref: string; name: string; version: number }[] = [];
  for (const ref of stdout.split('\n')) {
    const match = /^refs\/mlw\/models\/([^/]+)\/v([1-9]\d*)$/.exec(ref);
    if (match) found.push({ ref, name: match[1]!, version: Number(match[2]) });
  }
  return found.sort((a, b) => (a.name === b.name ? a.version - b.version : a.name < b.name ? -1 : 1));
}

/** Every model version recorded here (promoted here or fetched), read in one `git cat-file --batch`. */
export async function listModels(repoRoot: string): Promise<ModelVersion[]> {
  const refs = await listModelRefs(repoRoot);
  if (refs.length === 0) return [];
  const output = await runGit(['cat-file', '--batch'], repoRoot, Buffer.from(refs.map((entry) => `${entry.ref}:model.json\n`).join('')));
  const models: ModelVersion[] = [];
  let offset = 0;
  for (const { ref } of refs) {
    const headerEnd = output.indexOf(0x0a, offset);
    const header = output.subarray(offset, headerEnd).toString('utf8');
    const match = /^[0-9a-f]+ blob (\d+)$/.exec(header);
    if (!match) throw new RunRefError(`${ref}: no model.json in it (${header})`);
    const size = Number(match[1]);
    const body = output.subarray(headerEnd + 1, headerEnd + 1 + size).toString('utf8');
    offset = headerEnd + 1 + size + 1;
    const parsed = ModelVersion.safeParse(JSON.parse(body));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new RunRefError(`${ref}: model.json is not a model version mlw understands (${issue.path.join('.')}: ${issue.message})`);
    }
    models.push(parsed.data);
  }
  return models;
}

export interface PromoteRequest {
  readonly runId: string;
  readonly name: string;
  /** The artifact's path as the run recorded it; default its only artifact. */
  readonly artifact?: string;
  readonly author: { name: string; email: string };
  readonly now?: number;
}

/** Records the run's artifact as the next version of the model and returns it. */
export async function promoteModel(store: RunStore, repoRoot: string, request: PromoteRequest): Promise<ModelVersion> {
  const name = ModelName.safeParse(request.name);
  if (!name.success) throw new UserError(`model name ${JSON.stringify(request.name)}: ${name.error.issues[0]!.message}`);
  const id = await store.resolveId(request.runId);
  const run = (await store.get(id))!;
  if (run.status !== 'succeeded') {
    throw new UserError(`run ${id} is ${run.status}: only a run that succeeded can be promoted${FINAL_STATUSES.includes(run.status) ? '' : ' (wait for it to finish)'}`);
  }
  const artifact = chooseArtifact(id, run.artifacts, request.artifact);
  const taken = (await listModelRefs(repoRoot)).filter((entry) => entry.name === name.data);
  const version = Math.max(0, ...taken.map((entry) => entry.version)) + 1;
  const who = `${request.author.name} <${request.author.email}>`;
  const model: ModelVersion = {
    format: 1,
    name: name.data,
    version,
    runId: id,
    artifact: { path: artifact.path, md5: artifact.md5, size: artifact.size },
    metrics: Object.fromEntries(Object.entries(run.latestMetrics).map(([metric, latest]) => [metric, latest.value])),
    params: { ...run.params },
    gitCommit: run.gitCommit,
    promotedBy: who,
    promotedAt: request.now ?? Date.now(),
  };
  await writeModelRef(repoRoot, model, request.author);
  return model;
}

function chooseArtifact<T extends { path: string }>(runId: string, artifacts: readonly T[], wanted: string | undefined): T {
  const paths = artifacts.map((artifact) => artifact.path).join(', ');
  if (wanted !== undefined) {
    const found = artifacts.find((artifact) => artifact.path === wanted.replace(/^\.\//, ''));
    if (!found) throw new UserError(`run ${runId} has no artifact ${wanted}${paths ? ` (its artifacts: ${paths})` : ' (it recorded none)'}`);
    return found;
  }
  if (artifacts.length === 1) return artifacts[0]!;
  if (artifacts.length === 0) throw new UserError(`run ${runId} recorded no artifact to promote (declare the model file in the task's outputs)`);
  throw new UserError(`run ${runId} has ${artifacts.length} artifacts (${paths}): choose one with --artifact PATH`);
}

/** blob → tree → commit → ref, the ref created only if it does not exist yet. */
async function writeModelRef(repoRoot: string, model: ModelVersion, author: { name: string; email: string }): Promise<void> {
  const clean = (text: string) => text.replace(/[<>\n]/g, '');
  const seconds = `${Math.floor(model.promotedAt / 1000)} +0000`;
  const env = {
    GIT_AUTHOR_NAME: clean(author.name),
    GIT_AUTHOR_EMAIL: clean(author.email),
    GIT_AUTHOR_DATE: seconds,
    GIT_COMMITTER_NAME: clean(author.name),
    GIT_COMMITTER_EMAIL: clean(author.email),
    GIT_COMMITTER_DATE: seconds,
  };
  const blob = (await git(['hash-object', '-w', '--stdin'], { cwd: repoRoot, input: `${JSON.stringify(model, null, 2)}\n` })).stdout.trim();
  const tree = (await git(['mktree'], { cwd: repoRoot, input: `100644 blob ${blob}\tmodel.json\n` })).stdout.trim();
  const message = `mlw model ${modelLabel(model)}: ${model.artifact.path} of run ${model.runId}`;
  const commit = (await git(['commit-tree', tree, '-m', message], { cwd: repoRoot, env })).stdout.trim();
  const ref = modelRef(model.name, model.version);
  await git(['update-ref', ref, commit, NO_OBJECT], { cwd: repoRoot }).catch(() => {
    throw new UserError(`${modelLabel(model)} was recorded by someone else meanwhile (${ref} exists): promote again`);
  });
}
