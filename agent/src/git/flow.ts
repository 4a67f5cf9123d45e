/**
 * git-flow: feature branches off develop, release branches off develop, hotfix branches off main.
 * Finishing a feature merges it into develop; finishing a release or hotfix merges it into main,
 * tags the version there, and merges the tag back into develop. Prefixes and base branches come
 * from the request, else git-flow's own `gitflow.*` config keys, else git-flow's defaults.
 * A finish is all or nothing: on any failure every branch, tag and HEAD is put back.
 */
import type { FlowConfig, FlowKind, HeadState, StashOutcome } from '../../../schemas/protocol/git';
import { GitError, listFiles } from './errors';
import { createBranch, gitFailure } from './operations';
import { checkBranchName, localBranchExists, refuseOptionLike } from './refs';
import { conflictedFiles, configValue, headState, operationInProgress, readGit, refValue, writeGit, type Repo } from './repo';
import { guarded } from './safety';

export interface ResolvedFlowConfig {
  readonly mainBranch: string;
  readonly developBranch: string;
  readonly featurePrefix: string;
  readonly releasePrefix: string;
  readonly hotfixPrefix: string;
  readonly tagPrefix: string;
}

export async function resolveFlowConfig(repo: Repo, given: FlowConfig = {}): Promise<ResolvedFlowConfig> {
  const fromConfig = async (key: string): Promise<string | undefined> => configValue(repo, `gitflow.${key}`);
  const main = given.mainBranch ?? (await fromConfig('branch.master')) ?? ((await localBranchExists(repo, 'main')) || !(await localBranchExists(repo, 'master')) ? 'main' : 'master');
  const resolved: ResolvedFlowConfig = {
    mainBranch: main,
    developBranch: given.developBranch ?? (await fromConfig('branch.develop')) ?? 'develop',
    featurePrefix: given.featurePrefix ?? (await fromConfig('prefix.feature')) ?? 'feature/',
    releasePrefix: given.releasePrefix ?? (await fromConfig('prefix.release')) ?? 'release/',
    hotfixPrefix: given.hotfixPrefix ?? (await fromConfig('prefix.hotfix')) ?? 'hotfix/',
    tagPrefix: given.tagPrefix ?? (await fromConfig('prefix.versiontag')) ?? '',
  };
  for (const [key, value] of Object.entries(resolved)) refuseOptionLike(value, `git-flow ${key}`);
  return resolved;
}

function prefixOf(kind: FlowKind, config: ResolvedFlowConfig): string {
  return kind === 'feature' ? config.featurePrefix : kind === 'release' ? config.releasePrefix : config.hotfixPrefix;
}

function baseOf(kind: FlowKind, config: ResolvedFlowConfig): string {
  return kind === 'hotfix' ? config.mainBranch : config.developBranch;
}

async function requireBranch(repo: Repo, name: string, role: string): Promise<void> {
  if (!(await localBranchExists(repo, name))) {
    throw new GitError('unknown-ref', `the ${role} branch '${name}' does not exist in ${repo.root}: create it (mlw branch create ${name} <from>) or configure another`);
  }
}

export async function flowStart(
  repo: Repo,
  options: { kind: FlowKind; name: string; config?: FlowConfig | undefined; stash: boolean },
): Promise<{ branch: string; base: string; head: HeadState; stash: StashOutcome | null }> {
  const config = await resolveFlowConfig(repo, options.config);
  refuseOptionLike(options.name, `${options.kind} name`);
  const branch = await checkBranchName(repo, `${prefixOf(options.kind, config)}${options.name}`);
  const base = baseOf(options.kind, config);
  await requireBranch(repo, base, options.kind === 'hotfix' ? 'main' : 'develop');
  const created = await createBranch(repo, { name: branch, from: `refs/heads/${base}`, checkout: true, stash: options.stash });
  return { branch, base, head: created.head, stash: created.stash };
}

/** Where everything a finish may move was before it started. */
interface Snapshot {
  readonly head: HeadState;
  readonly refs: ReadonlyMap<string, string>;
}

async function snapshot(repo: Repo, branches: readonly string[]): Promise<Snapshot> {
  const refs = new Map<string, string>();
  for (const branch of branches) {
    const sha = await refValue(repo, `refs/heads/${branch}`);
    if (sha !== null) refs.set(branch, sha);
  }
  return { head: await headState(repo), refs };
}

