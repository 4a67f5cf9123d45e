/**
 * Names from the user (branch names, refs to start from, remotes) are checked before git sees them:
 * a value starting with `-` is refused outright (it could be read as an option: `--upload-pack=x`,
 * `-oProxyCommand=x`), branch names must pass git's own `check-ref-format --branch`, and every git
 * call that takes a user value puts `--end-of-options` (or `--`) before it as a second guard.
 */
import { GitError } from './errors';
import { readGit, remotes, resolveCommit, type Repo } from './repo';

/** Refuses values git could take for an option, and control characters (never valid in refs). */
export function refuseOptionLike(value: string, what: string): void {
  if (value.startsWith('-')) {
    throw new GitError('invalid-name', `${what} '${value}' starts with '-': refused, it could be read as an option`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new GitError('invalid-name', `${what} ${JSON.stringify(value)} contains a control character`);
  }
}

/** A branch name as git's rules accept it (`check-ref-format --branch`); returns git's normalised name. */
export async function checkBranchName(repo: Repo, name: string): Promise<string> {
  refuseOptionLike(name, 'branch name');
  if (name.startsWith('@') || name === 'HEAD' || name.includes('@{')) {
    throw new GitError('invalid-name', `'${name}' is not a valid branch name`);
  }
  const { stdout, exitCode } = await readGit(repo, ['check-ref-format', '--branch', name], { okCodes: [1, 128] });
  if (exitCode !== 0) throw new GitError('invalid-name', `'${name}' is not a valid branch name (git check-ref-format)`);
  const normalised = stdout.trim();
  if (normalised !== name) throw new GitError('invalid-name', `'${name}' is not a valid branch name (git reads it as '${normalised}')`);
  return normalised;
}

/** A ref or revision to start from (`main`, `origin/x`, `v1.0`, a sha): must resolve to a commit. */
export async function checkStartPoint(repo: Repo, ref: string): Promise<string> {
  refuseOptionLike(ref, 'ref');
  const sha = await resolveCommit(repo, ref);
  if (sha === null) throw new GitError('unknown-ref', `'${ref}' is not a branch, tag or commit of ${repo.root}`);
  return sha;
}

/** A remote that exists in the repository (the name is only ever compared, then passed after --end-of-options). */
export async function checkRemote(repo: Repo, remote: string): Promise<string> {
  refuseOptionLike(remote, 'remote');
  const known = await remotes(repo);
  if (known.length === 0) throw new GitError('no-remote', `${repo.root} has no remote: add one with git remote add`);
  if (!known.includes(remote)) {
    throw new GitError('no-remote', `${repo.root} has no remote '${remote}' (remotes: ${known.join(', ')})`);
  }
  return remote;
}

/** Whether a local branch exists. */
export async function localBranchExists(repo: Repo, name: string): Promise<boolean> {
  const { exitCode } = await readGit(repo, ['show-ref', '--verify', '-q', '--', `refs/heads/${name}`], { okCodes: [1] });
  return exitCode === 0;
}

/** Whether a remote-tracking branch exists (`origin/x`). */
export async function remoteBranchExists(repo: Repo, name: string): Promise<boolean> {
  const { exitCode } = await readGit(repo, ['show-ref', '--verify', '-q', '--', `refs/remotes/${name}`], { okCodes: [1] });
  return exitCode === 0;
}
