/**
 * Listing branches. One `git for-each-ref` gives every local and remote-tracking branch with its
 * upstream; one `git rev-list --parents` gives the commit graph and each commit's date, author and
 * subject (history.ts). The first listing of a repository reads the history after the listing,
 * from the listed tips; later ones (the view's refreshes) keep it and read only the commits they
 * have not seen. Ahead/behind and merged-into-default come from our own walk over that graph
 * (ancestry.ts): asking git for `%(upstream:track)` makes it run one revision walk per branch, most
 * of the listing's time with thousands of branches. The listing asks for no field that makes git
 * read the commit (`%(subject)`, `%(authorname)`, `%(committerdate)`): the history read inflates
 * every listed commit anyway, and formats it for ~1 µs where for-each-ref pays ~12 µs per ref.
 * All are read-profile calls.
 *
 * Git answers instead, as it did before (`%(upstream:track)`, `--merged=<default branch>`), when the
 * history is longer than the branches justify reading (HISTORY_PER_TRACKED: a long history with few
 * branches is cheaper for git, whose walks stop at the merge bases), or when something the walk
 * needs is not in the graph read (an upstream outside refs/heads and refs/remotes, a ref at a
 * non-commit). A repository found too long is remembered for the agent's lifetime: later listings
 * go straight to git, so only its first listing pays for both (at most the listing and the limit's
 * worth of commits more).
 */
import type { Branch, BranchList } from '../../../schemas/protocol/git';
import { Ancestry } from './ancestry';
import { extendHistory, readHistory, type History, type HistoryRead } from './history';
import { relativeDate } from './relative-date';
import { configValue, defaultBranchHints, headState, pickDefaultBranch, readGit, type DefaultBranchHints, type Repo } from './repo';

/** What the walk's listing asks per ref: none of these makes git read the commit. */
const REF_FIELDS = ['%(refname)', '%(HEAD)', '%(objectname)', '%(objectname:short)', '%(upstream)', '%(symref)'] as const;
/** NUL-separated fields, newline-separated records (no ref name holds a control character). */
export const REF_FORMAT = REF_FIELDS.join('%00');
/** The fallback's listing: git's ahead/behind, then the last commit's date, author and subject. */
export const TRACKED_BRANCH_FORMAT = [...REF_FIELDS, '%(upstream:track,nobracket)', '%(committerdate:unix)', '%(authorname)', '%(subject)'].join('%00');
/**
 * Commits our walk may read: a base, plus this many per branch with an upstream. Git's
 * `%(upstream:track)` costs ~55 µs per such branch on the benchmark machine and reading a commit
 * ~6 µs, so past ~8 commits per tracked branch reading the history costs more than asking git.
 */
const HISTORY_BASE = 1_000;
const HISTORY_PER_TRACKED = 8;

export interface ListOptions {
  readonly includeRemote: boolean;
  /** The clock for relative dates (tests pass a fixed one). */
  readonly now?: number;
  /** Commits our own walk may read (tests set it to exercise the fallback); by default from the ref count. */
  readonly historyLimit?: number;
}

/** Repositories (common dirs) whose history was over the default limit: later listings ask git directly. */
const largeHistories = new Set<string>();

export async function listBranches(repo: Repo, options: ListOptions): Promise<BranchList> {
  if (options.historyLimit !== undefined || !largeHistories.has(repo.commonDir)) {
    const walked = await listBranchesByWalk(repo, options);
    if (walked !== null) return walked;
  }
  return listBranchesFromGit(repo, options);
}

/** A for-each-ref record's REF_FIELDS. */
interface RefRow {
  readonly ref: string;
  readonly current: boolean;
  readonly sha: string;
  readonly shortSha: string;
  readonly upstreamRef: string;
  readonly symref: string;
}

/** A commit's date (unix seconds), author and subject, NUL-separated as git printed them. */
type CommitFields = string;

function records(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line !== '');
}