/** Puts every branch and HEAD back; removes a tag this finish created. The tree was clean when it started. */
async function rollback(repo: Repo, before: Snapshot, createdTag: string | null): Promise<void> {
  if (operationInProgress(repo) === 'merge') await writeGit(repo, ['merge', '--abort'], { okCodes: [128] });
  const now = await headState(repo);
  if (now.kind === 'branch' && before.refs.has(now.name)) {
    await writeGit(repo, ['reset', '--hard', '--quiet', before.refs.get(now.name)!]);
  }
  for (const [branch, sha] of before.refs) {
    await writeGit(repo, ['update-ref', '-m', 'mlw: roll back git-flow finish', `refs/heads/${branch}`, sha]);
  }
  if (before.head.kind === 'branch') await writeGit(repo, ['switch', '--quiet', '--no-guess', '--end-of-options', before.head.name]);
  else if (before.head.kind === 'detached') await writeGit(repo, ['switch', '--quiet', '--detach', before.head.sha]);
  if (createdTag !== null) await writeGit(repo, ['tag', '--delete', '--end-of-options', createdTag], { okCodes: [1] });
}

async function mergeNoFf(repo: Repo, what: string, into: string, message: string): Promise<void> {
  await writeGit(repo, ['switch', '--quiet', '--no-guess', '--end-of-options', into]);
  try {
    await writeGit(repo, ['merge', '--no-ff', '--quiet', '-m', message, '--end-of-options', what]);
  } catch (error) {
    if (operationInProgress(repo) === 'merge') {
      const conflicts = await conflictedFiles(repo);
      throw new GitError(
        'merge-conflict',
        `merging ${what} into ${into} conflicts; nothing was changed. Merge ${into} into ${what} and resolve these first:\n${listFiles(conflicts)}`,
        conflicts,
      );
    }
    throw gitFailure(error, `cannot merge ${what} into ${into}`);
  }
}

export async function flowFinish(
  repo: Repo,
  options: { kind: FlowKind; name: string; config?: FlowConfig | undefined; tagMessage?: string | undefined; keepBranch: boolean; stash: boolean },
): Promise<{ branch: string; mergedInto: string[]; tag: string | null; deleted: boolean; head: HeadState; stash: StashOutcome | null }> {
  const config = await resolveFlowConfig(repo, options.config);
  refuseOptionLike(options.name, `${options.kind} name`);
  const branch = await checkBranchName(repo, `${prefixOf(options.kind, config)}${options.name}`);
  await requireBranch(repo, branch, options.kind);
  await requireBranch(repo, config.developBranch, 'develop');
  const tagged = options.kind !== 'feature';
  if (tagged) await requireBranch(repo, config.mainBranch, 'main');
  const tag = tagged ? await checkTagName(repo, `${config.tagPrefix}${options.name}`) : null;

  const result = await guarded(repo, { label: `finish ${branch}`, stash: options.stash }, async () => {
    const before = await snapshot(repo, [branch, config.mainBranch, config.developBranch]);
    let createdTag: string | null = null;
    try {
      const mergedInto: string[] = [];
      if (tag === null) {
        await mergeNoFf(repo, branch, config.developBranch, `Merge branch '${branch}' into ${config.developBranch}`);
        mergedInto.push(config.developBranch);
      } else {
        await mergeNoFf(repo, branch, config.mainBranch, `Merge branch '${branch}' into ${config.mainBranch}`);
        mergedInto.push(config.mainBranch);
        await writeGit(repo, ['tag', '--annotate', '--message', options.tagMessage ?? `${options.kind} ${options.name}`, '--end-of-options', tag, 'HEAD']);
        createdTag = tag;
        await mergeNoFf(repo, `refs/tags/${tag}`, config.developBranch, `Merge tag '${tag}' into ${config.developBranch}`);
        mergedInto.push(config.developBranch);
      }
      if (!options.keepBranch) await writeGit(repo, ['branch', '--delete', '--force', '--end-of-options', branch]);
      return mergedInto;
    } catch (error) {
      await rollback(repo, before, createdTag);
      throw error;
    }
  });
  return { branch, mergedInto: result.value, tag, deleted: !options.keepBranch, head: await headState(repo), stash: result.stash };
}

async function checkTagName(repo: Repo, tag: string): Promise<string> {
  refuseOptionLike(tag, 'tag');
  const { exitCode } = await readGit(repo, ['check-ref-format', `refs/tags/${tag}`], { okCodes: [1] });
  if (exitCode !== 0) throw new GitError('invalid-name', `'${tag}' is not a valid tag name`);
  if ((await refValue(repo, `refs/tags/${tag}`)) !== null) throw new GitError('already-exists', `the tag '${tag}' already exists`);
  return tag;
}
