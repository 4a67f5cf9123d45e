/**
 * Sync with a remote: fetch, pull (fast-forward only unless rebase is asked for), push (setting the
 * upstream on the first push; never forcing). git's stderr is classified into specific errors:
 * no remote, authentication failure, unreachable remote, non-fast-forward, detached HEAD.
 */
import type { GitErrorCode, HeadState, StashOutcome } from '../../../schemas/protocol/git';
import { GitError, listFiles } from './errors';
import { checkRemote } from './refs';
import { conflictedFiles, configValue, headState, readGit, remotes, upstreamOf, writeGit, type Repo } from './repo';
import { GitCommandError } from './runner';
import { guarded } from './safety';

export interface Progress {
  (message: string, percent: number | null): void;
}

const CLASSIFIERS: ReadonlyArray<[GitErrorCode, RegExp]> = [
  [
    'authentication-failed',
    /Authentication failed|could not read (Username|Password)|terminal prompts disabled|Permission denied \((publickey|password)|HTTP Basic: Access denied|returned error: 40[13]|Invalid username or password|access denied/i,
  ],
  [
    'unreachable-remote',
    /Could not resolve host|Connection refused|Connection timed out|Failed to connect|Couldn't connect|No route to host|Network is unreachable|does not appear to be a git repository|Could not read from remote repository|unable to access|repository '.*' not found|not found: did you run git update-server-info/i,
  ],
  ['non-fast-forward', /\[rejected\]|non-fast-forward|\(fetch first\)|Updates were rejected/i],
];

/** Which specific failure git's output describes ('git-failed' when none). */
export function classifyGitFailure(output: string): GitErrorCode {
  for (const [code, pattern] of CLASSIFIERS) if (pattern.test(output)) return code;
  return 'git-failed';
}

const ADVICE: Partial<Record<GitErrorCode, string>> = {
  'authentication-failed': 'check your credentials (credential helper, ssh key) for this remote',
  'unreachable-remote': 'check the remote URL and your network',
  'non-fast-forward': 'the remote has commits you do not have: pull first, then push again',
};

function syncError(error: unknown, what: string, remote: string): unknown {
  if (!(error instanceof GitCommandError)) return error;
  const output = `${error.stderr}\n${error.stdout}`;
  const code = classifyGitFailure(output);
  const gitMessage = lastMeaningfulLines(error.stderr || error.stdout);
  const advice = ADVICE[code];
  return new GitError(code, `${what} ${remote} failed: ${gitMessage}${advice ? ` (${advice})` : ''}`, [], error.stderr.trim());
}

function lastMeaningfulLines(text: string): string {
  const lines = text
    .split(/[\r\n]/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^(hint:|remote: (Counting|Compressing|Enumerating|Total))/.test(line) && !/\d+% \(/.test(line));
  return lines.slice(-3).join('; ').replace(/(^|; )(fatal|error): /g, '$1');
}

/** The remote to use: the one given, else the current branch's upstream remote, else origin, else the only one. */
export async function chooseRemote(repo: Repo, given: string | undefined): Promise<string> {
  if (given !== undefined) return checkRemote(repo, given);
  const known = await remotes(repo);
  if (known.length === 0) throw new GitError('no-remote', `${repo.root} has no remote: add one with git remote add <name> <url>`);
  const head = await headState(repo);
  if (head.kind !== 'detached') {
    const upstream = await configValue(repo, `branch.${head.name}.remote`);
    if (upstream !== undefined && known.includes(upstream)) return upstream;
  }
  if (known.includes('origin')) return 'origin';
  if (known.length === 1) return known[0]!;
  throw new GitError('no-remote', `${repo.root} has several remotes (${known.join(', ')}) and no upstream: choose one`);
}

function progressLines(progress: Progress | undefined): ((line: string) => void) | undefined {
  if (!progress) return undefined;
  return (line) => {
    const percent = /(\d{1,3})% \(/.exec(line);
    progress(line.replace(/^remote: /, '').trim(), percent ? Math.min(100, Number(percent[1])) : null);
  };
}

export async function fetchRemote(repo: Repo, options: { remote?: string | undefined; prune: boolean; progress?: Progress }): Promise<{ remote: string }> {
  const remote = await chooseRemote(repo, options.remote);
  const onStderrLine = progressLines(options.progress);
  try {
    await writeGit(repo, ['fetch', '--progress', ...(options.prune ? ['--prune'] : []), '--end-of-options', remote], {
      ...(onStderrLine ? { onStderrLine } : {}),
    });
  } catch (error) {
    throw syncError(error, 'fetching from', remote);
  }
  return { remote };
}

async function currentBranch(repo: Repo, what: string): Promise<Extract<HeadState, { kind: 'branch' }>> {
  const head = await headState(repo);
  if (head.kind === 'detached') {
    throw new GitError('detached-head', `cannot ${what}: HEAD is detached (at ${head.sha.slice(0, 7)}); switch to a branch first`);
  }
  if (head.kind === 'unborn') throw new GitError('no-commits', `cannot ${what}: '${head.name}' has no commits yet`);
  return head;
}

export async function pullBranch(
  repo: Repo,
  options: { remote?: string | undefined; rebase: boolean; stash: boolean; progress?: Progress },
): Promise<{ outcome: 'up-to-date' | 'fast-forward' | 'rebased'; head: HeadState; stash: StashOutcome | null }> {
  const head = await currentBranch(repo, 'pull');
  const remote = await chooseRemote(repo, options.remote);
  const configuredRemote = await configValue(repo, `branch.${head.name}.remote`);
  let upstream = configuredRemote === remote ? await upstreamOf(repo, head.name) : null;
  await fetchRemote(repo, { remote, prune: false, ...(options.progress ? { progress: options.progress } : {}) });
  if (upstream === null) {
    // No upstream on this remote: the branch of the same name there, if it exists.
    const sameName = `refs/remotes/${remote}/${head.name}`;
    const exists = await readGit(repo, ['show-ref', '--verify', '-q', '--', sameName], { okCodes: [1] });
    if (exists.exitCode !== 0) {
      throw new GitError('no-upstream', `'${head.name}' has no upstream and ${remote} has no branch '${head.name}': push it first`);
    }
    upstream = sameName;
  }
  const target = upstream;
  const result = await guarded(repo, { label: `pull ${head.name}`, stash: options.stash }, async () => {
    const before = (await currentBranch(repo, 'pull')).sha;
    if (options.rebase) await rebaseOnto(repo, target);
    else await fastForward(repo, target, head.name);
    const after = (await currentBranch(repo, 'pull')).sha;
    if (after === before) return 'up-to-date' as const;
    return options.rebase ? ('rebased' as const) : ('fast-forward' as const);
  });
  return { outcome: result.value, head: await headState(repo), stash: result.stash };
}

async function fastForward(repo: Repo, target: string, branch: string): Promise<void> {
  const { exitCode } = await readGit(repo, ['merge-base', '--is-ancestor', '--end-of-options', 'HEAD', target], { okCodes: [1] });
  if (exitCode !== 0) {
    throw new GitError(
      'diverged',
      `'${branch}' and ${target.replace(/^refs\/remotes\//, '')} have diverged: it cannot be fast-forwarded (pull with rebase, or merge)`,
    );
  }
  await writeGit(repo, ['merge', '--ff-only', '--quiet', '--end-of-options', target]);
}

/** Rebases the current branch onto `target`; on conflicts aborts (the branch is as it was) and lists them. */
async function rebaseOnto(repo: Repo, target: string): Promise<void> {
  try {
    await writeGit(repo, ['rebase', '--quiet', '--end-of-options', target]);
  } catch (error) {
    if (!(error instanceof GitCommandError)) throw error;
    const conflicts = await conflictedFiles(repo);
    await writeGit(repo, ['rebase', '--abort'], { okCodes: [1, 128] });
    throw new GitError(
      'merge-conflict',
      `rebasing onto ${target.replace(/^refs\/remotes\//, '')} conflicts; nothing was changed. Conflicting files:\n${listFiles(conflicts)}`,
      conflicts,
      error.stderr.trim(),
    );
  }
}

export async function pushBranch(
  repo: Repo,
  options: { remote?: string | undefined; progress?: Progress },
): Promise<{ remote: string; branch: string; upstreamSet: boolean }> {
  const head = await currentBranch(repo, 'push');
  const remote = await chooseRemote(repo, options.remote);
  const configuredRemote = await configValue(repo, `branch.${head.name}.remote`);
  const merge = configuredRemote === remote ? await configValue(repo, `branch.${head.name}.merge`) : undefined;
  const destination = merge?.startsWith('refs/heads/') ? merge : `refs/heads/${head.name}`;
  const setUpstream = merge === undefined;
  const onStderrLine = progressLines(options.progress);
  try {
    await writeGit(
      repo,
      ['push', '--progress', '--porcelain', ...(setUpstream ? ['--set-upstream'] : []), '--end-of-options', remote, `refs/heads/${head.name}:${destination}`],
      { ...(onStderrLine ? { onStderrLine } : {}) },
    );
  } catch (error) {
    throw syncError(error, 'pushing to', remote);
  }
  return { remote, branch: head.name, upstreamSet: setUpstream };
}