/** indexOf, not split: no array per record, and no string for the HEAD mark. */
function refRow(record: string): RefRow {
  const refEnd = fieldEnd(record, 0);
  const headEnd = fieldEnd(record, refEnd + 1);
  const shaEnd = fieldEnd(record, headEnd + 1);
  const shortEnd = fieldEnd(record, shaEnd + 1);
  const upstreamEnd = fieldEnd(record, shortEnd + 1);
  return {
    ref: record.slice(0, refEnd),
    current: record.charCodeAt(refEnd + 1) === 42 /* '*' */ && headEnd === refEnd + 2,
    sha: record.slice(headEnd + 1, shaEnd),
    shortSha: record.slice(shaEnd + 1, shortEnd),
    upstreamRef: record.slice(shortEnd + 1, upstreamEnd),
    symref: record.slice(upstreamEnd + 1, fieldEnd(record, upstreamEnd + 1)),
  };
}

function fieldEnd(record: string, from: number): number {
  if (from > record.length) return record.length;
  const end = record.indexOf('\0', from);
  return end === -1 ? record.length : end;
}

/** What follows the first `count` fields of a record (after their NULs). */
function afterFields(record: string, count: number): string {
  let at = -1;
  for (let field = 0; field < count; field++) {
    at = record.indexOf('\0', at + 1);
    if (at === -1) return '';
  }
  return record.slice(at + 1);
}

/**
 * What the last listing of a repository (by common dir) found. The next one reuses its history
 * (history.ts reads only the commits it lacks) and reads the configured default branch beside the
 * ref listing instead of after it.
 */
interface PreviousListing {
  readonly needsConfiguredDefault: boolean;
  /** Each listed ref's sha. */
  readonly shaOf: ReadonlyMap<string, string>;
  readonly history: History;
}
const previousListings = new Map<string, PreviousListing>();

/** Branches others most often start from: where a new branch's commits join the known history. */
const BASE_BRANCHES = new Set(['main', 'master', 'develop', 'origin/main', 'origin/master', 'origin/develop']);

/** The previous listing's history grown to this listing's tips when it can be, else a read of the listed tips. */
async function historyOfListing(repo: Repo, previous: PreviousListing | undefined, limit: number, rows: readonly RefRow[]): Promise<HistoryRead> {
  const tips = rows.map((row) => row.sha);
  if (previous !== undefined) {
    const stops: string[] = [];
    for (const row of rows) {
      const before = previous.shaOf.get(row.ref);
      if (before !== undefined && before !== row.sha) stops.push(before);
      if (row.current || BASE_BRANCHES.has(shortRef(row.ref))) stops.push(row.sha);
    }
    const extended = await extendHistory(repo, previous.history, tips, stops, limit);
    if (extended !== undefined) return extended;
  }
  // Not deduplicated: rev-list skips a tip it has seen for less than a Set costs here.
  return readHistory(repo, tips, limit);
}

/**
 * The listing with our own ahead/behind and merged walk; null when git must answer instead.
 * Exported, like listBranchesFromGit, for the differential test that holds the two equal.
 */
