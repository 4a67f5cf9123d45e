/**
 * Push runs to the team and pull the team's runs, through the branch's git remote.
 *
 * Push: every finished run asked for (default: all finished runs of this workspace that are not
 * teammates' runs) gets its record written under refs/mlw/runs/<id> if it has none yet, then one
 * atomic `git push` of refs/mlw/runs/*: git sends only objects the remote lacks and skips refs it
 * already has, so nothing is pushed twice, and an interrupted push is completed by running it again
 * (`--atomic`: the remote takes every ref or none).
 * Pull: `git fetch` of refs/mlw/runs/*, then each record not in the local store is added to it,
 * tagged `remote`, with its metrics, inputs and artifacts.
 *
 * Artifacts go to the data remote (results/artifacts.ts) before any ref is pushed, so a published run
 * never names an object the remote lacks; a pull fetches the pulled runs' artifacts into the cache.
 */
import { FINAL_STATUSES } from '../../../schemas/protocol/runs';
import { UserError } from '../errors';
import { git } from '../runs/git';
import type { Logger } from '../context';
import type { RunStore } from '../runs/store';
import { fetchArtifacts, uploadArtifacts, type ArtifactRef, type ArtifactTransfer } from './artifacts';
import { REMOTE_TAG, RUNS_REF_PREFIX, runRef, toPublished, type PublishedRun } from './record';
import type { ModelVersion } from '../../../schemas/protocol/results';
import { listModelRefs, listModels, modelLabel, modelRef, MODELS_REF_PREFIX, promoteModel } from './models';
import { listRunRefs, readRunRefs, writeRunRefs } from './refs';

export interface PushReport {
  readonly remote: string;
  /** Runs whose record was written now (first push). */
  readonly recorded: readonly string[];
  /** Refs the remote did not have before this push. */
  readonly published: readonly string[];
  /** Model versions (`name v2`) the remote did not have before. */
  readonly models: readonly string[];
  /** Commits of published runs that no remote-tracking branch of the remote holds: teammates cannot reproduce those runs until they are pushed. */
  readonly unpushedCommits: readonly string[];
  /** The published runs' artifacts on the data remote (uploaded before any ref was pushed). */
  readonly artifacts: ArtifactTransfer;
}

export interface PullReport {
  readonly remote: string;
  readonly imported: readonly string[];
  /** Model versions (`name v2`) fetched now. */
  readonly models: readonly string[];
  /** The imported runs' artifacts fetched into the cache (failures listed; the records are in). */
  readonly artifacts: ArtifactTransfer & { readonly failed: readonly { md5: string; error: string }[] };
}

export interface PublishOptions {
  readonly remote?: string;
  /** The workspace folder whose data cache and `.dvc/config` hold the artifacts (default: the repository root). */
  readonly workspaceRoot?: string;
  readonly log?: Logger;
}

const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The artifacts of runs the remote already has, from their records here (one `cat-file --batch`):
 * published before a data remote was configured, they are uploaded now if the remote lacks them.
 */
async function publishedArtifacts(repoRoot: string, ids: readonly string[]): Promise<ArtifactRef[]> {
  const local = new Set(await listRunRefs(repoRoot));
  const records = await readRunRefs(repoRoot, ids.filter((id) => local.has(id)));
  return records.flatMap((record) =>
    record.artifacts.map((artifact) => ({ runId: record.id, path: artifact.path, md5: artifact.md5, alreadyPublished: true })),
  );
}

/** The artifacts of the runs `ids`, from the records at hand or else the store. */
async function artifactsOf(store: RunStore, ids: readonly string[], known: readonly PublishedRun[]): Promise<ArtifactRef[]> {
  const byId = new Map(known.map((run) => [run.id, run]));
  const refs: ArtifactRef[] = [];
  for (const id of ids) {
    const run = byId.get(id) ?? (await store.get(id));
    for (const artifact of run?.artifacts ?? []) refs.push({ runId: id, path: artifact.path, md5: artifact.md5 });
  }
  return refs;
}

