/**
 * Listing branches: one `git for-each-ref` gives every local and remote-tracking branch with its
 * upstream, ahead/behind (`%(upstream:track)`; git 2.39 has no `%(ahead-behind:…)`) and last commit;
 * one more with `--merged=<default branch>` marks what is merged. Both are read-profile calls.
 */
import type { Branch, BranchList } from '../../../schemas/protocol/git';
import { relativeDate } from './relative-date';
import { defaultBranch, headState, readGit, type Repo } from './repo';

const FIELDS = [
  '%(refname)',
  '%(HEAD)',
  '%(objectname)',
  '%(objectname:short)',
  '%(upstream)',
  '%(upstream:track,nobracket)',
  '%(committerdate:unix)',
  '%(authorname)',
  '%(symref)',
  '%(subject)',
] as const;
/** Fields separated by NUL, records by newline (a subject never holds a newline). */
export const BRANCH_FORMAT = FIELDS.join('%00');

export interface ListOptions {
  readonly includeRemote: boolean;
  /** The clock for relative dates (tests pass a fixed one). */
  readonly now?: number;
}

export async function listBranches(repo: Repo, options: ListOptions): Promise<BranchList> {
  const patterns = options.includeRemote ? ['refs/heads', 'refs/remotes'] : ['refs/heads'];
  // The merged-or-not check does not need the full listing (whose ahead/behind counts are most of
  // the time): it runs beside it, on the other core, from a plain list of local branch names.
  const [listing, head, mergedInfo] = await Promise.all([
    readGit(repo, ['for-each-ref', `--format=${BRANCH_FORMAT}`, '--end-of-options', ...patterns]),
    headState(repo),
    mergedIntoDefault(repo, patterns),
  ]);
  const now = options.now ?? Date.now();
  const branches = parseBranches(listing.stdout, now);
  if (mergedInfo.merged) for (const branch of branches) branch.merged = mergedInfo.merged.has(branch.ref);
  return { root: repo.root, head, defaultBranch: mergedInfo.defaultName, branches };
}

async function mergedIntoDefault(repo: Repo, patterns: readonly string[]): Promise<{ defaultName: string | null; merged: Set<string> | null }> {
  const { stdout } = await readGit(repo, ['for-each-ref', '--format=%(refname)', '--end-of-options', 'refs/heads']);
  const localNames = new Set(
    stdout
      .split('\n')
      .filter((line) => line.startsWith('refs/heads/'))
      .map((line) => line.slice('refs/heads/'.length)),
  );
  const defaultName = await defaultBranch(repo, localNames);
  if (defaultName === null) return { defaultName, merged: null };
  const fullRef = localNames.has(defaultName) ? `refs/heads/${defaultName}` : `refs/remotes/${defaultName}`;
  return { defaultName, merged: await mergedRefs(repo, fullRef, patterns) };
}

async function mergedRefs(repo: Repo, fullRef: string, patterns: readonly string[]): Promise<Set<string>> {
  const { stdout } = await readGit(repo, ['for-each-ref', '--format=%(refname)', `--merged=${fullRef}`, '--end-of-options', ...patterns]);
  return new Set(stdout.split('\n').filter((line) => line !== ''));
}

/** Parses BRANCH_FORMAT records; skips symbolic refs (origin/HEAD). */
export function parseBranches(stdout: string, now: number): Branch[] {
  const branches: Branch[] = [];
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const [ref = '', headMark, sha = '', shortSha = '', upstreamRef = '', track = '', unix = '0', author = '', symref = '', ...rest] =
      line.split('\0');
    if (symref !== '') continue;
    const local = ref.startsWith('refs/heads/');
    const name = local ? ref.slice('refs/heads/'.length) : ref.slice('refs/remotes/'.length);
    const date = Number(unix) * 1000;
    const { ahead, behind, gone } = parseTrack(track, upstreamRef !== '');
    branches.push({
      name,
      ref,
      kind: local ? 'local' : 'remote',
      remote: local ? null : name.slice(0, name.indexOf('/')),
      current: headMark === '*',
      upstream: upstreamRef === '' ? null : shortRef(upstreamRef),
      upstreamGone: gone,
      ahead,
      behind,
      commit: { sha, shortSha, subject: rest.join('\0'), author, date, relativeDate: relativeDate(date, now) },
      merged: null,
    });
  }
  return branches;
}

/** `%(upstream:track,nobracket)`: "", "gone", "ahead 2", "behind 3", "ahead 2, behind 3". */
export function parseTrack(track: string, hasUpstream: boolean): { ahead: number | null; behind: number | null; gone: boolean } {
  if (!hasUpstream) return { ahead: null, behind: null, gone: false };
  if (track === 'gone') return { ahead: null, behind: null, gone: true };
  const ahead = /ahead (\d+)/.exec(track);
  const behind = /behind (\d+)/.exec(track);
  return { ahead: ahead ? Number(ahead[1]) : 0, behind: behind ? Number(behind[1]) : 0, gone: false };
}

function shortRef(ref: string): string {
  if (ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length);
  if (ref.startsWith('refs/remotes/')) return ref.slice('refs/remotes/'.length);
  return ref;
}