export async function listBranchesByWalk(repo: Repo, options: ListOptions): Promise<BranchList | null> {
  // Remote-tracking branches are listed even when not shown: they are the upstreams' values. The
  // listing is the longest read, so it starts first.
  const listingRead = readRefListing(repo);
  const previous = options.historyLimit === undefined ? previousListings.get(repo.commonDir) : undefined;
  const earlyHints = previous?.needsConfiguredDefault ? configuredDefault(repo) : undefined;
  // Unawaited when the listing fails or no longer needs it: never unhandled.
  earlyHints?.catch(() => undefined);
  const rows = records(await listingRead).map(refRow);
  const tracked = rows.filter((row) => row.upstreamRef !== '').length;
  const limit = options.historyLimit ?? HISTORY_BASE + HISTORY_PER_TRACKED * tracked;
  // HEAD and origin/HEAD come from the listing when it shows them (each git process costs ~15 ms
  // here, reading the config of 5,000 branches); else as repo.ts reads them, beside the history.
  const current = rows.find((row) => row.current);
  const originHead = rows.find((row) => row.ref === 'refs/remotes/origin/HEAD')?.symref ?? '';
  // init.defaultBranch only matters without origin/HEAD. The listing shows origin/HEAD whenever
  // `git symbolic-ref` would, but when its target is gone: then it is ignored, as the listing does.
  const needsConfiguredDefault = !originHead.startsWith('refs/remotes/origin/');
  const [read, head, hints] = await Promise.all([
    historyOfListing(repo, previous, limit, rows),
    current === undefined ? headState(repo) : ({ kind: 'branch', name: current.ref.slice('refs/heads/'.length), sha: current.sha } as const),
    needsConfiguredDefault ? (earlyHints ?? configuredDefault(repo)) : { originHead, configured: undefined },
  ]);
  const shaOf = new Map(rows.map((row) => [row.ref, row.sha]));
  if (options.historyLimit === undefined) {
    if (typeof read === 'string') previousListings.delete(repo.commonDir);
    else previousListings.set(repo.commonDir, { needsConfiguredDefault, shaOf, history: read });
    if (read === 'too-large') largeHistories.add(repo.commonDir);
  }
  if (typeof read === 'string') return null;
  const history = read.parsed;
  const ancestry = new Ancestry(history.graph);
  const localNames = { has: (name: string): boolean => shaOf.has(`refs/heads/${name}`) };
  const defaultName = pickDefaultBranch(hints, localNames);

  let mergedInto: Uint8Array | null = null;
  if (defaultName !== null) {
    const defaultSha = shaOf.get(localNames.has(defaultName) ? `refs/heads/${defaultName}` : `refs/remotes/${defaultName}`);
    const defaultId = defaultSha === undefined ? undefined : ancestry.id(defaultSha);
    if (defaultId === undefined) return null;
    mergedInto = ancestry.reachableFrom(defaultId);
  }

  const now = options.now ?? Date.now();
  const branches: Branch[] = [];
  for (const row of rows) {
    if (row.symref !== '') continue;
    const local = row.ref.startsWith('refs/heads/');
    if (!local && !options.includeRemote) continue;
    const id = ancestry.id(row.sha);
    if (id === undefined) return null;
    let ahead: number | null = null;
    let behind: number | null = null;
    let gone = false;
    if (row.upstreamRef !== '') {
      if (!row.upstreamRef.startsWith('refs/heads/') && !row.upstreamRef.startsWith('refs/remotes/')) return null;
      const upstreamSha = shaOf.get(row.upstreamRef);
      if (upstreamSha === undefined) {
        gone = true;
      } else {
        const upstreamId = ancestry.id(upstreamSha);
        if (upstreamId === undefined) return null;
        ({ ahead, behind } = ancestry.aheadBehind(id, upstreamId));
      }
    }
    const branch = toBranch(row, history.formatted(id), { ahead, behind, gone }, now);
    if (mergedInto !== null) branch.merged = mergedInto[id] === 1;
    branches.push(branch);
  }
  return { root: repo.root, head, defaultBranch: defaultName, branches };
}

/**
 * REF_FORMAT records of refs/heads then refs/remotes, as one `for-each-ref` of both would print
 * them (it sorts by refname, and every refs/heads/ name sorts before refs/remotes/). Two processes,
 * one per prefix, on both cores: with loose refs git spends most of a listing on one lstat, open,
 * read and close per ref file (10,000 loose refs: 210 ms in one process, 145 ms in two), and with
 * packed refs each seeks to its prefix, so the split costs nothing there (80 ms either way).
 */
async function readRefListing(repo: Repo): Promise<string> {
  const refsUnder = (prefix: string): Promise<string> =>
    readGit(repo, ['for-each-ref', `--format=${REF_FORMAT}`, '--end-of-options', prefix]).then((read) => read.stdout);
  const [heads, remotes] = await Promise.all([refsUnder('refs/heads'), refsUnder('refs/remotes')]);
  return heads + remotes;
}

async function configuredDefault(repo: Repo): Promise<DefaultBranchHints> {
  return { originHead: '', configured: await configValue(repo, 'init.defaultBranch') };
}