/** The remote a push or pull goes to: the one asked for, else the branch's upstream, else the only one. */
export async function chooseRemote(repoRoot: string, requested?: string): Promise<string> {
  const { stdout } = await git(['remote'], { cwd: repoRoot });
  const remotes = stdout.split('\n').filter(Boolean);
  if (requested !== undefined) {
    if (!remotes.includes(requested)) {
      throw new UserError(`no git remote named ${requested} (remotes: ${remotes.join(', ') || 'none'})`);
    }
    return requested;
  }
  const upstream = await git(['rev-parse', '--abbrev-ref', '--symbolic-full-name', '@{upstream}'], {
    cwd: repoRoot,
    okCodes: [128],
  });
  const upstreamRemote = upstream.code === 0 ? upstream.stdout.trim().split('/')[0] : undefined;
  if (upstreamRemote && remotes.includes(upstreamRemote)) return upstreamRemote;
  if (remotes.includes('origin')) return 'origin';
  if (remotes.length === 1) return remotes[0]!;
  if (remotes.length === 0)
    throw new UserError(
      'this repository has no git remote to publish runs to: add one with `git remote add origin URL`',
    );
  throw new UserError(
    `several git remotes (${remotes.join(', ')}) and no upstream for this branch: choose one with --remote`,
  );
}

async function publisher(repoRoot: string): Promise<{ name: string; email: string }> {
  const read = async (key: string) =>
    (await git(['config', '--get', key], { cwd: repoRoot, okCodes: [1] })).stdout.trim();
  const [name, email] = await Promise.all([read('user.name'), read('user.email')]);
  return { name: name || 'mlw', email: email || 'mlw@localhost' };
}

/** The refs under refs/mlw/ the remote has (runs and models), as full ref names. */
async function remoteMlwRefs(repoRoot: string, remote: string): Promise<Set<string>> {
  const { stdout } = await git(['ls-remote', '--refs', remote, `${RUNS_REF_PREFIX}*`, `${MODELS_REF_PREFIX}*`], { cwd: repoRoot }).catch(
    (error: Error) => {
      throw new UserError(`cannot reach the git remote ${remote}: ${error.message}`);
    },
  );
  return new Set(
    stdout
      .split('\n')
      .map((line) => line.split('\t')[1])
      .filter((ref): ref is string => ref !== undefined && ref.startsWith('refs/mlw/')),
  );
}

export async function pushRuns(
  store: RunStore,
  repoRoot: string,
  options: PublishOptions & { runIds?: readonly string[] } = {},
): Promise<PushReport> {
  const remote = await chooseRemote(repoRoot, options.remote);
  const candidates =
    options.runIds && options.runIds.length > 0
      ? await Promise.all(options.runIds.map((prefix) => store.resolveId(prefix)))
      : (await store.list({ status: [...FINAL_STATUSES] }))
          .filter((run) => !run.tags.includes(REMOTE_TAG))
          .map((run) => run.id);
  const existing = new Set(await listRunRefs(repoRoot));
  const toRecord: PublishedRun[] = [];
  const author = await publisher(repoRoot);
  for (const id of candidates) {
    if (existing.has(id)) continue;
    const record = await store.get(id);
    if (!record) continue;
    if (!FINAL_STATUSES.includes(record.status)) {
      throw new UserError(`run ${id} is ${record.status}: only finished runs can be pushed`);
    }
    toRecord.push(toPublished(record, await store.metrics(id), `${author.name} <${author.email}>`));
  }
  await writeRunRefs(repoRoot, toRecord, author);
  const before = await remoteMlwRefs(repoRoot, remote);
  const wanted = candidates.filter((id) => !before.has(runRef(id)));
  const modelRefs = await listModelRefs(repoRoot);
  const wantedModels = (await listModels(repoRoot)).filter((model) => !before.has(modelRef(model.name, model.version)));
  // Artifacts first: a failure here throws before any ref leaves this repository.
  const artifacts = await uploadArtifacts(
    options.workspaceRoot ?? repoRoot,
    [
      ...(await artifactsOf(store, wanted, toRecord)),
      ...(await publishedArtifacts(repoRoot, candidates.filter((id) => before.has(runRef(id))))),
      ...wantedModels.map((model) => ({ runId: model.runId, path: model.artifact.path, md5: model.artifact.md5 })),
    ],
    options.log ?? silent,
  );
  if (wanted.length > 0 || wantedModels.length > 0) {
    // Everything: one wildcard refspec (git matches 1,000 explicit refspecs in quadratic time, ~5 s).
    const refspecs = [
      ...(wanted.length === 0
        ? []
        : options.runIds && options.runIds.length > 0
          ? wanted.map((id) => `${runRef(id)}:${runRef(id)}`)
          : [`${RUNS_REF_PREFIX}*:${RUNS_REF_PREFIX}*`]),
      ...(modelRefs.length > 0 ? [`${MODELS_REF_PREFIX}*:${MODELS_REF_PREFIX}*`] : []),
    ];
    await git(['push', '--atomic', '--quiet', remote, ...refspecs], { cwd: repoRoot }).catch((error: Error) => {
      throw new UserError(
        `pushing run records${modelRefs.length > 0 ? ' and models' : ''} to ${remote} failed; nothing was published, run \`mlw push\` again once the cause is fixed (a model version refused as existing: a teammate promoted the same number; see docs/results.md): ${error.message}`,
      );
    });
  }
  return {
    remote,
    recorded: toRecord.map((run) => run.id),
    published: wanted,
    artifacts,
    models: wantedModels.map(modelLabel),
    unpushedCommits: await commitsNotOn(repoRoot, remote, await commitsOf(store, wanted, toRecord)),
  };
}

async function commitsOf(store: RunStore, ids: readonly string[], known: readonly PublishedRun[]): Promise<string[]> {
  const byId = new Map(known.map((run) => [run.id, run]));
  const commits = new Set<string>();
  for (const id of ids) {
    const commit = (byId.get(id) ?? (await store.get(id)))?.gitCommit;
    if (commit) commits.add(commit);
  }
  return [...commits];
}

/** Those of `commits` no remote-tracking branch of `remote` contains (as last fetched). */
async function commitsNotOn(repoRoot: string, remote: string, commits: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const commit of commits) {
    const { stdout, code } = await git(['for-each-ref', '--count=1', '--contains', commit, `refs/remotes/${remote}/`], {
      cwd: repoRoot,
      okCodes: [1, 128, 129],
    });
    if (code !== 0 || stdout.trim() === '') missing.push(commit);
  }
  return missing;
}