/** The listing as git computes it: `%(upstream:track)` per branch, `--merged` for the merged check. */
export async function listBranchesFromGit(repo: Repo, options: ListOptions): Promise<BranchList> {
  const patterns = options.includeRemote ? ['refs/heads', 'refs/remotes'] : ['refs/heads'];
  // The merged-or-not check does not need the full listing (whose ahead/behind counts are most of
  // the time): it runs beside it, on the other core, from a plain list of local branch names.
  const [listing, head, mergedInfo] = await Promise.all([
    readGit(repo, ['for-each-ref', `--format=${TRACKED_BRANCH_FORMAT}`, '--end-of-options', ...patterns]),
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
  const hints = await defaultBranchHints(repo);
  let defaultName = pickDefaultBranch(hints, localNames);
  if (defaultName !== null && !localNames.has(defaultName) && !(await commitExists(repo, `refs/remotes/${defaultName}`))) {
    // origin/HEAD names a branch the remote deleted: decided as if it were absent (as the walk
    // does), since `--merged` of a missing ref fails the whole listing.
    defaultName = pickDefaultBranch({ ...hints, originHead: '' }, localNames);
  }
  if (defaultName === null) return { defaultName, merged: null };
  const fullRef = localNames.has(defaultName) ? `refs/heads/${defaultName}` : `refs/remotes/${defaultName}`;
  return { defaultName, merged: await mergedRefs(repo, fullRef, patterns) };
}

async function commitExists(repo: Repo, fullRef: string): Promise<boolean> {
  const { stdout } = await readGit(repo, ['rev-parse', '-q', '--verify', '--end-of-options', `${fullRef}^{commit}`], { okCodes: [1] });
  return stdout.trim() !== '';
}

async function mergedRefs(repo: Repo, fullRef: string, patterns: readonly string[]): Promise<Set<string>> {
  const { stdout } = await readGit(repo, ['for-each-ref', '--format=%(refname)', `--merged=${fullRef}`, '--end-of-options', ...patterns]);
  return new Set(stdout.split('\n').filter((line) => line !== ''));
}

/** Parses TRACKED_BRANCH_FORMAT records (git's ahead/behind); skips symbolic refs (origin/HEAD). */
export function parseBranches(stdout: string, now: number): Branch[] {
  const branches: Branch[] = [];
  for (const record of records(stdout)) {
    const row = refRow(record);
    if (row.symref !== '') continue;
    const [track = ''] = afterFields(record, REF_FIELDS.length).split('\0', 1);
    branches.push(toBranch(row, afterFields(record, REF_FIELDS.length + 1), parseTrack(track, row.upstreamRef !== ''), now));
  }
  return branches;
}

function toBranch(row: RefRow, commit: CommitFields, track: { ahead: number | null; behind: number | null; gone: boolean }, now: number): Branch {
  const local = row.ref.startsWith('refs/heads/');
  const name = local ? row.ref.slice('refs/heads/'.length) : row.ref.slice('refs/remotes/'.length);
  const { unix, author, subject } = commitFields(commit);
  const date = Number(unix) * 1000;
  return {
    name,
    ref: row.ref,
    kind: local ? 'local' : 'remote',
    remote: local ? null : name.slice(0, name.indexOf('/')),
    current: row.current,
    upstream: row.upstreamRef === '' ? null : shortRef(row.upstreamRef),
    upstreamGone: track.gone,
    ahead: track.ahead,
    behind: track.behind,
    commit: { sha: row.sha, shortSha: row.shortSha, subject, author, date, relativeDate: relativeDate(date, now) },
    merged: null,
  };
}

/** indexOf, not split and a rest pattern: 10× faster, and this runs per branch. */
function commitFields(commit: CommitFields): { unix: string; author: string; subject: string } {
  const afterUnix = commit.indexOf('\0');
  if (afterUnix === -1) return { unix: commit, author: '', subject: '' };
  const afterAuthor = commit.indexOf('\0', afterUnix + 1);
  if (afterAuthor === -1) return { unix: commit.slice(0, afterUnix), author: commit.slice(afterUnix + 1), subject: '' };
  // Should a subject ever hold a NUL, the rest is still the subject.
  return { unix: commit.slice(0, afterUnix), author: commit.slice(afterUnix + 1, afterAuthor), subject: commit.slice(afterAuthor + 1) };
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