export async function pullRuns(
  store: RunStore,
  repoRoot: string,
  options: PublishOptions = {},
): Promise<PullReport> {
  const remote = await chooseRemote(repoRoot, options.remote);
  const modelsBefore = new Set((await listModelRefs(repoRoot)).map((entry) => entry.ref));
  // No `+`: a record never changes, so a ref that would be rewritten is refused, not overwritten.
  // Not --quiet: a refused ref is named only in git's report (kept for the error, never shown otherwise).
  await git(['fetch', remote, `${RUNS_REF_PREFIX}*:${RUNS_REF_PREFIX}*`, `${MODELS_REF_PREFIX}*:${MODELS_REF_PREFIX}*`], {
    cwd: repoRoot,
  }).catch((error: Error) => {
    const clash = /refs\/mlw\/models\/([^/\s]+)\/v(\d+)/.exec(error.message);
    const hint = clash
      ? ` (${clash[1]} v${clash[2]} here differs from the team's: it was promoted here and not pushed; \`git update-ref -d refs/mlw/models/${clash[1]}/v${clash[2]}\`, pull, then promote again)`
      : '';
    throw new UserError(`fetching run records and models from ${remote} failed${hint}: ${error.message}`);
  });
  const newModels = (await listModels(repoRoot)).filter((model) => !modelsBefore.has(modelRef(model.name, model.version)));
  const ids = await listRunRefs(repoRoot);
  const missing: string[] = [];
  for (const id of ids) if (!(await store.get(id))) missing.push(id);
  const records = await readRunRefs(repoRoot, missing);
  const missingSet = new Set(missing);
  for (const record of records) await importRun(store, record);
  const artifacts = await fetchArtifacts(
    options.workspaceRoot ?? repoRoot,
    [
      // Runs pulled before, too: pulled when no data remote was configured, their artifacts come now.
      ...[...records, ...(await readRunRefs(repoRoot, ids.filter((id) => !missingSet.has(id))))].flatMap((record) =>
        record.artifacts.map((artifact) => ({ runId: record.id, path: artifact.path, md5: artifact.md5 })),
      ),
      ...newModels.map((model) => ({ runId: model.runId, path: model.artifact.path, md5: model.artifact.md5 })),
    ],
    options.log ?? silent,
  );
  return { remote, imported: records.map((record) => record.id), models: newModels.map(modelLabel), artifacts };
}

/**
 * Promotes a run's artifact to the next version of a model, after a best-effort fetch of the
 * team's model refs (so the number follows what the team has; offline, it follows what is here).
 */
export async function promoteRunModel(
  store: RunStore,
  repoRoot: string,
  request: { runId: string; name: string; artifact?: string; remote?: string },
): Promise<ModelVersion> {
  const remote = await chooseRemote(repoRoot, request.remote).catch(() => undefined);
  if (remote) {
    await git(['fetch', '--quiet', remote, `${MODELS_REF_PREFIX}*:${MODELS_REF_PREFIX}*`], { cwd: repoRoot }).catch(() => undefined);
  }
  return promoteModel(store, repoRoot, {
    runId: request.runId,
    name: request.name,
    ...(request.artifact !== undefined ? { artifact: request.artifact } : {}),
    author: await publisher(repoRoot),
  });
}

/** Adds a teammate's run to the local store, through the same transitions a local run makes. */
async function importRun(store: RunStore, run: PublishedRun): Promise<void> {
  await store.create({
    id: run.id,
    name: run.name,
    task: run.task,
    dagFile: run.dagFile,
    dagRunId: run.dagRunId,
    command: run.command,
    workdir: run.workdir,
    environment: run.environment,
    executor: run.executor,
    priority: run.priority,
    slotClass: 'cpu',
    params: run.params,
    resources: run.resources,
    outputs: run.outputs,
    gitCommit: run.gitCommit,
    gitBranch: run.gitBranch,
    owner: `remote:${run.publishedBy}`,
    spec: { kind: 'remote', publishedBy: run.publishedBy },
    createdAt: run.createdAt,
  });
  if (run.startedAt !== null) await store.transition(run.id, 'running', { at: run.startedAt });
  await store.transition(run.id, run.status, {
    at: run.endedAt ?? run.startedAt ?? run.createdAt,
    reason: run.statusReason,
    exitCode: run.exitCode,
    oomKilled: run.oomKilled,
  });
  await store.recordExecution(run.id, {
    image: run.image,
    environmentDigest: run.environmentDigest,
    gitTree: run.gitTree,
    gitDiff: run.gitDiff,
  });
  await store.recordInputs(run.id, run.inputs);
  await store.recordArtifacts(run.id, run.artifacts);
  await store.appendMetrics(
    run.id,
    run.metrics.flatMap((series) =>
      series.points.map((point) => ({ name: series.name, step: point.step, value: point.value })),
    ),
    run.endedAt ?? run.createdAt,
  );
  await store.setTags(run.id, [...run.tags, REMOTE_TAG]);
  if (run.note !== null) await store.setNote(run.id, run.note);
}
